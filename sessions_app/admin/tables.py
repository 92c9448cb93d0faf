"""The session list as CSV or Excel (what the list shows, with its filters and search),
and CSV import through the session services (run by the worker) with a report per row."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from sessions_app import tabular
from sessions_app.enums import ImportKind
from sessions_app.models import Event

from .imports import import_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The most sessions one export writes: on a 2-core machine 10,000 took 2.6 s as CSV and
# 7.2 s as Excel, and the app server stops a request (streamed or not) after 30 s.
EXPORT_MAX_ROWS = {"csv": 50_000, "xlsx": 20_000}


def export_view(model_admin, request, fmt: str):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    changelist = model_admin.get_changelist_instance(request)
    sessions = changelist.get_queryset(request)
    limit = EXPORT_MAX_ROWS[fmt]
    if sessions[: limit + 1].count() > limit:
        # A file is written within one request, which the app server ends after 30 s.
        messages.error(
            request,
            f"The list holds more than {limit:,} sessions, the most one {fmt.upper()} export "
            "takes. Narrow it (an event, a day, a status) and export again"
            + (", or export CSV." if fmt == "xlsx" else "."),
        )
        return redirect(
            f"{reverse('admin:sessions_app_session_changelist')}?{request.GET.urlencode()}"
        )
    event_ids = sessions.order_by().values_list("event_id", flat=True).distinct()
    definitions = tabular.custom_columns(event_ids)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        response = HttpResponse(tabular.xlsx_bytes(sessions, definitions), content_type=XLSX)
    else:
        response = StreamingHttpResponse(
            tabular.csv_lines(sessions, definitions), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="sessions-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


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
