"""How a session is represented on the wire: the API's answers, the webhook payloads and the
exported files' columns share these fields and their formats.

Below the doors (``api``) and the concerns that speak the same format (``webhooks``,
``transfer``), so none of them reads it from another.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from sessions_app.enums import SelectionControl, SessionStatus

# The session's flags: answered as 0 and 1, accepted as 0/1, true/false, "0"/"1".
FLAG_FIELDS = frozenset(
    {
        "use_event_timezone",
        "locked_when_saved",
        "selected_by_default",
        "prevent_session_conflicts",
        "pinned",
    }
)
FLAG_SCHEMA = {"type": "integer", "minimum": 0, "maximum": 1, "description": "0 or 1."}
FLAG_INPUT_SCHEMA = {
    "oneOf": [
        {"type": "integer", "minimum": 0, "maximum": 1},
        {"type": "boolean"},
        {"type": "string", "enum": ["0", "1", "true", "false"]},
    ],
    "description": '0 or 1; true/false and "0"/"1"/"true"/"false" are accepted too.',
}
CUSTOM_VALUE_SCHEMA = {
    "oneOf": [
        {"type": "string"},
        {"type": "number"},
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "integer"}},
                "required": ["id"],
                "additionalProperties": False,
            },
        },
    ],
    "nullable": True,
}
CUSTOM_FIELDS_SCHEMA = {
    "type": "object",
    "description": (
        "Keys are c_<custom field id>. Text, textarea, url and date (YYYY-MM-DD) are strings, "
        'number a number, checkbox 0 or 1, dropdown [{"id": N}] with one choice, multiselect '
        'a list of {"id": N}. A write merges by key; null clears a key.'
    ),
    "additionalProperties": CUSTOM_VALUE_SCHEMA,
    "example": {"c_1001": "Value1", "c_1002": [{"id": 123}]},
}


def utc_iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@extend_schema_field(FLAG_SCHEMA)
class FlagField(serializers.Field):
    def to_representation(self, value):
        return 1 if value else 0


@extend_schema_field({"type": "string", "format": "date-time", "example": "2030-06-10T08:00:00Z"})
class UtcDateTimeField(serializers.Field):
    def to_representation(self, value):
        return utc_iso(value)


@extend_schema_field(
    {"type": "string", "format": "date-time", "nullable": True, "example": "2030-06-10T08:00:00Z"}
)
class NullableUtcDateTimeField(UtcDateTimeField):
    """A UTC instant that may be unset (null)."""


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "nullable": True,
        "example": "2030-06-10T10:00:00+02:00",
    }
)
class ZonedInstantField(serializers.Field):
    """``starts_at``/``ends_at`` with the offset of the session's effective time zone."""

    def get_attribute(self, instance):
        return instance

    def to_representation(self, session):
        value = session.in_effective_zone(getattr(session, self.source_attr))
        return value.isoformat() if value is not None else None

    def bind(self, field_name, parent):
        super().bind(field_name, parent)
        self.source_attr = field_name


@extend_schema_field({"type": "string", "nullable": True, "example": "Europe/Berlin"})
class NullableTextField(serializers.Field):
    def to_representation(self, value):
        return value or None


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$",
        "nullable": True,
        "example": "10:00:00",
        "description": "HH:MM:SS local time (RFC 3339 'time' would need an offset).",
    }
)
class TimeOfDayField(serializers.Field):
    def to_representation(self, value):
        return value.strftime("%H:%M:%S") if value is not None else None


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer"},
        "description": "The session's speakers (of its event), in billing order.",
        "example": [3, 7],
    }
)
class SpeakerIdsField(serializers.Field):
    def get_attribute(self, instance):
        return list(instance.speaker_ids or [])

    def to_representation(self, value):
        return value


def speaker_confirmations(session) -> dict[str, str]:
    """Each speaker's answer by speaker id: confirmed, declined or unconfirmed."""
    answers = session.speaker_confirmations or {}
    return {str(pk): answers.get(str(pk), "unconfirmed") for pk in session.speaker_ids or []}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "type": "string",
            "enum": ["confirmed", "declined", "unconfirmed"],
        },
        "description": "Each speaker's answer, by speaker id, once the session is approved: "
        "will they come (confirmed), or not (declined: the session is withdrawn).",
        "example": {"3": "confirmed", "7": "unconfirmed"},
    }
)
class SpeakerConfirmationsField(serializers.Field):
    def get_attribute(self, instance):
        return speaker_confirmations(instance)

    def to_representation(self, value):
        return value


@extend_schema_field(CUSTOM_FIELDS_SCHEMA)
class CustomValuesField(serializers.Field):
    def to_representation(self, value):
        return dict(value or {})


class FlatOutputSerializer(serializers.Serializer):
    """An answer-only serializer of flat fields, its fields bound once per class.

    DRF deep-copies (re-instantiates) and binds every declared field for every serializer
    instance, and a list does so for every row: most of the cost of answering sessions.
    Output fields keep no state but their binding, which is the same for every instance, so
    each class binds its fields once and answers with them. A ``SerializerMethodField``
    calls the method of the serializer answering now (whose context has the request). Not
    for nested serializers.
    """

    _bound_by_class: ClassVar[dict[type, list[tuple[str, serializers.Field, str | None]]]] = {}

    def get_fields(self):
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    @classmethod
    def _bound_fields(cls) -> list[tuple[str, serializers.Field, str | None]]:
        bound = FlatOutputSerializer._bound_by_class.get(cls)
        if bound is None:
            bound = [
                (name, field, getattr(field, "method_name", None))
                for name, field in cls().fields.items()
                if not field.write_only
            ]
            FlatOutputSerializer._bound_by_class[cls] = bound
        return bound

    def to_representation(self, instance):
        answer = {}
        for name, field, method_name in self._bound_fields():
            if method_name is not None:
                answer[name] = getattr(self, method_name)(instance)
                continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            answer[name] = None if attribute is None else field.to_representation(attribute)
        return answer


class SessionSerializer(FlatOutputSerializer):
    id = serializers.IntegerField(help_text="Unique identifier for the session.")
    event_id = serializers.IntegerField(help_text="ID of the event of this session.")
    name = serializers.CharField(help_text="Title or name of the session, 1-255 characters.")
    admin_short_name = serializers.CharField(help_text="Short name for internal use, ≤100.")
    badge_name = serializers.CharField(help_text="Display name on attendee badges, ≤100.")
    description = serializers.CharField(help_text="Detailed description, ≤20,000.")
    date = serializers.DateField(allow_null=True, help_text="Within the event's dates.")
    start_time = TimeOfDayField(help_text="Local start time in the effective time zone.")
    end_time = TimeOfDayField(help_text="Local end time, after the start, same day.")
    use_event_timezone = FlagField(help_text="1: the event's time zone applies.")
    timezone = NullableTextField(help_text="IANA zone; required when use_event_timezone is 0.")
    starts_at = ZonedInstantField(help_text="The absolute start, in the effective zone.")
    ends_at = ZonedInstantField(help_text="The absolute end, in the effective zone.")
    capacity = serializers.IntegerField(
        allow_null=True, help_text="0-1,000,000; null means unlimited."
    )
    location_id = serializers.IntegerField(allow_null=True)
    track_id = serializers.IntegerField(allow_null=True)
    session_type_id = serializers.IntegerField(
        allow_null=True, help_text="One of the event's session types (GET /session-types)."
    )
    duration_minutes = serializers.IntegerField(
        help_text="Length in minutes, 1-1,440: from the session type unless sent, from the "
        "times when they are sent without it; a placed session's times run exactly this long."
    )
    webinar_url = serializers.CharField(help_text="http(s) URL or empty.")
    sold_out_message = serializers.CharField(help_text="Shown when sold out, ≤500.")
    secure_id = serializers.CharField(help_text="Unguessable, URL-safe; never changes.")
    session_status = serializers.ChoiceField(choices=SessionStatus.choices)
    locked_when_saved = FlagField()
    selection_control = serializers.ChoiceField(choices=SelectionControl.choices)
    selected_by_default = FlagField()
    prevent_session_conflicts = FlagField()
    pinned = FlagField(help_text="1: schedule suggestions leave it where it is.")
    custom_fields = CustomValuesField()
    speaker_ids = SpeakerIdsField()
    speaker_confirmations = SpeakerConfirmationsField()
    times_with_timezone = serializers.SerializerMethodField(
        help_text='e.g. "10:00 AM - 12:00 PM (CET)", in the effective zone; null unscheduled.'
    )
    direct_link = serializers.SerializerMethodField(
        help_text="The session's public page on the agenda; null unless live."
    )
    seats_taken = serializers.IntegerField(help_text="Registrants holding a seat.")
    waitlist_count = serializers.IntegerField(help_text="Registrants waiting for a seat.")
    interest_count = serializers.IntegerField(
        help_text="Registrants interested in it while it is approved and not yet live (no "
        "seat held); at publication these become seats or are told, by the event's setting."
    )
    version = serializers.IntegerField(
        help_text="Goes up by one on every change of the session's fields (not on selections)."
    )
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    def get_times_with_timezone(self, session) -> str | None:
        return times_with_timezone(session)

    def get_direct_link(self, session) -> str | None:
        if session.session_status != SessionStatus.LIVE or session.pk is None:
            return None
        event = session.event
        path = reverse("agenda:session", args=[event.organisation.slug, event.slug, session.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


def session_state(session) -> dict:
    """The session as the API answers it, with an absolute ``direct_link`` (``SITE_URL``).

    What a history entry keeps of the session it changed (``SessionChange.state``), which
    is what that change's webhook says.
    """
    data = dict(SessionSerializer(session).data)
    if isinstance(data.get("direct_link"), str) and data["direct_link"].startswith("/"):
        data["direct_link"] = settings.SITE_URL.rstrip("/") + data["direct_link"]
    return data


def _clock(moment: dt.datetime) -> str:
    return moment.strftime("%I:%M %p").lstrip("0")


def times_with_timezone(session) -> str | None:
    """As the vendor answers it: ``"10:00 AM - 12:00 PM (CET)"``."""
    starts_at = session.in_effective_zone(session.starts_at)
    ends_at = session.in_effective_zone(session.ends_at)
    if starts_at is None or ends_at is None:
        return None
    return f"{_clock(starts_at)} - {_clock(ends_at)} ({starts_at.strftime('%Z')})"
