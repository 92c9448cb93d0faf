"""An event's speakers (API.md "The other objects"), scopes ``sessions:read``/``:write``.

Who speaks in a session is the session's ``speaker_ids``, written with the session.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from sessions_app import services
from sessions_app.api import serializers as s
from sessions_app.api.listing import _parse_instant
from sessions_app.api.schema import ID_PARAMETER, LIST_PARAMETERS, SHAPE_PARAMETERS, problems
from sessions_app.api.views import ApiView
from sessions_app.models import Event, SessionSpeaker, Speaker
from sessions_app.selectors import one_or_none
from sessions_app.wire.problems import FieldError, PayloadInvalid
from sessions_app.wire.session_input import MAX_ID, _integer, _Invalid, to_text

MAX_WINDOWS = 50  # times of availability per speaker


class SpeakerBody(serializers.Serializer):
    event_id = serializers.IntegerField(help_text="On create only: an event of yours.")
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    job_title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    bio = serializers.CharField(max_length=10_000, required=False, allow_blank=True)


class SpeakerUpdateBody(SpeakerBody):
    event_id = serializers.IntegerField(required=False, help_text="Only the speaker's own.")
    first_name = serializers.CharField(max_length=100, required=False)


class AvailabilityBody(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="ISO 8601; without an offset: UTC.")
    ends_at = serializers.DateTimeField(help_text="After starts_at.")


def _availability_field() -> AvailabilityBody:
    return AvailabilityBody(
        many=True,
        required=False,
        max_length=MAX_WINDOWS,
        help_text="When they can be there, replacing what was there; [] : at any time.",
    )


class SpeakerJsonBody(SpeakerBody):
    """In a JSON body a speaker also takes ``availability`` (a form body cannot)."""

    availability = _availability_field()


class SpeakerJsonUpdateBody(SpeakerUpdateBody):
    availability = _availability_field()


def _availability(raw: Any, *, form: bool) -> list[tuple]:
    if form or not isinstance(raw, list):
        raise _Invalid("invalid_type", "Send availability as a JSON list of {starts_at, ends_at}.")
    if len(raw) > MAX_WINDOWS:
        raise _Invalid("too_many", f"Send at most {MAX_WINDOWS} times.")
    windows = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"starts_at", "ends_at"}:
            raise _Invalid("invalid_type", "Each time is an object with starts_at and ends_at.")
        try:
            if not all(isinstance(item[k], str) for k in item):
                raise ValueError
            lo, hi = _parse_instant(item["starts_at"]), _parse_instant(item["ends_at"])
        except ValueError:
            raise _Invalid(
                "invalid_datetime", "starts_at and ends_at are ISO 8601 date-times."
            ) from None
        windows.append((lo, hi))  # an end before its start: the service's rule
    return windows


_TEXT = tuple(services.SPEAKER_WRITABLE_FIELDS)
_READ_ONLY = ("id", "session_ids", "created_at", "updated_at")


def _speaker_input(
    payload: dict[str, Any], *, form: bool, current: Speaker | None, answered: dict | None
) -> tuple[dict[str, Any], int | None]:
    """The text fields, the event id and (under ``data["availability"]``) the times."""
    errors: list[FieldError] = []
    data: dict[str, Any] = {}
    event_id = None
    for name, raw in payload.items():
        try:
            if name in _TEXT:
                data[name] = to_text(raw)
            elif name == "availability":
                data[name] = _availability(raw, form=form)
            elif name == "event_id":
                event_id = _integer(raw, form=form)
                if current is not None and event_id != current.event_id:
                    raise _Invalid("event_change", "A speaker cannot move to another event.")
            elif name in _READ_ONLY:
                stored = (answered or {}).get(name)
                if current is None or raw != (str(stored) if form else stored):
                    raise _Invalid("read_only", f"{name} is read-only and cannot be changed.")
            else:
                raise _Invalid("unknown_field", f"{name[:100]!r} is not a field of a speaker.")
        except _Invalid as exc:
            errors.append(FieldError(name[:100], exc.code, exc.message))
    if current is None:
        for name in ("event_id", "first_name"):
            if name not in payload:
                errors.append(FieldError(name, "required", f"Send {name}."))
    if errors:
        raise PayloadInvalid(errors)
    return data, event_id


def _speaker_sessions(speaker: Speaker) -> list[dict]:
    return [s.SessionSerializer(link.session).data for link in speaker.session_links.all()]


class SpeakerScopedMixin:
    expansions = {"sessions": _speaker_sessions}
    prefetched_expansions = {
        "sessions": [
            Prefetch(
                "session_links",
                queryset=SessionSpeaker.objects.select_related(
                    "session__event__organisation"
                ).order_by("session__starts_at", "session_id"),
            )
        ]
    }

    def speakers(self) -> QuerySet:
        # Their availability: one query for the page. None of the events where the
        # client's reviewer reviews blind.
        speakers = Speaker.objects.filter(
            event__organisation_id=self.organisation_id
        ).prefetch_related("availabilities")
        blind = self.blind_event_ids()
        return speakers.exclude(event_id__in=blind) if blind else speakers

    def with_sessions(self, queryset: QuerySet) -> QuerySet:
        """session_ids for each speaker: one query for the page (none more with expand)."""
        if "sessions" in self.query().names("expand"):
            return queryset  # the expansion's prefetch brings the links
        return queryset.prefetch_related(
            Prefetch("session_links", queryset=SessionSpeaker.objects.order_by("session_id"))
        )

    def speaker(self, pk: str) -> Speaker:
        number = int(pk)
        found = (
            one_or_none(self.with_sessions(self.speakers()).filter(pk=number))
            if number <= MAX_ID
            else None
        )
        if found is None:
            raise NotFound(f"There is no speaker with id {pk[:30]}.")
        return found

    def answer(self, speaker: Speaker, *, status: int = 200) -> Response:
        speaker = self.with_sessions(
            Speaker.objects.filter(pk=speaker.pk).prefetch_related("availabilities")
        ).get()
        return Response(s.SpeakerSerializer(speaker).data, status=status)


SPEAKER_WRITE_PROBLEMS = problems(400, 401, 403, 404, 411, 413, 415, 422, 429)


class SpeakerCollectionView(SpeakerScopedMixin, ApiView):
    """Your organisation's speakers."""

    list_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="speakers_list",
        summary="List speakers",
        tags=["speakers"],
        parameters=[
            OpenApiParameter("event_id", int, description="Only this event's speakers."),
            OpenApiParameter("search", str, description="Part of a name, email or company."),
            *LIST_PARAMETERS,
        ],
        responses={
            200: s.envelope_serializer(s.SpeakerSerializer, "SpeakerList"),
            **problems(400, 401, 403, 429),
        },
    )
    def get(self, request):
        query = self.query()
        speakers = self.speakers()
        event_id = query.id("event_id")
        if event_id is not None:
            speakers = speakers.filter(event_id=event_id)
        search = query.text("search")
        if search:
            speakers = speakers.filter(
                Q(first_name__icontains=search)
                | Q(last_name__icontains=search)
                | Q(email__icontains=search)
                | Q(company__icontains=search)
            )
        order = self.with_sessions(speakers).order_by("event_id", "last_name", "first_name", "id")
        return self.listing(order, s.SpeakerSerializer, query)

    @extend_schema(
        operation_id="speakers_create",
        summary="Add a speaker to an event",
        tags=["speakers"],
        request={
            "application/json": SpeakerJsonBody,
            "application/x-www-form-urlencoded": SpeakerBody,
        },
        responses={
            201: OpenApiResponse(s.SpeakerSerializer, description="Created; see Location."),
            **problems(400, 401, 403, 411, 413, 415, 422, 429),
        },
    )
    def post(self, request):
        self.query().check()
        payload, form = self.body()
        data, event_id = _speaker_input(payload, form=form, current=None, answered=None)
        event = one_or_none(Event.objects.filter(pk=event_id, organisation_id=self.organisation_id))
        if event is None:
            raise PayloadInvalid(
                [FieldError("event_id", "does_not_exist", "There is no event with this id.")]
            )
        availability = data.pop("availability", None)
        speaker = services.speaker_create(event_id=event.pk, data=data, availability=availability)
        response = self.answer(speaker, status=http.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(
            reverse("api:speaker-detail", args=[speaker.pk])
        )
        return response


# PATCH and PUT (also partial) are one operation under two methods.
SPEAKER_UPDATE_SCHEMA = {
    "tags": ["speakers"],
    "parameters": [ID_PARAMETER],
    "request": {
        "application/json": SpeakerJsonUpdateBody,
        "application/x-www-form-urlencoded": SpeakerUpdateBody,
    },
    "responses": {200: s.SpeakerSerializer, **SPEAKER_WRITE_PROBLEMS},
}


class SpeakerItemView(SpeakerScopedMixin, ApiView):
    """One speaker."""

    @extend_schema(
        operation_id="speakers_retrieve",
        summary="Get a speaker",
        tags=["speakers"],
        parameters=[ID_PARAMETER, *SHAPE_PARAMETERS],
        responses={200: s.SpeakerSerializer, **problems(400, 401, 403, 404, 429)},
    )
    def get(self, request, pk: str):
        speaker = self.speaker(pk)
        query = self.query()
        if "sessions" in query.names("expand"):
            speaker = self.expanded(Speaker.objects.filter(pk=speaker.pk), query).get()
        return self.item(speaker, s.SpeakerSerializer)

    def _update(self, request, pk: str):
        self.query().check()
        current = self.speaker(pk)
        payload, form = self.body()
        answered = s.SpeakerSerializer(current).data
        data, _ = _speaker_input(payload, form=form, current=current, answered=answered)
        availability = data.pop("availability", None)
        speaker = services.speaker_update(
            speaker_id=current.pk,
            data=data,
            organisation_id=self.organisation_id,
            availability=availability,
        )
        return self.answer(speaker)

    @extend_schema(
        operation_id="speakers_partial_update", summary="Update a speaker", **SPEAKER_UPDATE_SCHEMA
    )
    def patch(self, request, pk: str):
        return self._update(request, pk)

    @extend_schema(
        operation_id="speakers_update",
        summary="Update a speaker (PUT, also partial)",
        **SPEAKER_UPDATE_SCHEMA,
    )
    def put(self, request, pk: str):
        return self._update(request, pk)

    @extend_schema(
        operation_id="speakers_destroy",
        summary="Delete a speaker",
        tags=["speakers"],
        parameters=[ID_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **problems(400, 401, 403, 404, 409, 429),
        },
        description="A speaker who still speaks in a session is 409 speaker_in_sessions: "
        "take them off the sessions (their speaker_ids) first.",
    )
    def delete(self, request, pk: str):
        self.query().check()
        speaker = self.speaker(pk)
        services.speaker_delete(speaker_id=speaker.pk, organisation_id=self.organisation_id)
        return Response(status=http.HTTP_204_NO_CONTENT)


__all__ = ["SpeakerCollectionView", "SpeakerItemView"]
