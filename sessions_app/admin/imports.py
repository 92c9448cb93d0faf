"""The admin's CSV imports: the upload checks the file and queues an import job
(``sessions_app.transfer.imports``), whose page shows the progress and then the report; a failed
import's page offers to resume it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from sessions_app.admin.scoping import events_for
from sessions_app.enums import MemberRole
from sessions_app.models import ImportJob
from sessions_app.transfer import imports

# How often the page of an unfinished import updates itself (job_progress.js), in seconds.
REFRESH_SECONDS = 2
# How many of the latest imports the page lists, so that one left running can be found again.
RECENT = 10


def import_page(model_admin, request, *, kind: str, form_class, title: str, job_id=None):
    """The upload form; after an upload, the page of its job (``job_id``): progress while
    the worker imports, then the report, and the form again for the next file."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    opts = model_admin.opts
    job_url_name = f"admin:{opts.app_label}_{opts.model_name}_import_job"
    events = events_for(request, MemberRole.ORGANISER)
    job = None
    if job_id is not None:
        # Not the rows (up to 5 MB of JSON) on every reload of a running import's page.
        job = get_object_or_404(
            ImportJob.objects.select_related("event").defer("rows"),
            pk=job_id,
            kind=kind,
            event__in=events,
        )
    if request.method == "POST" and job is not None and "resume" in request.POST:
        if imports.resume_import(job):
            messages.success(request, "The import is queued again; it goes on with the next row.")
        else:
            messages.warning(request, "The import was not failed: it has been resumed already.")
        return redirect(job_url_name, job.pk)
    form = form_class(
        request.POST or None,
        request.FILES or None,
        events=events,
        initial={"event": job.event_id} if job is not None else None,  # the next file's
    )
    if request.method == "POST" and form.is_valid():
        job = imports.queue_import(
            kind=kind,
            event=form.cleaned_data["event"],
            rows=form.cleaned_data["file"],
            user=request.user,
        )
        return redirect(job_url_name, job.pk)
    recent = (
        ImportJob.objects.filter(kind=kind, event__in=events)
        .select_related("event", "created_by")
        .defer("rows", "report")[:RECENT]
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "form": form,
        "job": job,
        "recent": recent,
        "job_url_name": job_url_name,
        "refresh_seconds": REFRESH_SECONDS if job is not None and not job.finished else None,
    }
    return TemplateResponse(
        request, f"admin/{opts.app_label}/{opts.model_name}/import.html", context
    )
