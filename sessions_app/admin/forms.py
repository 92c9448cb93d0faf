"""Admin forms that write through the services.

The form's validation *is* the write: once the fields are well formed, ``_post_clean``
calls the service inside the admin's transaction, and whatever the service refuses
(a rule, a clash, a stale version) comes back as errors on the form's fields. So there is
one validation, one lock, one history entry, and a race lost between "check" and "save"
can never become a 500. The ModelAdmin's ``save_model`` then has nothing left to do.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from sessions_app import services
from sessions_app.enums import SessionStatus
from sessions_app.exceptions import StaleVersionError
from sessions_app.models import CustomField, Event, Session
from sessions_app.wire.custom_fields import (
    CUSTOM_PREFIX,
    custom_form_name,
    custom_initial,
    custom_wire_value,
)

# Model fields the form may send to the services, by form name → service name.
SERVICE_NAMES = {
    name: name for name in services.SESSION_WRITABLE_FIELDS if not name.endswith(("_id", "_ids"))
} | {
    "location": "location_id",
    "track": "track_id",
    "session_type": "session_type_id",
    "speakers": "speaker_ids",
}


def timezone_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(name, name) for name in sorted(zoneinfo.available_timezones())]


# --- errors from the services onto the form -------------------------------------------------


# A clash names each session with a link to it; the lead sentence depends on the field, and
# on whether the clash is a speaker's (the service names them in params["speakers"]).
CONFLICT_LEADS = {
    "location": "This location is already booked at this time by {links}.",
    "timezone": "In this time zone these sessions would overlap in their locations: {links}.",
}
SPEAKER_CONFLICT_LEAD = (
    "In this time zone {speakers} would speak in two of these sessions at once: {links}."
)


def conflict_message(error: ValidationError, field: str) -> str:
    params = error.params or {}
    conflicts = params.get("conflicts") or []
    speakers = params.get("speakers") or []
    lead = SPEAKER_CONFLICT_LEAD if speakers else CONFLICT_LEADS[field]
    links = format_html_join(
        ", ",
        '<a href="{}">“{}” (#{})</a>',
        (
            (reverse("admin:sessions_app_session_change", args=[c["id"]]), c["name"], c["id"])
            for c in conflicts
            if c.get("id") is not None
        ),
    )
    if not links:
        return next(iter(error))
    return format_html(lead, links=links, speakers=", ".join(speakers))


class ServiceErrorsMixin:
    """Puts a service's ``ValidationError`` on the matching form fields."""

    field_aliases: dict[str, str] = {}

    def target_field(self, field: str, error: ValidationError) -> str | None:
        field = self.field_aliases.get(field, field)
        return field if field in self.fields else None

    def add_service_errors(self, exc: ValidationError) -> None:
        for field, errors in exc.update_error_dict({}).items():
            for error in errors:
                message = next(iter(error))
                if error.code == "conflict" and field in CONFLICT_LEADS:
                    message = conflict_message(error, field)
                target = None if field == NON_FIELD_ERRORS else self.target_field(field, error)
                self.add_error(target, ValidationError(message, code=error.code))


# --- the session form --------------------------------------------------------------------------


class SessionAdminForm(ServiceErrorsMixin, forms.ModelForm):
    """Session form; ``SessionAdmin.get_form`` subclasses it with the event, the actor and the
    event's custom fields as declared fields."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    event: Event
    actor: services.Actor
    custom_definitions: list[CustomField] = []

    class Meta:
        model = Session
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        length = self.fields.get("duration_minutes")
        if length is not None:
            length.required = False
            length.help_text = (
                "Minutes. Left empty, or when only the times change, it follows the times; "
                "without times, the session type's length."
            )
            if self.instance.pk is None:
                self.initial["duration_minutes"] = None
        if self.instance.pk:
            self.initial["loaded_version"] = self.instance.version
            self.fields["loaded_version"].required = True
            if "speakers" in self.fields:
                self.initial["speakers"] = list(self.instance.speaker_ids or [])
            stored = self.instance.custom_fields or {}
            for definition in self.custom_definitions:
                self.initial[custom_form_name(definition)] = custom_initial(
                    definition, stored.get(definition.key)
                )

    def target_field(self, field: str, error: ValidationError) -> str | None:
        if field == "custom_fields":
            key = (error.params or {}).get("key", "")
            name = CUSTOM_PREFIX + key.removeprefix("c_")
            return name if name in self.fields else None
        if field == "session_status":
            return None
        if field == "speaker_ids":
            return "speakers" if "speakers" in self.fields else None
        return super().target_field(field, error)

    def service_data(self) -> dict[str, Any]:
        """What to send: on create every field, on change only what the user changed."""
        creating = self.instance.pk is None
        names = self.fields if creating else self.changed_data
        data = {
            SERVICE_NAMES[name]: self.cleaned_data[name]
            for name in names
            if name in SERVICE_NAMES and name in self.cleaned_data
        }
        for key in ("location_id", "track_id", "session_type_id"):
            if key in data and data[key] is not None:
                data[key] = data[key].pk
        if data.get("duration_minutes") is None:
            data.pop("duration_minutes", None)  # left empty: from the times or the type
        if creating and not data.get("speaker_ids"):
            data.pop("speaker_ids", None)
        patch = {}
        for definition in self.custom_definitions:
            name = custom_form_name(definition)
            if creating or name in self.changed_data:
                value = custom_wire_value(definition, self.cleaned_data.get(name))
                if value is not None or not creating:
                    patch[definition.key] = value
        # Values of fields the event no longer defines would block every save: drop them.
        defined = {definition.key for definition in self.custom_definitions}
        for key in self.instance.custom_fields or {}:
            if key not in defined:
                patch[key] = None
        if patch:
            data["custom_fields"] = patch
        return data

    def _post_clean(self) -> None:
        if self._errors:
            return
        data = self.service_data()
        try:
            if self.instance.pk is None:
                self.instance = services.session_create(
                    event=self.event, data=data, actor=self.actor
                )
            elif data:
                self.instance = services.session_update(
                    session_id=self.instance.pk,
                    data=data,
                    actor=self.actor,
                    expected_version=self.cleaned_data.get("loaded_version"),
                )
        except StaleVersionError as exc:
            self.add_error(None, stale_error(self.instance, exc))
        except ValidationError as exc:
            self.add_service_errors(exc)


def stale_error(session: Session, exc: StaleVersionError) -> ValidationError:
    url = reverse("admin:sessions_app_session_change", args=[session.pk])
    return ValidationError(
        format_html(
            "Someone else saved this session while you were editing it (your page shows "
            "version {}, it is now at version {}). Nothing of yours was saved. "
            '<a href="{}">Reload the page</a> to see their changes, then make yours again.',
            exc.expected,
            exc.current,
            url,
        ),
        code="stale",
    )


class StatusMoveForm(forms.Form):
    """What a status button posts: the move, an optional note, the version the page showed."""

    status = forms.ChoiceField(choices=SessionStatus.choices)
    note = forms.CharField(max_length=2000, required=False)
    version = forms.IntegerField(min_value=1, required=False)


# --- the event form ----------------------------------------------------------------------------


class EventAdminForm(ServiceErrorsMixin, forms.ModelForm):
    """Changes go through ``services.event_update`` (a new zone moves the sessions with it)."""

    actor: services.Actor

    class Meta:
        model = Event
        fields = [
            "organisation",
            "name",
            "slug",
            "timezone",
            "start_date",
            "end_date",
            "hold_messages",
            "proposed_programme",
            "interest_on_publish",
            "embed_origins",
        ]
        widgets = {
            "timezone": forms.Select(choices=timezone_choices()),
            "embed_origins": forms.Textarea(attrs={"rows": 3}),
        }

    def target_field(self, field: str, error: ValidationError) -> str | None:
        # The service names start_date for sessions outside the dates; point at the date moved.
        if error.code == "sessions_outside_event" and "start_date" not in self.changed_data:
            return "end_date"
        return super().target_field(field, error)

    def _post_clean(self) -> None:
        if self.instance.pk is None:
            super()._post_clean()
            return
        if self._errors:
            return
        slug = self.cleaned_data.get("slug")
        taken = (
            Event.objects.filter(organisation_id=self.instance.organisation_id, slug=slug)
            .exclude(pk=self.instance.pk)
            .exists()
        )
        if taken:
            self.add_error("slug", "Another event of this organisation already uses this slug.")
            return
        data = {
            name: self.cleaned_data[name]
            for name in self.changed_data
            if name in services.EVENT_WRITABLE_FIELDS
        }
        if not data:
            return
        try:
            self.instance = services.event_update(
                event_id=self.instance.pk, data=data, actor=self.actor
            )
        except ValidationError as exc:
            self.add_service_errors(exc)
