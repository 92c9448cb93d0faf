"""Schedule suggestions (scope ``schedule:write``): ask for one for an event, and read it.

The background worker makes it (``sessions_app.planning.jobs``); accepting moves is a
session write like any other (``PATCH /sessions/{id}`` with ``If-Match``), each move
carrying the version it was made from.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from sessions_app.api.schema import ID_PARAMETER, SHAPE_PARAMETERS, problems
from sessions_app.api.serializers import (
    DateInputField,
    FlagInputField,
    FlatOutputSerializer,
    NullableUtcDateTimeField,
    UtcDateTimeField,
)
from sessions_app.api.views import ApiView
from sessions_app.models import Event, ScheduleProposal
from sessions_app.planning import jobs
from sessions_app.selectors import one_or_none
from sessions_app.wire.problems import FieldError, PayloadInvalid
from sessions_app.wire.session_input import MAX_ID, _Invalid, to_date, to_flag, to_ids


class ScoreSerializer(serializers.Serializer):
    attendee_clashes = serializers.IntegerField(
        help_text="Registrants whose two chosen sessions run at the same time (per pair)."
    )
    seats_short = serializers.IntegerField(help_text="Expected attendees over the capacity.")
    moved = serializers.IntegerField(help_text="Placed sessions that move.")
    track_rooms = serializers.IntegerField(help_text="Rooms tracks use beyond their first.")


class MoveSerializer(serializers.Serializer):
    session_id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField(
        help_text='The version it was made from: If-Match "<session_id>-<version>" applies the '
        "move only if the session has not changed since."
    )
    location_id = serializers.IntegerField()
    date = serializers.DateField()
    start_time = serializers.CharField(help_text="HH:MM, in the event's time zone.")
    end_time = serializers.CharField(help_text="HH:MM, in the event's time zone.")
    was = serializers.CharField(help_text='"not scheduled", or where it is now.')
    now = serializers.CharField(help_text="Where the suggestion puts it.")
    audience = serializers.IntegerField(
        help_text="The seat estimate: seats taken, waiting and interested, else its capacity."
    )
    seats = serializers.IntegerField(
        allow_null=True, help_text="The room's seats where it goes; null: no limit."
    )


class ShortfallSerializer(serializers.Serializer):
    constraint = serializers.ChoiceField(
        choices=["room_time", "room_size", "speaker_time"],
        help_text="room_time: the rooms' open minutes; room_size: the rooms that seat the "
        "expected audiences; speaker_time: a speaker's available hours.",
    )
    message = serializers.CharField()
    hard = serializers.BooleanField(
        help_text="true: some sessions cannot be placed; false: they fit, some with fewer "
        "seats than expected."
    )
    session_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="The sessions it concerns (may be empty)."
    )


class ProposalSerializer(FlatOutputSerializer):
    """A schedule suggestion: its state while the worker makes it, then its moves."""

    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    day = serializers.DateField(allow_null=True, help_text="null: every day of the event.")
    move_placed = serializers.IntegerField(help_text="1: placed sessions may move too.")
    session_ids = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Only these sessions are placed (or moved); empty: every session.",
    )
    state = serializers.ChoiceField(choices=ScheduleProposal.State.choices)
    progress = serializers.CharField(
        help_text="While the worker runs: the schedules found so far and the best one's "
        "registrant clashes; after a failure or a cancel, what happened."
    )
    status = serializers.SerializerMethodField(
        help_text="Once done: optimal or feasible (every session placed, every rule kept), "
        "partial (some placed; reasons says why each other one is not), infeasible (none "
        "could be; reasons) or nothing_to_place (every session stays where it is); never "
        "anything else. Empty while it runs."
    )
    moves = serializers.SerializerMethodField()
    before = serializers.SerializerMethodField()
    after = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField(
        help_text="For a partial or infeasible answer: why each session not placed cannot go, "
        "by id."
    )
    shortfalls = serializers.SerializerMethodField(
        help_text="What the event cannot meet, compared before solving: the rooms' open "
        "time, room sizes, speakers' hours. Empty where nothing stands out."
    )
    created_at = UtcDateTimeField()
    finished_at = NullableUtcDateTimeField()

    def get_status(self, proposal) -> str:
        return (proposal.result or {}).get("status", "")

    @extend_schema_field(MoveSerializer(many=True))
    def get_moves(self, proposal) -> list[dict]:
        return MoveSerializer(jobs.moves_of(proposal), many=True).data

    @extend_schema_field(ScoreSerializer(allow_null=True))
    def get_before(self, proposal) -> dict | None:
        return (proposal.result or {}).get("before")

    @extend_schema_field(ScoreSerializer)
    def get_after(self, proposal) -> dict | None:
        """The same counts with the suggestion; absent while it runs and where nothing was
        placed (infeasible, nothing_to_place)."""
        return (proposal.result or {}).get("after")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("after") is None:
            data.pop("after", None)
        return data

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_reasons(self, proposal) -> dict[str, str]:
        return (proposal.result or {}).get("reasons", {})

    @extend_schema_field(ShortfallSerializer(many=True))
    def get_shortfalls(self, proposal) -> list[dict]:
        return (proposal.result or {}).get("shortfalls", [])


class ProposalCreateBody(serializers.Serializer):
    day = DateInputField(required=False, help_text="One day of the event; null or left out: all.")
    move_placed = FlagInputField(required=False, help_text="1: placed sessions may move too.")
    session_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=jobs.MAX_CHOSEN,
        help_text="Only these sessions of the event (JSON body only); left out: every one.",
    )


def _chosen(raw, *, form: bool, event: Event) -> list[int]:
    """``session_ids``: sessions of the event."""
    ids = set(to_ids(raw, form=form, field="session_ids", noun="session", most=jobs.MAX_CHOSEN))
    unknown = ids - set(event.sessions.filter(pk__in=ids).values_list("pk", flat=True))
    if unknown:
        listed = ", ".join(map(str, sorted(unknown)[:10]))
        raise _Invalid("does_not_exist", f"There is no session of this event with id {listed}.")
    return sorted(ids)


def _proposal_input(payload: dict, *, form: bool, event: Event) -> dict:
    errors, data = [], {}
    for name, raw in payload.items():
        try:
            if name == "day":
                data["day"] = to_date(raw, form=form)
                if (
                    data["day"] is not None
                    and not event.start_date <= data["day"] <= event.end_date
                ):
                    raise _Invalid("outside_event", "The day must be one of the event's days.")
            elif name == "move_placed":
                data["move_placed"] = to_flag(raw, form=form)
            elif name == "session_ids":
                data["session_ids"] = _chosen(raw, form=form, event=event)
            else:
                raise _Invalid("unknown_field", f"{name[:100]!r} is not a field of a proposal.")
        except _Invalid as exc:
            errors.append(FieldError(name[:100], exc.code, exc.message))
    if errors:
        raise PayloadInvalid(errors)
    return data


class ProposalScopedMixin:
    scope_family = "schedule"
    fixed_scope = "schedule:write"
    required_scopes = ["schedule"]


class ProposalCreateView(ProposalScopedMixin, ApiView):
    """Ask for a suggestion for one of your events."""

    @extend_schema(
        operation_id="schedule_proposals_create",
        summary="Ask for a schedule suggestion",
        tags=["schedule"],
        parameters=[ID_PARAMETER],
        request={"application/json": ProposalCreateBody},
        responses={
            202: OpenApiResponse(
                ProposalSerializer, description="Queued for the worker; see Location."
            ),
            **problems(400, 401, 403, 404, 411, 413, 415, 422, 429),
        },
        description=(
            "Places the event's unscheduled sessions (of one day, or of all; with "
            "session_ids, only those) where every rule holds and registrants' chosen "
            "sessions do not clash; with move_placed=1 placed sessions may move too. Live "
            "and pinned sessions never move. The background worker makes it in up to ten "
            "seconds: read it at Location until state is done."
        ),
    )
    def post(self, request, pk: str):
        self.query().check()
        event = self.event_in_path(pk)
        payload, form = self.body()
        data = _proposal_input(payload, form=form, event=event)
        proposal = jobs.start(
            event=event,
            user=None,
            day=data.get("day"),
            move_placed=data.get("move_placed", False),
            session_ids=data.get("session_ids"),
        )
        response = Response(ProposalSerializer(proposal).data, status=http.HTTP_202_ACCEPTED)
        response["Location"] = request.build_absolute_uri(
            reverse("api:schedule-proposal-detail", args=[proposal.pk])
        )
        return response


class ProposalItemView(ProposalScopedMixin, ApiView):
    """One suggestion."""

    @extend_schema(
        operation_id="schedule_proposals_retrieve",
        summary="Read a schedule suggestion",
        tags=["schedule"],
        parameters=[ID_PARAMETER, *SHAPE_PARAMETERS],
        responses={200: ProposalSerializer, **problems(400, 401, 403, 404, 429)},
    )
    def get(self, request, pk: str):
        number = int(pk)
        found = (
            one_or_none(
                ScheduleProposal.objects.filter(
                    pk=number, event__organisation_id=self.organisation_id
                )
            )
            if number <= MAX_ID
            else None
        )
        if found is None:
            raise NotFound(f"There is no schedule proposal with id {pk[:30]}.")
        return self.item(found, ProposalSerializer)
