"""The session list as CSV or Excel (what the list shows, with its filters and search;
a list too long for a request written by the worker), and CSV import through the session
services (run by the worker) with a report per row."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from sessions_app.admin.imports import import_page
from sessions_app.admin.scoping import visible_event_ids
from sessions_app.enums import ExportFormat, ImportKind, JobState
from sessions_app.models import Event, ExportJob
from sessions_app.selectors import blind_event_ids
from sessions_app.transfer import exports, tabular

CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The most sessions one download writes within its request: on a 2-core machine 10,000
# took 2.6 s as CSV and 7.2 s as Excel, and the app server stops a request (streamed or
# not) after 30 s. A longer list is written by the background worker
# (sessions_app.transfer.exports).
EXPORT_MAX_ROWS = {ExportFormat.CSV: 50_000, ExportFormat.XLSX: 20_000}
# The most the worker writes into one file (Excel sheets end at 1,048,576 rows).
BACKGROUND_MAX_ROWS = 1_000_000
# How often the page of an unfinished export updates itself (job_progress.js), in seconds.
REFRESH_SECONDS = 2


def export_view(model_admin, request, fmt: str):
    """The list as a file: downloaded at once, or, when it is longer than a request can
    write, a page that offers to write it in the background (a POST queues that)."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:  # a filter the list does not know: as the list says it
        return HttpResponseRedirect(reverse("admin:sessions_app_session_changelist") + "?e=1")
    sessions = changelist.get_queryset(request)
    limit = EXPORT_MAX_ROWS[fmt]
    event_ids = sessions.order_by().values_list("event_id", flat=True).distinct()
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    filename = f"sessions-{stamp}.{fmt}"
    if sessions[: limit + 1].count() > limit:
        if request.method == "POST":
            ids = list(sessions.values_list("pk", flat=True)[: BACKGROUND_MAX_ROWS + 1])
            if len(ids) > BACKGROUND_MAX_ROWS:
                messages.error(
                    request,
                    f"The list holds more than {BACKGROUND_MAX_ROWS:,} sessions, the most one "
                    "export takes. Narrow it (an event, a day, a status) and export again.",
                )
                return redirect(_list_url(request))
            job = exports.queue_export(
                user=request.user,
                file_format=fmt,
                session_ids=ids,
                event_ids=list(event_ids),
                filename=filename,
            )
            return redirect("admin:sessions_app_session_export_job", job.pk)
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": f"Export {ExportFormat(fmt).label}",
            "count": sessions.count(),
            "limit": limit,
            "format_label": ExportFormat(fmt).label,
            "list_url": _list_url(request),
            "recent": _recent_exports(request),
        }
        return TemplateResponse(request, "admin/sessions_app/session/export.html", context)
    definitions = tabular.custom_columns(event_ids)
    rows = tabular.hide_speakers(tabular.export_rows(sessions), blind_event_ids(request.user))
    if fmt == ExportFormat.XLSX:
        response = HttpResponse(tabular.xlsx_bytes(rows, definitions))
    else:
        response = StreamingHttpResponse(tabular.csv_lines(rows, definitions))
    return _attachment(response, fmt, filename)


def _list_url(request) -> str:
    return f"{reverse('admin:sessions_app_session_changelist')}?{request.GET.urlencode()}"


def _attachment(response, fmt: str, filename: str):
    response["Content-Type"] = CONTENT_TYPES[fmt]
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _recent_exports(request):
    return ExportJob.objects.filter(created_by=request.user).defer("session_ids", "content")[:10]


def _own_export(request, job_id: int, *, fields=("session_ids", "content")):
    """The user's own export (nobody else's, a superuser's neither: the file is theirs),
    while they may still see every event in it."""
    job = get_object_or_404(ExportJob.objects.defer(*fields), pk=job_id, created_by=request.user)
    if not set(job.event_ids) <= set(visible_event_ids(request)):
        raise Http404("No such export.")
    return job


def export_job_view(model_admin, request, job_id: int):
    """An export's page: its progress while the worker writes it, then its file."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    job = _own_export(request, job_id)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Export {job.get_file_format_display()}",
        "job": job,
        "recent": _recent_exports(request),
        "refresh_seconds": None if job.finished else REFRESH_SECONDS,
        "keep_hours": settings.EXPORTS["KEEP_HOURS"],
    }
    return TemplateResponse(request, "admin/sessions_app/session/export.html", context)


def export_file_view(model_admin, request, job_id: int):
    """The file an export wrote, for the user who asked for it."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    job = _own_export(request, job_id, fields=("session_ids",))
    if job.state != JobState.DONE:
        raise Http404("The export has no file (yet).")
    return _attachment(HttpResponse(bytes(job.content)), job.file_format, job.filename)


class SessionImportForm(forms.Form):
    event = forms.ModelChoiceField(queryset=Event.objects.none())
    file = forms.FileField(
        help_text=(
            "A CSV as the export writes it (UTF-8, header row). Rows with an id update that "
            "session of the event, rows without one create a session; an empty cell clears "
            "the value. Every row is checked as if saved by hand. The background worker "
            "imports the file; its page shows the progress, then the report."
        )
    )

    def __init__(self, *args, events=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].queryset = events

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > tabular.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {tabular.IMPORT_MAX_BYTES // 1024 // 1024} MB."
            )
        try:
            return tabular.read_csv(upload.read())
        except tabular.FileRefused as exc:
            raise forms.ValidationError(str(exc)) from None


def import_view(model_admin, request, job_id=None):
    return import_page(
        model_admin,
        request,
        kind=ImportKind.SESSIONS,
        form_class=SessionImportForm,
        title="Import sessions from CSV",
        job_id=job_id,
    )
