"""The ``/api/v1/`` endpoints: HTTP in, a selector or service call, HTTP out.

The organisation comes from the token's client. Objects outside it are looked up as if
they did not exist, so the answer is the same 404 as for a missing id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions_app import selectors, services
from sessions_app.api import serializers as s
from sessions_app.api.authentication import ClientTokenAuthentication
from sessions_app.api.listing import Query, envelope, session_filters, session_order
from sessions_app.api.parsers import AlwaysJSON, FormParser, JSONParser
from sessions_app.api.permissions import HasScopeForMethod
from sessions_app.api.schema import (
    ID_PARAMETER,
    IF_MATCH_PARAMETER,
    IF_NONE_MATCH_PARAMETER,
    LIST_PARAMETERS,
    SESSION_LIST_PARAMETERS,
    SHAPE_PARAMETERS,
    VALIDATE_ONLY_PARAMETER,
    problems,
)
from sessions_app.models import (
    CustomField,
    Event,
    Location,
    Session,
    SessionChange,
    SessionSpeaker,
    Track,
)
from sessions_app.ops import ratelimit
from sessions_app.selectors import one_or_none
from sessions_app.wire.problems import ApiError, FieldError, PayloadInvalid
from sessions_app.wire.session_input import MAX_ID, READ_ONLY_FIELDS, body_as_dict, session_input

# Strong tags only: If-Match uses the strong comparison (RFC 9110 13.1.1), and the
# API never answers a weak ETag. A tag is "<id>-<version>.<seats taken>.<waiting>", with
# ".<interested>" where registrants are interested: the counts change without a new version
# (attendance is not an edit), and a cached copy must not keep old counts. If-Match compares
# the id and the version only: seats taken since the read cannot make the caller's edit stale.
_ETAG = re.compile(
    r'"([0-9]{1,19})-([0-9]{1,19})(?:\.[0-9]{1,19}\.[0-9]{1,19}(?:\.[0-9]{1,19})?)?"\Z'
)


def session_etag(session: Session) -> str:
    tag = f"{session.pk}-{session.version}.{session.seats_taken}.{session.waitlist_count}"
    if session.interest_count:
        tag += f".{session.interest_count}"
    return f'"{tag}"'


class ApiView(APIView):
    """Token auth, the scope map, the rate limit and problem errors for every endpoint."""

    authentication_classes = [ClientTokenAuthentication]
    permission_classes = [HasScopeForMethod]
    parser_classes = [JSONParser, FormParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AlwaysJSON
    required_scopes = ["sessions"]
    # Methods that read a collection and cost LIST_COST of the rate budget.
    list_methods: frozenset[str] = frozenset()

    def initial(self, request, *args, **kwargs):
        self.perform_authentication(request)
        self._charge(request)
        super().initial(request, *args, **kwargs)

    def _charge(self, request) -> None:
        config = ratelimit.rate_settings()
        cost = config["LIST_COST"] if request.method in self.list_methods else 1
        token = request.auth
        key = (
            ratelimit.client_key(token.application_id)
            if token is not None
            else ratelimit.anonymous_key(request)
        )
        state = ratelimit.charge(key, cost)
        request.rate_state = state
        if state.exceeded:
            raise ApiError(
                f"The rate limit of {state.limit} requests per {config['WINDOW_SECONDS']} "
                f"seconds is used up; try again in {state.reset} seconds.",
                status=429,
                headers={"Retry-After": str(max(state.reset, 1))},
            )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        state = getattr(request, "rate_state", None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        return response

    @property
    def organisation_id(self) -> int:
        return self.request.auth.application.organisation_id

    def blind_event_ids(self) -> set[int]:
        """Where the client's reviewer (if it is bound to one) reviews blind: their
        speakers are named nowhere in its answers."""
        client = self.request.auth.application
        if client.reviewer_id is None:
            return set()
        if not hasattr(self, "_blind_event_ids"):
            self._blind_event_ids = selectors.blind_event_ids(client.reviewer)
        return self._blind_event_ids

    @property
    def actor(self) -> services.Actor:
        return services.Actor(client=self.request.auth.application)

    def query(self) -> Query:
        return Query(self.request.query_params)

    def event_in_path(self, pk: str) -> Event:
        """The organisation's event the path names; 404 for any other."""
        number = int(pk)
        event = (
            one_or_none(Event.objects.filter(pk=number, organisation_id=self.organisation_id))
            if number <= MAX_ID
            else None
        )
        if event is None:
            raise NotFound(f"There is no event with id {pk[:30]}.")
        return event

    def body(self) -> tuple[dict[str, Any], bool]:
        data = self.request.data
        if not isinstance(data, dict | QueryDict):
            raise ApiError("The body must be a JSON object.", status=400)
        return body_as_dict(data)

    # What ``expand=`` may embed in this endpoint's objects: name -> object -> dict or None.
    expansions: dict[str, Callable[[Any], dict | None]] = {}
    # The field ``ids=`` filters on (None: the endpoint's objects have no id of their own).
    ids_field: str | None = "pk"

    def shaper(self, query: Query) -> Callable[[Any, dict], dict]:
        """Each object's final form: ``expand`` embeds related objects beside their ids,
        ``fields`` keeps only the named fields (names it does not have are left out)."""
        fields = set(query.names("fields"))
        expand = [name for name in query.names("expand") if name in self.expansions]

        def shape(obj, item: dict) -> dict:
            for name in expand:
                item[name] = self.expansions[name](obj)
            if fields:
                item = {key: value for key, value in item.items() if key in fields or key in expand}
            return item

        return shape

    # Expansions fetched by prefetches (a query or two for the page) instead of a join.
    prefetched_expansions: dict[str, list[Prefetch]] = {}

    def expanded(self, queryset: QuerySet, query: Query) -> QuerySet:
        """``queryset`` with what the asked expansions read, joined in or prefetched for the
        whole page (no query per row)."""
        related = [name for name in query.names("expand") if name in self.expansions]
        joined = [name for name in related if name not in self.prefetched_expansions]
        if joined:
            queryset = queryset.select_related(*joined)
        prefetches = [p for n in related if n not in joined for p in self.prefetched_expansions[n]]
        return queryset.prefetch_related(*prefetches) if prefetches else queryset

    def listing(
        self,
        queryset: QuerySet,
        serializer_class,
        query: Query,
        *,
        total: int | None = None,
        unindexed_order: bool = False,
    ) -> Response:
        page, per_page = query.page()
        ids = query.ids() if self.ids_field else None
        if ids is not None:
            queryset = queryset.filter(**{f"{self.ids_field}__in": ids})
            total = None
        shape = self.shaper(query)
        queryset = self.expanded(queryset, query)
        query.check()
        return Response(
            envelope(
                self.request,
                queryset,
                serializer_class,
                page=page,
                per_page=per_page,
                total=total,
                shape=shape,
                unindexed_order=unindexed_order,
            )
        )

    def item(self, obj, serializer_class, *, headers: dict | None = None) -> Response:
        """One object as a GET answers it: ``fields`` and ``expand`` apply."""
        query = self.query()
        shape = self.shaper(query)
        query.check()
        data = serializer_class(obj, context={"request": self.request}).data
        return Response(shape(obj, dict(data)), headers=headers)


def _pk(value: str) -> int:
    number = int(value)
    if number > MAX_ID:
        raise NotFound(f"There is no session with id {value[:30]}.")
    return number


def _not_found(pk: int) -> NotFound:
    return NotFound(f"There is no session with id {pk}.")


def _session_speakers(session: Session) -> list[dict]:
    return [s.SpeakerSerializer(link.speaker).data for link in session.speaker_links.all()]


class SessionScopedMixin:
    expansions = {
        "event": lambda session: s.EventSerializer(session.event).data,
        "track": lambda session: s.TrackSerializer(session.track).data if session.track else None,
        "location": lambda session: (
            s.LocationSerializer(session.location).data if session.location else None
        ),
        "speakers": _session_speakers,
    }
    # Expansions read through a prefetch (one query for the page), not a join.
    prefetched_expansions = {
        "speakers": [
            Prefetch(
                "speaker_links",
                queryset=SessionSpeaker.objects.select_related("speaker").order_by("position"),
            ),
            # Each speaker answers its session_ids.
            Prefetch(
                "speaker_links__speaker__session_links",
                queryset=SessionSpeaker.objects.order_by("session_id"),
            ),
            # And its availability.
            "speaker_links__speaker__availabilities",
        ]
    }

    def sessions(self) -> QuerySet:
        return Session.objects.filter(event__organisation_id=self.organisation_id).select_related(
            "event__organisation"
        )

    def shaper(self, query):
        shape = super().shaper(query)
        blind = self.blind_event_ids()
        if not blind:
            return shape

        def blinded(obj, item: dict) -> dict:
            item = shape(obj, item)
            if getattr(obj, "event_id", None) in blind and "speakers" in item:
                item["speakers"] = []  # a blind reviewer's client names no speaker
            return item

        return blinded

    def listed_sessions(self) -> tuple[QuerySet, dict[int, int]]:
        """``sessions()`` for a list, and ``{event id: session count}`` of the organisation.

        Scoped by the list of the organisation's event ids: counting 100,000 sessions by
        ``event_id IN (1, 2, ...)`` reads only an index; through a join to the events it also
        hashes every row. The counts (``Event.session_count``) answer the total of a list
        that is not filtered, or only by event, without counting at all.
        """
        counts = dict(
            Event.objects.filter(organisation_id=self.organisation_id).values_list(
                "pk", "session_count"
            )
        )
        sessions = Session.objects.filter(event_id__in=list(counts)).select_related(
            "event__organisation"
        )
        return sessions, counts

    def stored_session(self, pk: int) -> Session:
        session = one_or_none(self.sessions().filter(pk=pk))
        if session is None:
            raise _not_found(pk)
        return session

    def session_response(self, session: Session, *, status: int = 200, etag: bool = True):
        headers = {"ETag": session_etag(session)} if etag else {}
        data = s.SessionSerializer(session, context={"request": self.request}).data
        return Response(data, status=status, headers=headers)


SESSION_WRITE_PROBLEMS = problems(400, 401, 403, 404, 409, 411, 412, 413, 415, 422, 429)


class SessionCollectionView(SessionScopedMixin, ApiView):
    """The sessions of your organisation's events."""

    list_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="sessions_list",
        summary="List sessions",
        tags=["sessions"],
        parameters=SESSION_LIST_PARAMETERS,
        responses={
            200: s.envelope_serializer(s.SessionSerializer, "SessionList"),
            **problems(400, 401, 403, 429),
        },
    )
    def get(self, request):
        query = self.query()
        sessions, counts = self.listed_sessions()
        condition = session_filters(query)
        event_id = query.id("event_id")
        total = None
        if event_id is None and condition == Q():
            total = sum(counts.values())
        elif event_id is not None and condition == Q(event_id=event_id):
            total = counts.get(event_id, 0)
        order, unindexed = session_order(query, Session)
        return self.listing(
            sessions.filter(condition).order_by(*order),
            s.SessionSerializer,
            query,
            total=total,
            unindexed_order=unindexed,
        )

    @extend_schema(
        operation_id="sessions_create",
        summary="Create a session",
        tags=["sessions"],
        parameters=[VALIDATE_ONLY_PARAMETER],
        request={
            "application/json": s.SessionCreateBody,
            "application/x-www-form-urlencoded": s.SessionCreateBody,
        },
        responses={
            201: OpenApiResponse(s.SessionSerializer, description="Created; see Location."),
            200: OpenApiResponse(
                s.SessionPreviewSerializer, description="validate_only: what would be created."
            ),
            **problems(400, 401, 403, 409, 411, 413, 415, 422, 429),
        },
    )
    def post(self, request):
        query = self.query()
        validate_only = query.flag("validate_only")
        query.check()
        payload, form = self.body()
        data = session_input(payload, form=form, creating=True)
        event = one_or_none(
            Event.objects.filter(pk=data.pop("event_id"), organisation_id=self.organisation_id)
        )
        if event is None:
            raise PayloadInvalid(
                [FieldError("event_id", "does_not_exist", "There is no event with this id.")]
            )
        session = services.session_create(
            event=event, data=data, actor=self.actor, validate_only=validate_only
        )
        if validate_only:
            preview = s.SessionPreviewSerializer(session).data
            preview["id"] = None
            return Response(preview)
        response = self.session_response(session, status=http.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(
            reverse("api:session-detail", args=[session.pk])
        )
        return response


UPDATE_SCHEMA = {
    "tags": ["sessions"],
    "parameters": [ID_PARAMETER, VALIDATE_ONLY_PARAMETER, IF_MATCH_PARAMETER],
    "request": {
        "application/json": s.SessionUpdateBody,
        "application/x-www-form-urlencoded": s.SessionUpdateBody,
    },
    "responses": {200: s.SessionSerializer, **SESSION_WRITE_PROBLEMS},
    "description": (
        "Partial update: only the fields sent change, and the whole merged session is "
        "validated. A field that is not a session field is 422 unknown_field; a read-only "
        "field is accepted only with its current value (else 422 read_only). With If-Match "
        "the write happens only if the ETag is current (else 412). With validate_only=1 "
        "every check runs and nothing is written. PATCH, PUT and PUT /sessions/update/{id} "
        "are the same partial update."
    ),
}


class SessionUpdateMixin(SessionScopedMixin):
    def expected_version(self, pk: int) -> int | None:
        """The version ``If-Match`` allows the write on; 0 matches none (a 412)."""
        header = self.request.META.get("HTTP_IF_MATCH", "").strip()
        if not header:
            return None
        tags = [tag.strip() for tag in header.split(",")]
        if "*" in tags:
            return None
        versions = set()
        for tag in tags:
            match = _ETAG.match(tag)
            if match and int(match[1]) == pk:
                versions.add(int(match[2]))
        if len(versions) > 1:
            # Any listed tag may match: the one that is current now, if any. The service
            # checks it again under its lock.
            current = self.stored_session(pk).version
            return current if current in versions else 0
        return versions.pop() if versions else 0

    def partial_update(self, request, pk: str):
        pk = _pk(pk)
        query = self.query()
        validate_only = query.flag("validate_only")
        query.check()
        payload, form = self.body()
        needs_current = any(name in payload for name in (*READ_ONLY_FIELDS, "event_id"))
        current = self.stored_session(pk) if needs_current else None
        data = session_input(payload, form=form, creating=False, current=current)
        try:
            session = services.session_update(
                session_id=pk,
                data=data,
                actor=self.actor,
                expected_version=self.expected_version(pk),
                validate_only=validate_only,
                organisation_id=self.organisation_id,
            )
        except ObjectDoesNotExist:
            raise _not_found(pk) from None
        return self.session_response(session, etag=not validate_only)


class SessionItemView(SessionUpdateMixin, ApiView):
    """One session of your organisation."""

    @extend_schema(
        operation_id="sessions_retrieve",
        summary="Get a session",
        tags=["sessions"],
        parameters=[ID_PARAMETER, IF_NONE_MATCH_PARAMETER, *SHAPE_PARAMETERS],
        responses={
            200: s.SessionSerializer,
            304: OpenApiResponse(description="Not modified: If-None-Match holds the ETag."),
            **problems(400, 401, 403, 404, 429),
        },
    )
    def get(self, request, pk: str):
        query = self.query()
        shape = self.shaper(query)
        query.check()
        session = one_or_none(self.expanded(self.sessions(), query).filter(pk=_pk(pk)))
        if session is None:
            raise _not_found(_pk(pk))
        etag = session_etag(session)
        if_none_match = request.META.get("HTTP_IF_NONE_MATCH", "")
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        if etag in tags or "*" in tags:
            return Response(status=http.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        data = s.SessionSerializer(session, context={"request": request}).data
        return Response(shape(session, dict(data)), headers={"ETag": etag})

    @extend_schema(
        operation_id="sessions_partial_update", summary="Update a session", **UPDATE_SCHEMA
    )
    def patch(self, request, pk: str):
        return self.partial_update(request, pk)

    @extend_schema(
        operation_id="sessions_update",
        summary="Update a session (PUT, also partial)",
        **UPDATE_SCHEMA,
    )
    def put(self, request, pk: str):
        return self.partial_update(request, pk)

    @extend_schema(
        operation_id="sessions_destroy",
        summary="Delete a session",
        tags=["sessions"],
        parameters=[ID_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted; the history stays."),
            **problems(400, 401, 403, 404, 409, 429),
        },
        description="A live session is 409 until it is unpublished (moved to approved).",
    )
    def delete(self, request, pk: str):
        pk = _pk(pk)
        self.query().check()
        try:
            services.session_delete(
                session_id=pk, actor=self.actor, organisation_id=self.organisation_id
            )
        except ObjectDoesNotExist:
            raise _not_found(pk) from None
        return Response(status=http.HTTP_204_NO_CONTENT)


class SessionUpdateAliasView(SessionUpdateMixin, ApiView):
    """``PUT /sessions/update/{id}``: the vendor's path for the same partial update."""

    @extend_schema(
        operation_id="sessions_update_alias",
        summary="Update a session (vendor path)",
        **UPDATE_SCHEMA,
    )
    def put(self, request, pk: str):
        return self.partial_update(request, pk)


class SessionHistoryView(SessionScopedMixin, ApiView):
    """Who changed what and when, newest first."""

    list_methods = frozenset({"GET", "HEAD"})
    expansions = {}

    @extend_schema(
        operation_id="sessions_history",
        summary="A session's change log, newest first",
        tags=["sessions"],
        parameters=[ID_PARAMETER, *LIST_PARAMETERS],
        responses={
            200: s.envelope_serializer(s.SessionChangeSerializer, "SessionChangeList"),
            **problems(400, 401, 403, 404, 429),
        },
        description="Kept after the session is deleted.",
    )
    def get(self, request, pk: str):
        pk = _pk(pk)
        query = self.query()
        changes = (
            SessionChange.objects.filter(session_id=pk, event__organisation_id=self.organisation_id)
            .select_related("actor_client")
            .order_by("-created_at", "-id")
        )
        if not changes.exists() and not self.sessions().filter(pk=pk).exists():
            raise _not_found(pk)
        blind = self.blind_event_ids()
        if blind and changes.filter(event_id__in=blind).exists():
            # A speaker's own changes name no one to a blind reviewer's client.
            changes = changes.annotate(by_speaker=Q(actor_user__is_staff=False))
            return self.listing(changes, s.BlindSessionChangeSerializer, query)
        return self.listing(changes, s.SessionChangeSerializer, query)


class EventCollectionView(ApiView):
    """Your organisation's events."""

    list_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="events_list",
        summary="List your organisation's events",
        tags=["events"],
        parameters=LIST_PARAMETERS,
        responses={
            200: s.envelope_serializer(s.EventSerializer, "EventList"),
            **problems(400, 401, 403, 429),
        },
    )
    def get(self, request):
        events = Event.objects.filter(organisation_id=self.organisation_id).order_by(
            "start_date", "name", "id"
        )
        return self.listing(events, s.EventSerializer, self.query())


class EventItemView(ApiView):
    """One event of your organisation."""

    @extend_schema(
        operation_id="events_retrieve",
        summary="Get an event",
        tags=["events"],
        parameters=[ID_PARAMETER, *SHAPE_PARAMETERS],
        responses={200: s.EventSerializer, **problems(400, 401, 403, 404, 429)},
    )
    def get(self, request, pk: str):
        return self.item(self.event_in_path(pk), s.EventSerializer)


def _event_scoped_list(kind: str, serializer, operation_id: str):
    """A list of an event's tracks, locations or custom fields, ``?event_id=`` optional."""
    models = {"tracks": Track, "locations": Location, "fields": CustomField}

    class EventScopedListView(ApiView):
        """Definitions that belong to your organisation's events."""

        list_methods = frozenset({"GET", "HEAD"})

        @extend_schema(
            operation_id=operation_id,
            summary=f"List {kind} (of one event with event_id)",
            tags=["events"],
            parameters=[
                OpenApiParameter("event_id", int, description="Only this event's.", required=False),
                *LIST_PARAMETERS,
            ],
            responses={
                200: s.envelope_serializer(serializer, f"{serializer.__name__[:-10]}List"),
                **problems(400, 401, 403, 429),
            },
        )
        def get(self, request):
            query = self.query()
            queryset = models[kind].objects.filter(event__organisation_id=self.organisation_id)
            event_id = query.id("event_id")
            if event_id is not None:
                queryset = queryset.filter(event_id=event_id)
            if kind == "fields":
                queryset = queryset.prefetch_related("choices").order_by(
                    "event_id", "sort_order", "id"
                )
            else:
                queryset = queryset.order_by("event_id", "name", "id")
            return self.listing(queryset, serializer, query)

    EventScopedListView.__name__ = f"{kind.title()}ListView"
    EventScopedListView.__qualname__ = EventScopedListView.__name__
    return EventScopedListView


TrackListView = _event_scoped_list("tracks", s.TrackSerializer, "tracks_list")
LocationListView = _event_scoped_list("locations", s.LocationSerializer, "locations_list")
CustomFieldListView = _event_scoped_list("fields", s.CustomFieldSerializer, "session_fields_list")
