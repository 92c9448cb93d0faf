"""Schedule suggestions for an event: the solver's problem read from the database, its
answer as moves to review, and the moves an organiser accepts applied through the session
service, each with the version the suggestion was made from.

A session is placed in the event's zone, on its days between ``DAY_START`` and ``DAY_END``.
Sessions an organiser pinned stay where they are (placed or not), and so do live ones
(registrants hold seats in them); other sessions that are placed stay where they are unless
``move_placed``. An unscheduled session takes its own length (``duration_minutes``: its
type's, or what the organiser set). The expected audience of a session is its seats
taken, waitlist and interests, else its capacity; every pair of sessions that registrants
chose (seats, waitlists and interests alike) counts: each registrant who chose both is a
clash if they run at once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import zoneinfo
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from sessions_app import services
from sessions_app.enums import HOLDING_STATUSES, SessionStatus
from sessions_app.exceptions import StaleVersionError
from sessions_app.models import (
    BlockedSlot,
    Event,
    LocationOpening,
    Selection,
    Session,
    SessionSpeaker,
    SpeakerAvailability,
)
from sessions_app.planning import solver
from sessions_app.planning.solver import DAY, Item, Problem, Room, Score

DAY_START = dt.time(8, 0)
DAY_END = dt.time(20, 0)
NOTE = "From a schedule suggestion."
FULL = "the rooms' open time is used up: the event has more sessions than room time"
TICK = 0.5  # seconds between a running suggestion's progress reports


@dataclass(frozen=True)
class Move:
    session_id: int
    name: str
    version: int  # the version the suggestion was made from: accepted only if still so
    location_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    was: str  # "not scheduled" or "Mon 4 Jan 10:00, Main Hall"
    now: str
    # The seat estimate: seats taken, waiting and interested (else the capacity), and the
    # room's seats (None: no limit).
    audience: int = 0
    seats: int | None = None


@dataclass
class Proposal:
    status: str
    moves: list[Move]
    before: Score
    after: Score
    reasons: dict[int, str] = field(default_factory=dict)  # session id -> why not placed
    seconds: float = 0.0
    # What the event cannot meet, found before solving (solver.precheck): dicts of
    # "constraint", "message", "hard" and "session_ids".
    shortfalls: list[dict] = field(default_factory=list)


class _Clock:
    """Minutes from the event's first local midnight, and back."""

    def __init__(self, event: Event) -> None:
        self.zone = zoneinfo.ZoneInfo(event.timezone)
        self.origin = dt.datetime.combine(event.start_date, dt.time(0), tzinfo=self.zone)

    def minutes(self, moment: dt.datetime) -> int:
        local = moment.astimezone(self.zone)
        day = (local.date() - self.origin.date()).days
        return day * DAY + local.hour * 60 + local.minute

    def moment(self, minutes: int) -> tuple[dt.date, dt.time]:
        day, rest = divmod(minutes, DAY)
        return self.origin.date() + dt.timedelta(days=day), dt.time(rest // 60, rest % 60)


def problem_for(
    event: Event,
    *,
    day: dt.date | None = None,
    session_ids: list[int] | None = None,
    move_placed: bool = False,
    step: int = 15,
) -> tuple[Problem, dict[int, Session]]:
    clock = _Clock(event)
    days = [
        event.start_date + dt.timedelta(days=n)
        for n in range((event.end_date - event.start_date).days + 1)
    ]
    if day is not None:
        days = [d for d in days if d == day]
    windows = tuple(
        (
            (d - event.start_date).days * DAY + DAY_START.hour * 60 + DAY_START.minute,
            (d - event.start_date).days * DAY + DAY_END.hour * 60 + DAY_END.minute,
        )
        for d in days
    )
    openings: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for opening in LocationOpening.objects.filter(location__event=event):
        openings[opening.location_id].append(
            (clock.minutes(opening.starts_at), clock.minutes(opening.ends_at))
        )
    rooms = tuple(
        Room(location.pk, capacity=location.capacity, open=tuple(openings.get(location.pk, ())))
        for location in event.locations.order_by("pk")
    )
    sessions = {
        s.pk: s
        for s in Session.objects.filter(event=event)
        .exclude(session_status=SessionStatus.REJECTED)
        .order_by("pk")
    }
    speakers: dict[int, list[int]] = defaultdict(list)
    for link in SessionSpeaker.objects.filter(session__event=event).order_by("position"):
        speakers[link.session_id].append(link.speaker_id)
    wanted = set(session_ids) if session_ids else None
    items = []
    for session in sessions.values():
        placed = session.starts_at is not None and session.location_id is not None
        choose = wanted is None or session.pk in wanted
        holds = session.session_status in HOLDING_STATUSES
        if placed and session.date not in days:
            continue  # another day: nothing placed here can meet it
        if placed and not holds and (session.pinned or not (move_placed and choose)):
            continue  # a proposal on the grid holds no room: no obstacle, and stays put
        if not placed and (session.pinned or not choose):
            continue  # pinned unscheduled: the organiser keeps it off the grid
        duration = (
            clock.minutes(session.ends_at) - clock.minutes(session.starts_at)
            if placed
            else session.duration_minutes
        )
        audience = session.seats_taken + session.waitlist_count + session.interest_count or (
            session.capacity or 0
        )
        items.append(
            Item(
                session.pk,
                duration,
                speakers=tuple(speakers.get(session.pk, ())),
                track=session.track_id,
                audience=audience,
                current=(session.location_id, clock.minutes(session.starts_at)) if placed else None,
                # Live sessions stay: registrants hold seats in them. So do pinned sessions,
                # and those not chosen.
                pinned=placed
                and (session.pinned or session.session_status == SessionStatus.LIVE or not choose),
            )
        )
    availability: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for window in SpeakerAvailability.objects.filter(speaker__event=event):
        availability[window.speaker_id].append(
            (clock.minutes(window.starts_at), clock.minutes(window.ends_at))
        )
    blocks = tuple(
        (block.location_id, clock.minutes(block.starts_at), clock.minutes(block.ends_at))
        for block in BlockedSlot.objects.filter(event=event)
    )
    ids = {item.id for item in items}
    chosen: dict[int, list[int]] = defaultdict(list)
    for registrant_id, session_id in Selection.objects.filter(session_id__in=ids).values_list(
        "registrant_id", "session_id"
    ):
        chosen[registrant_id].append(session_id)
    together = Counter()
    for picks in chosen.values():
        together.update(itertools.combinations(sorted(picks), 2))
    problem = Problem(
        days=windows,
        rooms=rooms,
        items=tuple(items),
        step=step,
        blocks=blocks,
        availability={k: tuple(v) for k, v in availability.items()},
        together=dict(together),
        move_placed=move_placed,
    )
    return problem, sessions


def _place_text(clock: _Clock, rooms: dict[int, str], place) -> str:
    if place is None:
        return "not scheduled"
    room, minutes = place
    day, start = clock.moment(minutes)
    return f"{day:%a %-d %b} {start:%H:%M}, {rooms.get(room, 'a room')}"


def propose(
    event: Event,
    *,
    day: dt.date | None = None,
    session_ids: list[int] | None = None,
    move_placed: bool = False,
    seconds: float = 10.0,
    tick=None,
) -> Proposal:
    """The solver's suggestion for the event's sessions. It runs on a thread of its own;
    meanwhile ``tick(latest)`` is called here every ``TICK`` seconds with what it has found
    so far (``{"found", "seconds", "attendee_clashes"}``, empty before the first schedule),
    and stops the search by answering true: the best schedule found by then is the answer;
    once more at the end, with the figures of the schedule answered.
    (The solver's threads touch no database: ``tick`` may.)"""
    problem, sessions = problem_for(
        event, day=day, session_ids=session_ids, move_placed=move_placed
    )
    shortfalls = solver.precheck(problem, {pk: s.name for pk, s in sessions.items()})
    before = solver.score(
        problem, {i.id: i.current for i in problem.items if i.current is not None}
    )
    stop = threading.Event()
    latest: dict = {}

    def on_solution(found: int, elapsed: float, clashes: int) -> None:
        latest.update(found=found, seconds=elapsed, attendee_clashes=clashes)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="solver") as pool:
        running = pool.submit(
            solver.solve, problem, seconds=seconds, should_stop=stop.is_set,
            on_solution=on_solution,
        )  # fmt: skip
        while True:
            try:
                result = running.result(timeout=TICK)
                break
            except FutureTimeout:
                if tick is not None and not stop.is_set() and tick(dict(latest)):
                    stop.set()
    if tick is not None and latest:
        tick(dict(latest))  # the last figures: those of the schedule answered
    clock = _Clock(event)
    rooms = dict(event.locations.values_list("pk", "name"))
    seats = {room.id: room.capacity for room in problem.rooms}
    # A session left out for want of a slot is left out for the constraint the check named.
    full = any(s.hard and s.constraint == "room_time" for s in shortfalls)
    named = {pk: s.message for s in shortfalls if s.hard for pk in s.item_ids}
    reasons = {
        pk: (named.get(pk) or (FULL if full else why)) if why == solver.NO_FITTING_SLOT else why
        for pk, why in result.reasons.items()
    }
    moves = []
    for item in problem.items:
        place = result.placements.get(item.id)
        if place is None or place == item.current:
            continue
        session = sessions[item.id]
        date, start = clock.moment(place[1])
        _date, end = clock.moment(place[1] + item.duration)
        moves.append(
            Move(
                session.pk, session.name, session.version, place[0], date, start, end,
                _place_text(clock, rooms, item.current), _place_text(clock, rooms, place),
                item.audience, seats.get(place[0]),
            )
        )  # fmt: skip
    return Proposal(
        result.status, moves, before, result.score, reasons, result.seconds,
        [shortfall.as_dict() for shortfall in shortfalls],
    )  # fmt: skip


@dataclass
class Accepted:
    applied: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # session id -> why


def accept(moves: list[Move], *, actor: services.Actor, note: str = NOTE) -> Accepted:
    """Each move through the session service, as one write of its own (one history entry,
    the organiser as the actor), only if the session is still at the version the suggestion
    saw: one changed meanwhile is skipped and said so, never overwritten."""
    outcome = Accepted()
    for move in moves:
        try:
            services.session_update(
                session_id=move.session_id,
                data={
                    "location_id": move.location_id,
                    "date": move.date,
                    "start_time": move.start_time,
                    "end_time": move.end_time,
                },
                actor=actor,
                expected_version=move.version,
                note=note,
            )
        except StaleVersionError:
            outcome.skipped[move.session_id] = "changed since the suggestion was made"
        except Session.DoesNotExist:
            outcome.skipped[move.session_id] = "deleted since the suggestion was made"
        except ValidationError as exc:
            outcome.skipped[move.session_id] = " ".join(exc.messages)
        else:
            outcome.applied.append(move.session_id)
    return outcome
