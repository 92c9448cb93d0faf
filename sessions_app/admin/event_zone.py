"""Forms whose times are in their event's time zone (a call's window, a review window)."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils import timezone

from sessions_app import validators
from sessions_app.admin.scoping import events_for


def moment_field(label: str) -> forms.DateTimeField:
    """One labelled input (the browser's date and time picker), not the admin's split pair."""
    return forms.DateTimeField(
        label=label,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the event's time zone.",
    )


class EventZoneMixin:
    """A ModelAdmin of a model with an ``event``: its form reads and shows times in the
    event's zone (the saved object's event, or the one chosen on an add form)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        event = None
        if object_id:
            obj = self.get_object(request, object_id)
            event = obj.event if obj is not None else None
        else:
            raw = request.POST.get("event") or request.GET.get("event")
            event_id = validators.ascii_int(raw) if raw else None
            if event_id is not None:
                event = events_for(request).filter(pk=event_id).first()
        if event is not None and validators.is_valid_timezone(event.timezone):
            with timezone.override(zoneinfo.ZoneInfo(event.timezone)):
                return super().changeform_view(request, object_id, form_url, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)
