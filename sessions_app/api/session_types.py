"""An event's session types (API.md "From call to agenda"), scopes ``sessions:read``/``:write``.

A session names its type with ``session_type_id`` and has its own ``duration_minutes``.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from sessions_app import services
from sessions_app.api import serializers as s
from sessions_app.api.schema import ID_PARAMETER, LIST_PARAMETERS, problems
from sessions_app.api.views import ApiView
from sessions_app.models import Event, SessionType
from sessions_app.selectors import one_or_none
from sessions_app.wire.problems import FieldError, PayloadInvalid
from sessions_app.wire.session_input import MAX_ID, MAX_INT, _integer, _Invalid, to_text


class SessionTypeBody(serializers.Serializer):
    event_id = serializers.IntegerField(help_text="On create only: an event of yours.")
    name = serializers.CharField(max_length=100)
    default_minutes = serializers.IntegerField(min_value=1, max_value=1440)


class SessionTypeUpdateBody(SessionTypeBody):
    event_id = serializers.IntegerField(required=False, help_text="Only the type's own.")
    name = serializers.CharField(max_length=100, required=False)
    default_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)


def _minutes(raw: Any, *, form: bool) -> int:
    number = _integer(raw, form=form)
    if not -MAX_INT <= number <= MAX_INT:
        raise _Invalid("out_of_range", "The length is 1 to 1,440 minutes.")
    return number


def _input(
    payload: dict[str, Any], *, form: bool, current: SessionType | None
) -> tuple[dict[str, Any], int | None]:
    errors: list[FieldError] = []
    data: dict[str, Any] = {}
    event_id = None
    for name, raw in payload.items():
        try:
            if name == "name":
                data[name] = to_text(raw)
            elif name == "default_minutes":
                data[name] = _minutes(raw, form=form)
            elif name == "event_id":
                event_id = _integer(raw, form=form)
                if current is not None and event_id != current.event_id:
                    raise _Invalid("event_change", "A session type cannot move to another event.")
            elif name == "id":
                if current is None or raw != (str(current.pk) if form else current.pk):
                    raise _Invalid("read_only", "id is read-only and cannot be changed.")
            else:
                raise _Invalid("unknown_field", f"{name[:100]!r} is not a field of a session type.")
        except _Invalid as exc:
            errors.append(FieldError(name[:100], exc.code, exc.message))
    if current is None:
        for name in ("event_id", "name", "default_minutes"):
            if name not in payload:
                errors.append(FieldError(name, "required", f"Send {name}."))
    if errors:
        raise PayloadInvalid(errors)
    return data, event_id


class SessionTypeScopedMixin:
    def session_types(self):
        return SessionType.objects.filter(event__organisation_id=self.organisation_id)

    def session_type(self, pk: str) -> SessionType:
        number = int(pk)
        found = one_or_none(self.session_types().filter(pk=number)) if number <= MAX_ID else None
        if found is None:
            raise NotFound(f"There is no session type with id {pk[:30]}.")
        return found


WRITE_PROBLEMS = problems(400, 401, 403, 404, 411, 413, 415, 422, 429)


class SessionTypeCollectionView(SessionTypeScopedMixin, ApiView):
    """Your organisation's events' session types."""

    list_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="session_types_list",
        summary="List session types (of one event with event_id)",
        tags=["events"],
        parameters=[
            OpenApiParameter("event_id", int, description="Only this event's.", required=False),
            *LIST_PARAMETERS,
        ],
        responses={
            200: s.envelope_serializer(s.SessionTypeSerializer, "SessionTypeList"),
            **problems(400, 401, 403, 429),
        },
    )
    def get(self, request):
        query = self.query()
        types = self.session_types()
        event_id = query.id("event_id")
        if event_id is not None:
            types = types.filter(event_id=event_id)
        return self.listing(
            types.order_by("event_id", "name", "id"), s.SessionTypeSerializer, query
        )

    @extend_schema(
        operation_id="session_types_create",
        summary="Add a session type to an event",
        tags=["events"],
        request={
            "application/json": SessionTypeBody,
            "application/x-www-form-urlencoded": SessionTypeBody,
        },
        responses={
            201: OpenApiResponse(s.SessionTypeSerializer, description="Created; see Location."),
            **problems(400, 401, 403, 411, 413, 415, 422, 429),
        },
        description="The name is unique in the event (422 duplicate).",
    )
    def post(self, request):
        self.query().check()
        payload, form = self.body()
        data, event_id = _input(payload, form=form, current=None)
        event = one_or_none(Event.objects.filter(pk=event_id, organisation_id=self.organisation_id))
        if event is None:
            raise PayloadInvalid(
                [FieldError("event_id", "does_not_exist", "There is no event with this id.")]
            )
        created = services.session_type_create(event_id=event.pk, data=data)
        response = Response(s.SessionTypeSerializer(created).data, status=http.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(
            reverse("api:session-type-detail", args=[created.pk])
        )
        return response


UPDATE_SCHEMA = {
    "tags": ["events"],
    "parameters": [ID_PARAMETER],
    "request": {
        "application/json": SessionTypeUpdateBody,
        "application/x-www-form-urlencoded": SessionTypeUpdateBody,
    },
    "responses": {200: s.SessionTypeSerializer, **WRITE_PROBLEMS},
    "description": "Sessions keep the lengths they have; new ones of the type take the new one.",
}


class SessionTypeItemView(SessionTypeScopedMixin, ApiView):
    """One session type."""

    @extend_schema(
        operation_id="session_types_retrieve",
        summary="Get a session type",
        tags=["events"],
        parameters=[ID_PARAMETER],
        responses={200: s.SessionTypeSerializer, **problems(400, 401, 403, 404, 429)},
    )
    def get(self, request, pk: str):
        self.query().check()
        return Response(s.SessionTypeSerializer(self.session_type(pk)).data)

    def _update(self, request, pk: str):
        self.query().check()
        current = self.session_type(pk)
        payload, form = self.body()
        data, _ = _input(payload, form=form, current=current)
        updated = services.session_type_update(
            session_type_id=current.pk, data=data, organisation_id=self.organisation_id
        )
        return Response(s.SessionTypeSerializer(updated).data)

    @extend_schema(
        operation_id="session_types_partial_update",
        summary="Update a session type",
        **UPDATE_SCHEMA,
    )
    def patch(self, request, pk: str):
        return self._update(request, pk)

    @extend_schema(
        operation_id="session_types_update",
        summary="Update a session type (PUT, also partial)",
        **UPDATE_SCHEMA,
    )
    def put(self, request, pk: str):
        return self._update(request, pk)

    @extend_schema(
        operation_id="session_types_destroy",
        summary="Delete a session type",
        tags=["events"],
        parameters=[ID_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **problems(400, 401, 403, 404, 409, 429),
        },
        description="A type that sessions have is 409 type_in_use: give them another first.",
    )
    def delete(self, request, pk: str):
        self.query().check()
        found = self.session_type(pk)
        services.session_type_delete(session_type_id=found.pk, organisation_id=self.organisation_id)
        return Response(status=http.HTTP_204_NO_CONTENT)


__all__ = ["SessionTypeCollectionView", "SessionTypeItemView"]
