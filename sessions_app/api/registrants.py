"""Registrants and their session selections (API.md "Registrants and session selection").

Scopes ``registrants:read`` and ``registrants:write``. Every write is a call to
``services.attendance``; its refusals come back as 409 with the codes of API.md.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from sessions_app import selectors, services
from sessions_app.api.listing import FLAG_VALUES
from sessions_app.api.schema import (
    ID_PARAMETER,
    LIST_PARAMETERS,
    SHAPE_PARAMETERS,
    VALIDATE_ONLY_PARAMETER,
    problems,
)
from sessions_app.api.serializers import (
    FlagInputField,
    FlatOutputSerializer,
    UtcDateTimeField,
    envelope_serializer,
)
from sessions_app.api.views import ApiView, SessionScopedMixin, _pk
from sessions_app.models import Event, Registrant, Selection, SelectionState
from sessions_app.notices import compose as notices
from sessions_app.wire.problems import FieldError, PayloadInvalid
from sessions_app.wire.session_input import MAX_ID, _integer, _Invalid, to_flag, to_text

# --- Answers -------------------------------------------------------------------------------


class RegistrantSerializer(FlatOutputSerializer):
    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField(help_text="Unique per event, ignoring case.")
    selection_url = serializers.SerializerMethodField(
        help_text="The registrant's own page, where they pick sessions. No login: keep it private."
    )
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    def get_selection_url(self, registrant) -> str:
        return registrant.selection_url(self.context.get("request"))


class SelectionSerializer(FlatOutputSerializer):
    registrant_id = serializers.IntegerField()
    session_id = serializers.IntegerField()
    state = serializers.ChoiceField(
        choices=SelectionState.choices,
        help_text="selected: holds a seat; waitlisted: waits for one; interested: marked "
        "interest in an approved session that is not live yet (no seat, no capacity held).",
    )
    waitlist_position = serializers.IntegerField(
        allow_null=True, help_text="1 = next to get a seat; null for a seat or an interest."
    )
    saved_at = UtcDateTimeField(
        help_text="When the seat, the waitlist place or the interest was taken."
    )


class SessionAttendeeSerializer(SelectionSerializer):
    registrant = serializers.SerializerMethodField()

    @extend_schema_field(RegistrantSerializer)
    def get_registrant(self, selection) -> dict:
        return RegistrantSerializer(selection.registrant, context=self.context).data


class RegistrantCreateBody(serializers.Serializer):
    event_id = serializers.IntegerField(help_text="An event of your organisation.")
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254)
    session_ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text=(
            "Sessions to select now, by the usual rules (a refusal refuses the registration). "
            "Left out: the live sessions selected_by_default are selected where a seat is free. "
            "Live included sessions are always selected."
        ),
    )


class RegistrantUpdateBody(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, required=False)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False)


class SelectionBody(serializers.Serializer):
    session_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A session of the registrant's event."
    )
    waitlist = FlagInputField(
        required=False,
        help_text="1: when the session is full, wait for a seat instead of a 409 sold_out.",
    )


# --- Input ---------------------------------------------------------------------------------

_REGISTRANT_TEXT = ("first_name", "last_name", "email")
_REGISTRANT_READ_ONLY = ("id", "selection_url", "created_at", "updated_at")


def _registrant_input(
    payload: dict[str, Any],
    *,
    form: bool,
    current: Registrant | None,
    answered: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], int | None, list[int] | None]:
    """``(data, event_id, session_ids)`` for the services; ``PayloadInvalid`` otherwise.

    ``answered`` is the registrant as the API answers it: a read-only field sent with that
    value is accepted and ignored."""
    errors: list[FieldError] = []
    data: dict[str, Any] = {}
    event_id = session_ids = None
    for name, raw in payload.items():
        try:
            if name in _REGISTRANT_TEXT:
                data[name] = to_text(raw)
            elif name == "event_id":
                event_id = _integer(raw, form=form)
                if current is not None and event_id != current.event_id:
                    raise _Invalid("event_change", "A registrant cannot move to another event.")
            elif name == "session_ids" and current is None and not form:
                if not isinstance(raw, list) or len(raw) > 1000:
                    raise _Invalid("invalid_type", "Send a list of session ids.")
                session_ids = [_integer(item, form=False) for item in raw]
            elif name in _REGISTRANT_READ_ONLY:
                stored = (answered or {}).get(name)
                if current is None or raw != (str(stored) if form else stored):
                    raise _Invalid("read_only", f"{name} is read-only and cannot be changed.")
            else:
                raise _Invalid("unknown_field", f"{name[:100]!r} is not a field of a registrant.")
        except _Invalid as exc:
            errors.append(FieldError(name[:100], exc.code, exc.message))
    if current is None:
        for name in ("event_id", "first_name", "email"):
            if name not in payload:
                errors.append(FieldError(name, "required", f"Send {name}."))
    if errors:
        raise PayloadInvalid(errors)
    return data, event_id, session_ids


def _selection_input(payload: dict[str, Any], *, form: bool) -> tuple[int, bool]:
    errors: list[FieldError] = []
    session_id, waitlist = None, False
    for name, raw in payload.items():
        try:
            if name == "session_id":
                session_id = _integer(raw, form=form)
            elif name == "waitlist":
                waitlist = to_flag(raw, form=form)
            else:
                raise _Invalid("unknown_field", f"{name[:100]!r} is not a field of a selection.")
        except _Invalid as exc:
            errors.append(FieldError(name[:100], exc.code, exc.message))
    if "session_id" not in payload:
        errors.append(FieldError("session_id", "required", "Send the session_id to select."))
    if errors:
        raise PayloadInvalid(errors)
    return session_id, waitlist


def _no_such_session(errors: ValidationError) -> bool:
    return any(
        error.code == "does_not_exist"
        for error in getattr(errors, "error_dict", {}).get("session_id", [])
    )


# --- Views ---------------------------------------------------------------------------------


NOTIFY = OpenApiParameter(
    "notify",
    str,
    enum=FLAG_VALUES,
    description="1: send the new registrant the welcome message with their page's link.",
)


def _no_registrant(pk: str) -> NotFound:
    return NotFound(f"There is no registrant with id {pk[:30]}.")


class RegistrantScopedMixin:
    scope_family = "registrants"
    required_scopes = ["registrants"]

    def registrants(self) -> QuerySet:
        return Registrant.objects.filter(event__organisation_id=self.organisation_id)

    def registrant(self, pk: str) -> Registrant:
        found = selectors.one_or_none(self.registrants().filter(pk=self.registrant_id(pk)))
        if found is None:
            raise _no_registrant(pk)
        return found

    def registrant_id(self, pk: str) -> int:
        """The path's registrant id, for a service that finds the registrant in the client's
        organisation itself (its lock is the one read); NotFound for an id none can have."""
        number = int(pk)
        if number > MAX_ID:
            raise _no_registrant(pk)
        return number

    def answer(self, registrant: Registrant, *, status: int = 200) -> Response:
        data = RegistrantSerializer(registrant, context={"request": self.request}).data
        return Response(data, status=status)


REGISTRANT_ITEM = [ID_PARAMETER]


class RegistrantCollectionView(RegistrantScopedMixin, ApiView):
    """Your organisation's registrants."""

    list_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="registrants_list",
        summary="List registrants",
        tags=["registrants"],
        parameters=[
            OpenApiParameter("event_id", int, description="Only this event's registrants."),
            OpenApiParameter("search", str, description="Part of the name or email."),
            *LIST_PARAMETERS,
        ],
        responses={
            200: envelope_serializer(RegistrantSerializer, "RegistrantList"),
            **problems(400, 401, 403, 429),
        },
    )
    def get(self, request):
        query = self.query()
        registrants = self.registrants()
        event_id = query.id("event_id")
        if event_id is not None:
            registrants = registrants.filter(event_id=event_id)
        search = query.text("search")
        if search:
            registrants = registrants.filter(
                selectors.text_search(search, selectors.RegistrantSearchedText)
            )
        order = registrants.order_by("event_id", "last_name", "first_name", "id")
        return self.listing(order, RegistrantSerializer, query)

    @extend_schema(
        operation_id="registrants_create",
        summary="Register someone for an event",
        tags=["registrants"],
        request={"application/json": RegistrantCreateBody},
        parameters=[NOTIFY],
        responses={
            201: OpenApiResponse(RegistrantSerializer, description="Created; see Location."),
            **problems(400, 401, 403, 409, 411, 413, 415, 422, 429),
        },
        description=(
            "Live included sessions are selected for the new registrant (beyond capacity). "
            "With session_ids those sessions are selected by the usual rules, and a refusal "
            "(409 sold_out, selection_conflict, not_selectable) refuses the registration; "
            "without it the live sessions selected_by_default get selected where a seat is "
            "free and nothing conflicts. An email the event already has, in any case, is 422 "
            "email_taken. With notify=1 the registrant is sent the welcome message with the "
            "link to their own page (by the background worker, only if the registration is "
            "made)."
        ),
    )
    def post(self, request):
        query = self.query()
        notify = query.flag("notify")
        query.check()
        payload, form = self.body()
        data, event_id, session_ids = _registrant_input(payload, form=form, current=None)
        try:
            registrant = services.registrant_create(
                event_id=event_id,
                data=data,
                actor=self.actor,
                session_ids=session_ids,
                organisation_id=self.organisation_id,
                # The welcome is written with the registration, or not at all.
                then=notices.welcome if notify else None,
            )
        except Event.DoesNotExist:  # none, or another organisation's
            raise PayloadInvalid(
                [FieldError("event_id", "does_not_exist", "There is no event with this id.")]
            ) from None
        response = self.answer(registrant, status=http.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(
            reverse("api:registrant-detail", args=[registrant.pk])
        )
        return response


# PATCH and PUT (also partial) are one operation under two methods.
REGISTRANT_UPDATE_SCHEMA = {
    "tags": ["registrants"],
    "parameters": REGISTRANT_ITEM,
    "request": {"application/json": RegistrantUpdateBody},
    "responses": {
        200: RegistrantSerializer,
        **problems(400, 401, 403, 404, 411, 413, 415, 422, 429),
    },
}


class RegistrantItemView(RegistrantScopedMixin, ApiView):
    """One registrant."""

    @extend_schema(
        operation_id="registrants_retrieve",
        summary="Get a registrant",
        tags=["registrants"],
        parameters=[*REGISTRANT_ITEM, *SHAPE_PARAMETERS],
        responses={200: RegistrantSerializer, **problems(400, 401, 403, 404, 429)},
    )
    def get(self, request, pk: str):
        return self.item(self.registrant(pk), RegistrantSerializer)

    def _update(self, request, pk: str):
        self.query().check()
        current = self.registrant(pk)
        payload, form = self.body()
        answered = RegistrantSerializer(current, context={"request": request}).data
        data, _, _ = _registrant_input(payload, form=form, current=current, answered=answered)
        registrant = services.registrant_update(
            registrant_id=current.pk,
            data=data,
            actor=self.actor,
            organisation_id=self.organisation_id,
        )
        return self.answer(registrant)

    @extend_schema(
        operation_id="registrants_partial_update",
        summary="Update a registrant",
        **REGISTRANT_UPDATE_SCHEMA,
    )
    def patch(self, request, pk: str):
        return self._update(request, pk)

    @extend_schema(
        operation_id="registrants_update",
        summary="Update a registrant (PUT, also partial)",
        **REGISTRANT_UPDATE_SCHEMA,
    )
    def put(self, request, pk: str):
        return self._update(request, pk)

    @extend_schema(
        operation_id="registrants_destroy",
        summary="Delete a registrant",
        tags=["registrants"],
        parameters=REGISTRANT_ITEM,
        responses={
            204: OpenApiResponse(description="Deleted; their seats went to the waitlists."),
            **problems(400, 401, 403, 404, 429),
        },
    )
    def delete(self, request, pk: str):
        self.query().check()
        registrant = self.registrant(pk)
        services.registrant_delete(
            registrant_id=registrant.pk, actor=self.actor, organisation_id=self.organisation_id
        )
        return Response(status=http.HTTP_204_NO_CONTENT)


OVERRIDE_CAPACITY = OpenApiParameter(
    "override_capacity",
    str,
    enum=FLAG_VALUES,
    description="1: seat the registrant even when the session is full (staff).",
)
OVERRIDE_LOCK = OpenApiParameter(
    "override_lock",
    str,
    enum=FLAG_VALUES,
    description="1: give up a locked or included seat all the same (staff).",
)


class RegistrantSelectionsView(RegistrantScopedMixin, ApiView):
    """A registrant's seats, waitlist places and interests."""

    list_methods = frozenset({"GET", "HEAD"})
    ids_field = "session_id"  # a selection is named by its session

    @extend_schema(
        operation_id="registrant_sessions_list",
        summary="A registrant's selections",
        tags=["registrants"],
        parameters=[ID_PARAMETER, *LIST_PARAMETERS],
        responses={
            200: envelope_serializer(SelectionSerializer, "SelectionList"),
            **problems(400, 401, 403, 404, 429),
        },
    )
    def get(self, request, pk: str):
        registrant = self.registrant(pk)
        selections = selectors.with_waitlist_position(
            Selection.objects.filter(registrant=registrant)
        ).order_by("session__starts_at", "session_id")
        return self.listing(selections, SelectionSerializer, self.query())

    @extend_schema(
        operation_id="registrant_sessions_create",
        summary="Select a session for a registrant",
        tags=["registrants"],
        parameters=[ID_PARAMETER, VALIDATE_ONLY_PARAMETER, OVERRIDE_CAPACITY],
        request={
            "application/json": SelectionBody,
            "application/x-www-form-urlencoded": SelectionBody,
        },
        responses={
            201: OpenApiResponse(
                SelectionSerializer,
                description="Seated or waitlisted (a live session), or interested (approved).",
            ),
            200: OpenApiResponse(
                SelectionSerializer,
                description="The registrant already had it, or validate_only: what it would be.",
            ),
            **problems(400, 401, 403, 404, 409, 411, 413, 415, 422, 429),
        },
        description=(
            "A live session gives a seat; an approved one that is not live yet an interest "
            "(state interested: no seat, no capacity held; at publication it becomes a seat or "
            "the registrant is told, by the event's setting); any other status is 409 "
            "not_selectable. A full session is 409 sold_out with "
            "its sold_out_message, unless waitlist is 1: then the registrant waits, first come "
            "first served, and takes the first seat that frees. A session overlapping one the "
            "registrant has, where either forbids conflicts, is 409 selection_conflict."
        ),
    )
    def post(self, request, pk: str):
        query = self.query()
        validate_only = query.flag("validate_only")
        override = query.flag("override_capacity")
        query.check()
        registrant_id = self.registrant_id(pk)
        try:
            payload, form = self.body()
            session_id, waitlist = _selection_input(payload, form=form)
        except Exception:
            # Another organisation's registrant is a 404 whatever the body says: looked
            # for only when the body is refused (the service reads it, locked, otherwise).
            self.registrant(pk)
            raise
        try:
            result = services.selection_add(
                registrant_id=registrant_id,
                session_id=session_id,
                actor=self.actor,
                waitlist=waitlist,
                override_capacity=override,
                validate_only=validate_only,
                organisation_id=self.organisation_id,
            )
        except Registrant.DoesNotExist:  # not in the client's organisation
            raise _no_registrant(pk) from None
        selection = result.selection
        if selection.pk is not None and selection.state == SelectionState.WAITLISTED:
            # Its place in the line, as it stands after the commit.
            selection = selectors.with_waitlist_position(
                Selection.objects.filter(pk=selection.pk)
            ).get()
        else:
            selection.waitlist_position = None  # a seat or an interest has no place
        created = result.created and not validate_only
        return Response(
            SelectionSerializer(selection).data,
            status=http.HTTP_201_CREATED if created else http.HTTP_200_OK,
        )


class RegistrantSelectionItemView(RegistrantScopedMixin, ApiView):
    """One of a registrant's selections."""

    @extend_schema(
        operation_id="registrant_sessions_destroy",
        summary="Give up a seat, a waitlist place or an interest",
        tags=["registrants"],
        parameters=[
            ID_PARAMETER,
            OpenApiParameter("session_id", int, OpenApiParameter.PATH),
            OVERRIDE_LOCK,
        ],
        responses={
            204: OpenApiResponse(description="Given up; a freed seat went to the waitlist."),
            **problems(400, 401, 403, 404, 409, 429),
        },
        description="An included seat is 409 included, a saved locked one 409 locked.",
    )
    def delete(self, request, pk: str, session_id: str):
        query = self.query()
        override = query.flag("override_lock")
        query.check()
        registrant_id = self.registrant_id(pk)
        try:
            services.selection_remove(
                registrant_id=registrant_id,
                session_id=_pk(session_id),
                actor=self.actor,
                override_lock=override,
                organisation_id=self.organisation_id,
            )
        except Registrant.DoesNotExist:  # not in the client's organisation
            raise _no_registrant(pk) from None
        except ObjectDoesNotExist:
            raise NotFound(
                f"Registrant {registrant_id} has no selection of this session."
            ) from None
        except ValidationError as exc:
            if _no_such_session(exc):
                raise NotFound(f"There is no session with id {session_id[:30]}.") from None
            raise
        return Response(status=http.HTTP_204_NO_CONTENT)


class SessionRegistrantsView(SessionScopedMixin, ApiView):
    """Who holds a seat in a session, who waits (in waitlist order) and who is interested."""

    scope_family = "registrants"
    required_scopes = ["registrants"]
    list_methods = frozenset({"GET", "HEAD"})
    expansions = {}
    ids_field = "registrant_id"  # a selection is named by its registrant here

    @extend_schema(
        operation_id="sessions_registrants",
        summary="A session's attendees and waitlist",
        tags=["registrants"],
        parameters=[ID_PARAMETER, *LIST_PARAMETERS],
        responses={
            200: envelope_serializer(SessionAttendeeSerializer, "SessionAttendeeList"),
            **problems(400, 401, 403, 404, 429),
        },
        description="Seats first (in the order they were taken), then the waitlist in order, "
        "then the interests (before the session is live) in the order they were marked.",
    )
    def get(self, request, pk: str):
        number = _pk(pk)
        if not self.sessions().filter(pk=number).exists():
            raise NotFound(f"There is no session with id {number}.")
        selections = (
            selectors.with_waitlist_position(Selection.objects.filter(session_id=number))
            .select_related("registrant")
            .annotate(
                queue=Case(
                    When(state=SelectionState.SELECTED, then=Value(0)),
                    When(state=SelectionState.WAITLISTED, then=Value(1)),
                    default=Value(2),
                    output_field=IntegerField(),
                )
            )
            .order_by("queue", "saved_at", "id")
        )
        return self.listing(selections, SessionAttendeeSerializer, self.query())


__all__ = [
    "RegistrantCollectionView",
    "RegistrantItemView",
    "RegistrantSelectionItemView",
    "RegistrantSelectionsView",
    "SessionRegistrantsView",
]
