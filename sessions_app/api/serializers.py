"""How objects are answered, and how bodies are described in the OpenAPI schema.

Output only: request bodies are read by ``wire.session_input`` and checked by the services.
The ``*Body`` serializers exist so the schema documents exactly what ``wire`` accepts.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sessions_app.enums import ACTION_LABELS, SelectionControl, SessionStatus
from sessions_app.wire.representation import (  # noqa: F401  (the API answers with them)
    CUSTOM_FIELDS_SCHEMA,
    CUSTOM_VALUE_SCHEMA,
    FLAG_FIELDS,
    FLAG_INPUT_SCHEMA,
    FLAG_SCHEMA,
    CustomValuesField,
    FlagField,
    FlatOutputSerializer,
    NullableTextField,
    NullableUtcDateTimeField,
    SessionSerializer,
    SpeakerIdsField,
    TimeOfDayField,
    UtcDateTimeField,
    ZonedInstantField,
    times_with_timezone,
    utc_iso,
)
from sessions_app.wire.session_input import MAX_ID


class SpeakerSerializer(FlatOutputSerializer):
    """A speaker of an event."""

    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    company = serializers.CharField()
    job_title = serializers.CharField()
    bio = serializers.CharField()
    session_ids = serializers.SerializerMethodField(
        help_text="The sessions this speaker speaks in (read-only: set a session's speaker_ids)."
    )
    availability = serializers.SerializerMethodField(
        help_text="When they can be there; empty: at any time of the event."
    )
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_session_ids(self, speaker) -> list[int]:
        return [link.session_id for link in speaker.session_links.all()]

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "starts_at": {"type": "string", "format": "date-time"},
                    "ends_at": {"type": "string", "format": "date-time"},
                },
                "required": ["starts_at", "ends_at"],
                "additionalProperties": False,
            },
        }
    )
    def get_availability(self, speaker) -> list[dict]:
        return [
            {"starts_at": utc_iso(w.starts_at), "ends_at": utc_iso(w.ends_at)}
            for w in sorted(speaker.availabilities.all(), key=lambda w: w.starts_at)
        ]


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
    pinned = FlagInputField(
        required=False, help_text="1: schedule suggestions leave the session where it is."
    )
    custom_fields = CustomValuesField(required=False)
    speaker_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
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


class SessionTypeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    name = serializers.CharField(help_text="Unique in the event, one line, ≤100.")
    default_minutes = serializers.IntegerField(
        help_text="1-1,440: the length a new session of this type starts with."
    )


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


class BlindSessionChangeSerializer(SessionChangeSerializer):
    """The same entries for a blind reviewer's client: a speaker's own change (their account
    is not staff, ``by_speaker``) names no one and keeps no note."""

    def get_actor(self, change) -> dict:
        actor = super().get_actor(change)
        if getattr(change, "by_speaker", False):
            actor["label"] = "a speaker"
        return actor

    def to_representation(self, change):
        data = super().to_representation(change)
        if getattr(change, "by_speaker", False):
            data["note"] = ""
        return data


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
