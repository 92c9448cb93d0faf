"""How objects are answered, and how bodies are described in the OpenAPI schema.

Output only: request bodies are read by ``wire.session_input`` and checked by the services.
The ``*Body`` serializers exist so the schema documents exactly what ``wire`` accepts.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import ClassVar

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from sessions_app.enums import ACTION_LABELS, SelectionControl, SessionStatus

FLAG_FIELDS = frozenset(
    {"use_event_timezone", "locked_when_saved", "selected_by_default", "prevent_session_conflicts"}
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
    webinar_url = serializers.CharField(help_text="http(s) URL or empty.")
    sold_out_message = serializers.CharField(help_text="Shown when sold out, ≤500.")
    secure_id = serializers.CharField(help_text="Unguessable, URL-safe; never changes.")
    session_status = serializers.ChoiceField(choices=SessionStatus.choices)
    locked_when_saved = FlagField()
    selection_control = serializers.ChoiceField(choices=SelectionControl.choices)
    selected_by_default = FlagField()
    prevent_session_conflicts = FlagField()
    custom_fields = CustomValuesField()
    speaker_ids = SpeakerIdsField()
    times_with_timezone = serializers.SerializerMethodField(
        help_text='e.g. "10:00 AM - 12:00 PM (CET)", in the effective zone; null unscheduled.'
    )
    direct_link = serializers.SerializerMethodField(
        help_text="The session's public page on the agenda; null unless live."
    )
    seats_taken = serializers.IntegerField(help_text="Registrants holding a seat.")
    waitlist_count = serializers.IntegerField(help_text="Registrants waiting for a seat.")
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


def _clock(moment: dt.datetime) -> str:
    return moment.strftime("%I:%M %p").lstrip("0")


def times_with_timezone(session) -> str | None:
    """As the vendor answers it: ``"10:00 AM - 12:00 PM (CET)"``."""
    starts_at = session.in_effective_zone(session.starts_at)
    ends_at = session.in_effective_zone(session.ends_at)
    if starts_at is None or ends_at is None:
        return None
    return f"{_clock(starts_at)} - {_clock(ends_at)} ({starts_at.strftime('%Z')})"


class SessionPreviewSerializer(SessionSerializer):
    """What ``POST ?validate_only=1`` answers: the session as it would be created."""

    id = serializers.IntegerField(allow_null=True, help_text="null: nothing was created.")


@extend_schema_field(FLAG_INPUT_SCHEMA)
class FlagInputField(serializers.Field):
    pass


@extend_schema_field({"type": "string", "format": "date", "nullable": True})
class DateInputField(serializers.Field):
    pass


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        "example": "10:00:00",
        "description": '"HH:MM:SS" ("HH:MM" accepted) or null.',
    }
)
class TimeInputField(serializers.Field):
    pass


class SessionBodyBase(serializers.Serializer):
    """Writable fields of a session; read-only fields may be sent with their current value."""

    name = serializers.CharField(max_length=255, min_length=1, required=False)
    admin_short_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    badge_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    description = serializers.CharField(max_length=20000, allow_blank=True, required=False)
    date = DateInputField(required=False)
    start_time = TimeInputField(required=False)
    end_time = TimeInputField(required=False)
    use_event_timezone = FlagInputField(required=False)
    timezone = serializers.CharField(allow_null=True, required=False, help_text="IANA zone name.")
    capacity = serializers.IntegerField(
        min_value=0, max_value=1_000_000, allow_null=True, required=False
    )
    location_id = serializers.IntegerField(allow_null=True, required=False)
    track_id = serializers.IntegerField(allow_null=True, required=False)
    webinar_url = serializers.CharField(allow_blank=True, required=False, max_length=2000)
    sold_out_message = serializers.CharField(allow_blank=True, required=False, max_length=500)
    session_status = serializers.ChoiceField(choices=SessionStatus.choices, required=False)
    locked_when_saved = FlagInputField(required=False)
    selection_control = serializers.ChoiceField(choices=SelectionControl.choices, required=False)
    selected_by_default = FlagInputField(required=False)
    prevent_session_conflicts = FlagInputField(required=False)
    custom_fields = CustomValuesField(required=False)
    speaker_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=50,
        help_text=(
            "Speakers of the session's event in billing order; replaces the list (JSON only). "
            "A speaker already in a held session overlapping this one is 409 conflict."
        ),
    )


class SessionUpdateBody(SessionBodyBase):
    event_id = serializers.IntegerField(
        required=False, help_text="Accepted only with the session's current event."
    )


class SessionCreateBody(SessionBodyBase):
    event_id = serializers.IntegerField(help_text="An event of your organisation.")
    name = serializers.CharField(max_length=255, min_length=1)


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    timezone = serializers.CharField(help_text="IANA time zone.")
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class TrackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField(help_text="#rrggbb")


class LocationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    name = serializers.CharField()
    capacity = serializers.IntegerField(allow_null=True)


class ChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()


class CustomFieldSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    key = serializers.CharField(help_text="c_<id>: the key in a session's custom_fields.")
    label = serializers.CharField()
    type = serializers.ChoiceField(
        source="field_type",
        choices=[
            "text",
            "textarea",
            "number",
            "date",
            "url",
            "checkbox",
            "dropdown",
            "multiselect",
        ],
    )
    required = FlagField()
    choices = ChoiceSerializer(
        many=True, source="choices.all", help_text="Empty unless a choice type."
    )


class ActorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["user", "api_client", "system"])
    label = serializers.CharField(help_text="Username, API client name, or system.")
    client_id = serializers.CharField(allow_null=True)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "properties": {"old": {"nullable": True}, "new": {"nullable": True}},
        },
        "example": {"session_status": {"old": "submitted", "new": "approved"}},
    }
)
class ChangesField(serializers.Field):
    """History values as the API answers them: flags as 0/1."""

    def to_representation(self, value):
        return {
            field: {
                side: int(v) if field in FLAG_FIELDS and isinstance(v, bool) else v
                for side, v in change.items()
            }
            for field, change in (value or {}).items()
        }


class SessionChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    session_id = serializers.IntegerField()
    action = serializers.CharField(help_text="e.g. session.update, session.status.approved")
    action_label = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()
    changes = ChangesField(help_text="Per field: the old and the new value.")
    note = serializers.CharField()
    version = serializers.IntegerField(help_text="The session's version after this change.")
    created_at = UtcDateTimeField()

    def get_action_label(self, change) -> str:
        return ACTION_LABELS.get(change.action, change.action)

    @extend_schema_field(ActorSerializer)
    def get_actor(self, change) -> dict:
        if change.actor_user_id is not None:
            kind = "user"
        elif change.actor_client_id is not None:
            kind = "api_client"
        else:
            kind = "system"
        client = change.actor_client if change.actor_client_id is not None else None
        return {
            "type": kind,
            "label": change.actor_label,
            "client_id": client.client_id if client is not None else None,
        }


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="Wire name, e.g. end_time or custom_fields.c_1001."
    )
    code = serializers.CharField(help_text="A stable machine word, e.g. invalid_time_range.")
    message = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    starts_at = serializers.CharField(allow_null=True, required=False)
    ends_at = serializers.CharField(allow_null=True, required=False)
    location_id = serializers.IntegerField(allow_null=True, required=False)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True, required=False)
    conflicts = ConflictSerializer(many=True, required=False, help_text="409 for a clash.")
    allowed = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="409 for a status move."
    )
    current_version = serializers.IntegerField(required=False, help_text="412 only.")
    error = serializers.CharField(required=False, help_text="OAuth2 endpoints: RFC 6749 code.")
    error_description = serializers.CharField(required=False)


def link_schema():
    return {
        "type": "object",
        "properties": {"href": {"type": "string", "format": "uri"}},
        "required": ["href"],
    }


class MetaSerializer(serializers.Serializer):
    totalCount = serializers.IntegerField()
    pageCount = serializers.IntegerField()
    currentPage = serializers.IntegerField()
    perPage = serializers.IntegerField()


@extend_schema_field(
    {
        "type": "object",
        "properties": {name: link_schema() for name in ("self", "first", "last", "next", "prev")},
        "required": ["self", "first", "last"],
        "description": "next and prev are left out on the last and the first page.",
    }
)
class LinksField(serializers.Field):
    pass


def envelope_serializer(item_serializer: type[serializers.Serializer], name: str):
    """A ``{"items", "_meta", "_links"}`` serializer class for the schema."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "items": item_serializer(many=True),
            "_meta": MetaSerializer(),
            "_links": LinksField(),
            "__doc__": "One page of a list.",
        },
    )
