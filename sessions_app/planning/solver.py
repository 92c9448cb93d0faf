"""The schedule solver over plain data: the greedy baseline, OR-Tools CP-SAT for small
events and for finding a first complete schedule, and the local search of
``planning.search`` that improves it for the rest of the time.

Time is in minutes from the event's first midnight (day ``d`` starts at ``d * 1440``).
A session gets a room and a start on the step grid. Hard rules:

- a room holds one session at a time, only while it is open and not blocked;
- a speaker is in one place at a time, and only while available;
- a session keeps its duration and stays within one day's window;
- pinned sessions do not move (they are fixed intervals the others work around).

What makes a schedule good, in the order of the weights: sessions that the same
registrants chose do not run at the same time (each registrant who chose both counts), the
expected audience fits the room (each seat short counts), few existing sessions move, and a
track keeps to as few rooms as it can. Every co-chosen pair counts; ``precheck`` says
beforehand which of the constraints the sessions to place cannot all meet.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field

from sessions_app.planning import search

DAY = 1440
NO_FITTING_SLOT = "every fitting slot is taken"


@dataclass(frozen=True)
class Room:
    id: int
    capacity: int | None = None
    # Open intervals (start, end) in minutes; empty: open whenever the event runs.
    open: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Item:
    """A session to place (or a pinned one, which stays where it is)."""

    id: int
    duration: int
    speakers: tuple[int, ...] = ()
    track: int | None = None
    audience: int = 0
    # Where it is now: (room, start), or None when it is not scheduled.
    current: tuple[int, int] | None = None
    pinned: bool = False


@dataclass(frozen=True)
class Problem:
    days: tuple[tuple[int, int], ...]  # each day's window (start, end), in minutes
    rooms: tuple[Room, ...]
    items: tuple[Item, ...]
    step: int = 15
    # Blocked slots: (room id, or None for every room, start, end).
    blocks: tuple[tuple[int | None, int, int], ...] = ()
    # A speaker's available intervals; a speaker not named here is always available.
    availability: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    # Registrants who chose both sessions of a pair: {(a, b): count}, a < b.
    together: dict[tuple[int, int], int] = field(default_factory=dict)
    # May sessions placed already (and not pinned) move?
    move_placed: bool = False


@dataclass
class Weights:
    clash: int = 100  # per registrant who chose two sessions running at once
    seat: int = 10  # per expected attendee without a seat
    move: int = 300  # per existing session moved
    track_room: int = 20  # per room a track uses beyond its first


@dataclass
class Score:
    attendee_clashes: int = 0  # registrant-pairs of sessions at the same time
    seats_short: int = 0  # expected attendees over the room's capacity
    moved: int = 0
    track_rooms: int = 0


@dataclass
class Result:
    # "optimal", "feasible" (every session placed, every rule kept), "partial" (some placed;
    # ``reasons`` says why each other one is not), "infeasible" (none could be placed), or
    # "nothing_to_place" (every session stays where it is: pinned, live, or placed already).
    status: str
    placements: dict[int, tuple[int, int]]  # item id -> (room id, start)
    score: Score
    seconds: float = 0.0
    first_solution_seconds: float | None = None
    reasons: dict[int, str] = field(default_factory=dict)  # item id -> why it cannot go


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _inside(interval: tuple[int, int], allowed: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= interval[0] and interval[1] <= hi for lo, hi in allowed)


def _room_free_at(problem: Problem, room: Room, interval) -> bool:
    if room.open and not _inside(interval, room.open):
        return False
    return not any(
        (where is None or where == room.id) and _overlaps(interval, (lo, hi))
        for where, lo, hi in problem.blocks
    )


def _speakers_available(problem: Problem, item: Item, interval) -> bool:
    return all(
        _inside(interval, problem.availability[s])
        for s in item.speakers
        if s in problem.availability
    )


def starts_for(problem: Problem, item: Item) -> list[int]:
    """The starts on the step grid where the item fits a day and all its speakers."""
    starts = []
    for lo, hi in problem.days:
        first = -(-lo // problem.step) * problem.step
        for start in range(first, hi - item.duration + 1, problem.step):
            if _speakers_available(problem, item, (start, start + item.duration)):
                starts.append(start)
    return starts


def options(problem: Problem, item: Item) -> list[tuple[int, int]]:
    """Every (room, start) that breaks no rule of the item's own: the hard rules that do
    not depend on the other sessions."""
    found = []
    for start in starts_for(problem, item):
        interval = (start, start + item.duration)
        for room in problem.rooms:
            if _room_free_at(problem, room, interval):
                found.append((room.id, start))
    return found


def explain(problem: Problem, item: Item) -> str | None:
    """Why the item has nowhere to go on its own, or None if it has somewhere."""
    if not any(hi - lo >= item.duration for lo, hi in problem.days):
        return f"no day is {item.duration} minutes long"
    if not starts_for(problem, item):
        return "its speakers are never all available for its whole length"
    if not options(problem, item):
        return "no room is open and unblocked while its speakers are available"
    return None


def score(problem: Problem, placements: dict[int, tuple[int, int]]) -> Score:
    by_id = {item.id: item for item in problem.items}
    rooms = {room.id: room for room in problem.rooms}
    result = Score()
    spans = {i: (start, start + by_id[i].duration) for i, (_room, start) in placements.items()}
    for (a, b), count in problem.together.items():
        if a in spans and b in spans and _overlaps(spans[a], spans[b]):
            result.attendee_clashes += count
    track_rooms: dict[int, set[int]] = defaultdict(set)
    for i, (room, _start) in placements.items():
        item = by_id[i]
        capacity = rooms[room].capacity
        if capacity is not None:
            result.seats_short += max(0, item.audience - capacity)
        if item.current is not None and not item.pinned and item.current != placements[i]:
            result.moved += 1
        if item.track is not None:
            track_rooms[item.track].add(room)
    result.track_rooms = sum(max(0, len(used) - 1) for used in track_rooms.values())
    return result


def valid(problem: Problem, placements: dict[int, tuple[int, int]]) -> list[str]:
    """Every hard rule the placements break (empty: none); what the tests and the
    benchmark check the solver's answers with."""
    broken = []
    by_id = {item.id: item for item in problem.items}
    rooms = {room.id: room for room in problem.rooms}
    spans = {i: (s, s + by_id[i].duration) for i, (_r, s) in placements.items()}
    for i, (room, start) in placements.items():
        item, span = by_id[i], spans[i]
        if item.pinned and item.current != (room, start):
            broken.append(f"{i}: pinned but moved")
        if not any(lo <= span[0] and span[1] <= hi for lo, hi in problem.days):
            broken.append(f"{i}: outside the days")
        if not item.pinned and start % problem.step:
            broken.append(f"{i}: off the step")
        if not item.pinned and not _room_free_at(problem, rooms[room], span):
            broken.append(f"{i}: room closed or blocked")
        if not item.pinned and not _speakers_available(problem, item, span):
            broken.append(f"{i}: a speaker is unavailable")
    ids = sorted(placements)
    for n, a in enumerate(ids):
        for b in ids[n + 1 :]:
            if not _overlaps(spans[a], spans[b]):
                continue
            if placements[a][0] == placements[b][0]:
                broken.append(f"{a} and {b}: one room at once")
            if set(by_id[a].speakers) & set(by_id[b].speakers):
                broken.append(f"{a} and {b}: a speaker in two places")
    return broken


# --- the greedy baseline ----------------------------------------------------------------------


def greedy(problem: Problem, choices_of: dict[int, list] | None = None) -> Result:
    """Each session at the earliest start where a room fits it (the smallest room that seats
    its audience, else the largest), the hardest to place first, then the most popular:
    what a person dragging blocks one at a time does. Placed sessions stay where they are."""
    started = time.monotonic()
    placements: dict[int, tuple[int, int]] = {}
    # Time taken, in ticks of the finest unit the problem uses (5 minutes, typically).
    tick = math.gcd(
        problem.step,
        *(i.duration for i in problem.items),
        *(i.current[1] for i in problem.items if i.current),
    )
    busy: set[tuple[str, int, int]] = set()

    def ticks(start: int, duration: int) -> range:
        return range(start // tick, (start + duration) // tick)

    def free(item: Item, room: int, start: int) -> bool:
        span = ticks(start, item.duration)
        if any(("room", room, t) in busy for t in span):
            return False
        return not any(("speaker", s, t) in busy for s in item.speakers for t in span)

    def take(item: Item, room: int, start: int) -> None:
        placements[item.id] = (room, start)
        for t in ticks(start, item.duration):
            busy.add(("room", room, t))
            for s in item.speakers:
                busy.add(("speaker", s, t))

    for item in problem.items:
        if item.current is not None and (item.pinned or not problem.move_placed):
            take(item, *item.current)
    rooms_by_fit = sorted(problem.rooms, key=lambda r: r.capacity or 10**9)
    reasons = {}
    waiting = [i for i in problem.items if i.id not in placements]
    choices_of = choices_of or {}
    choices_of = {i.id: choices_of.get(i.id) or options(problem, i) for i in waiting}
    starts_of = {i.id: len({start for _room, start in choices_of[i.id]}) for i in waiting}
    # The sessions with the fewest places first (speakers who come for a day), then the most
    # popular: a person would start with the hard ones too.
    for item in sorted(waiting, key=lambda i: (starts_of[i.id], -i.audience)):
        fitting = [r for r in rooms_by_fit if r.capacity is None or r.capacity >= item.audience]
        order = fitting + [r for r in reversed(rooms_by_fit) if r not in fitting]
        rank = {room.id: n for n, room in enumerate(order)}
        choices = sorted(choices_of[item.id], key=lambda o: (o[1], rank[o[0]]))
        for room, start in choices:
            if free(item, room, start):
                take(item, room, start)
                break
        else:
            reasons[item.id] = explain(problem, item) or NO_FITTING_SLOT
    seconds = time.monotonic() - started
    return Result(
        status="feasible" if not reasons else "infeasible",
        placements=placements,
        score=score(problem, placements),
        seconds=seconds,
        first_solution_seconds=seconds,
        reasons=reasons,
    )


# --- CP-SAT ------------------------------------------------------------------------------------


# When the greedy baseline placed every session, CP-SAT is given a small event (up to
# CP_SAT_SMALL sessions to place) for a share of the time, where it often proves a schedule
# optimal; a larger one goes to the local search at once, which does better with the time.
CP_SAT_SHARE, CP_SAT_MAX, CP_SAT_SMALL = 0.2, 2.0, 40


def cost(problem: Problem, placements: dict[int, tuple[int, int]], weights: Weights) -> int:
    found = score(problem, placements)
    return (
        weights.clash * found.attendee_clashes
        + weights.seat * found.seats_short
        + weights.move * found.moved
        + weights.track_room * found.track_rooms
    )


def solve(
    problem: Problem,
    *,
    seconds: float = 10.0,
    weights: Weights | None = None,
    workers: int = 2,
    hint: dict[int, tuple[int, int]] | None = None,
    should_stop=None,
    on_solution=None,
    seed: int = 0,
) -> Result:
    """The best schedule found within ``seconds``, every co-chosen pair counted.

    The greedy baseline first; then CP-SAT from it (or from ``hint``) for a short while,
    which proves a small event optimal or gives a first complete schedule where greedy could
    not place everything; then the local search (``planning.search``) improves the better
    of the two for the rest of the time. ``should_stop()`` is asked now and then (a cancel:
    the best schedule so far is the answer), and ``on_solution(found, seconds,
    attendee_clashes)`` told of each better schedule: how many so far, when, and its
    registrant clashes counted as the result's score counts them."""
    weights = weights or Weights()
    search.warm()  # compiled once per process, before the clock starts
    started = time.monotonic()
    free = [
        item
        for item in problem.items
        if not item.pinned and not (item.current is not None and not problem.move_placed)
    ]
    if not free:  # the schedule stays as it is
        current = {i.id: i.current for i in problem.items if i.current is not None}
        return Result("nothing_to_place", {}, score(problem, current), time.monotonic() - started)
    choices_of = {item.id: options(problem, item) for item in free}
    reasons = {item.id: explain(problem, item) or "" for item in free if not choices_of[item.id]}
    if reasons:
        # These have no place on their own; the others are placed as well as they can be.
        if len(reasons) == len(free):
            return Result("infeasible", {}, Score(), time.monotonic() - started, None, reasons)
        rest = dataclasses.replace(
            problem, items=tuple(i for i in problem.items if i.id not in reasons)
        )
        inner = solve(
            rest,
            seconds=max(0.1, seconds - (time.monotonic() - started)),
            weights=weights,
            workers=workers,
            should_stop=should_stop,
            on_solution=on_solution,
            seed=seed,
        )
        placed = inner.status in ("optimal", "feasible", "partial")
        inner.status = "partial" if placed else "infeasible"
        inner.reasons = {**reasons, **inner.reasons}
        inner.seconds = time.monotonic() - started
        return inner
    baseline = greedy(problem, choices_of=choices_of)
    complete = not baseline.reasons
    found = [0]

    def told(count: int, elapsed: float, clashes: int) -> None:
        found[0] += 1
        if on_solution is not None:
            on_solution(found[0], elapsed, clashes)

    if complete and len(free) > CP_SAT_SMALL:
        exact = Result("unknown", {}, Score())
    else:
        budget = min(CP_SAT_MAX, CP_SAT_SHARE * seconds) if complete else 0.5 * seconds
        exact = _cp_sat(
            problem, choices_of, seconds=budget, weights=weights, workers=workers,
            hint=hint or baseline.placements, should_stop=should_stop,
            on_solution=told, started=started, seed=seed,
        )  # fmt: skip
    if exact.status == "optimal":
        exact.seconds = time.monotonic() - started
        return exact
    movable = {item.id for item in free}
    reasons = {}
    if exact.status == "feasible":
        start, first = exact.placements, exact.first_solution_seconds
        if complete and cost(problem, baseline.placements, weights) < cost(problem, start, weights):
            start = baseline.placements
    elif complete:
        start, first = baseline.placements, baseline.first_solution_seconds
        every = {item.id for item in problem.items}
        if hint and set(hint) >= every and not valid(problem, hint):
            start = {i: hint[i] for i in every}  # a hint complete and keeping every rule
    else:
        # No schedule with every session (none exists, or none found in the time): the
        # greedy baseline's, which keeps every rule for those it placed, improved as it is.
        start, first = baseline.placements, baseline.first_solution_seconds
        reasons = baseline.reasons
        if not movable & set(start):
            return Result(
                "infeasible", {}, Score(), time.monotonic() - started, None,
                baseline.reasons or _crowded(problem),
            )  # fmt: skip
    # The schedule the search starts from is one found too.
    told(0, time.monotonic() - started, score(problem, start).attendee_clashes)
    if should_stop is None or not should_stop():
        start = search.improve(
            problem, start, movable=movable, seconds=seconds, weights=weights, seed=seed,
            choices_of=choices_of, should_stop=should_stop, on_solution=told, started=started,
        )  # fmt: skip
    return Result(
        status="partial" if reasons else "feasible",
        placements=start,
        score=score(problem, start),
        seconds=time.monotonic() - started,
        first_solution_seconds=first,
        reasons=reasons,
    )


def _cp_sat(
    problem: Problem,
    choices_of: dict[int, list[tuple[int, int]]],
    *,
    seconds: float,
    weights: Weights,
    workers: int,
    hint: dict[int, tuple[int, int]],
    should_stop,
    on_solution,
    started: float,
    seed: int,
) -> Result:
    """CP-SAT's best schedule in ``seconds``: status "optimal", "feasible" (placements of
    every item), or "unknown" (none found: no placements)."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    rooms = {room.id: room for room in problem.rooms}
    room_intervals: dict[int, list] = defaultdict(list)
    speaker_intervals: dict[int, list] = defaultdict(list)
    starts, ends, chosen = {}, {}, {}
    objective = []

    # What no session may use: blocked slots, closed hours and the sessions that stay where
    # they are, per room and per speaker. Merged first: fixed intervals in one resource must
    # not overlap each other (stored data may already clash; that is not this search's to
    # solve, only to work around).
    horizon = max(hi for _lo, hi in problem.days)
    taken: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for room in problem.rooms:
        for where, lo, hi in problem.blocks:
            if where in (None, room.id):
                taken[("room", room.id)].append((lo, hi))
        if room.open:
            cursor = 0
            for lo, hi in sorted(room.open):
                if lo > cursor:
                    taken[("room", room.id)].append((cursor, lo))
                cursor = max(cursor, hi)
            if cursor < horizon:
                taken[("room", room.id)].append((cursor, horizon))

    track_uses: dict[tuple[int, int], object] = {}
    # A complete hint (every helper variable too) lets CP-SAT take it as its first solution.
    hinted: dict[int, tuple[int, int]] = {}
    for item in problem.items:
        fixed = item.pinned or (item.current is not None and not problem.move_placed)
        if fixed:
            room, start = item.current
            span = (start, start + item.duration)
            taken[("room", room)].append(span)
            for s in item.speakers:
                taken[("speaker", s)].append(span)
            starts[item.id] = model.NewConstant(start)
            ends[item.id] = model.NewConstant(start + item.duration)
            chosen[item.id] = {room: model.NewConstant(1)}
            hinted[item.id] = (room, start)
            continue
        allowed = choices_of[item.id]
        by_room: dict[int, list[int]] = defaultdict(list)
        for room, start in allowed:
            by_room[room].append(start)
        all_starts = sorted({start for _room, start in allowed})
        start = model.NewIntVarFromDomain(cp_model.Domain.FromValues(all_starts), f"s{item.id}")
        end = model.NewIntVar(0, horizon, f"e{item.id}")
        model.Add(end == start + item.duration)
        starts[item.id], ends[item.id] = start, end
        interval = model.NewIntervalVar(start, item.duration, end, f"i{item.id}")
        for s in item.speakers:
            speaker_intervals[s].append(interval)
        flags = {}
        for room in by_room:
            here = model.NewBoolVar(f"r{item.id}_{room}")
            flags[room] = here
            # The room's closed hours and blocks are fixed intervals in its no-overlap.
            room_intervals[room].append(
                model.NewOptionalIntervalVar(start, item.duration, end, here, "")
            )
            capacity = rooms[room].capacity
            if capacity is not None and item.audience > capacity:
                objective.append(weights.seat * (item.audience - capacity) * here)
            if item.track is not None:
                key = (item.track, room)
                if key not in track_uses:
                    track_uses[key] = model.NewBoolVar(f"t{item.track}_{room}")
                model.AddImplication(here, track_uses[key])
        model.AddExactlyOne(flags.values())
        chosen[item.id] = flags
        if item.current is not None:  # placed, allowed to move: moving costs
            room, at = item.current
            stays = model.NewBoolVar(f"stay{item.id}")
            if room in flags:
                model.Add(start == at).OnlyEnforceIf(stays)
                model.AddImplication(stays, flags[room])
            else:
                model.Add(stays == 0)
            objective.append(weights.move * (1 - stays))
        if hint and item.id in hint:
            room, at = hint[item.id]
            if room in flags and at in by_room[room]:
                hinted[item.id] = (room, at)
                model.AddHint(start, at)
                model.AddHint(end, at + item.duration)
                for other, flag in flags.items():
                    model.AddHint(flag, 1 if other == room else 0)
                if item.current is not None:
                    model.AddHint(stays, 1 if item.current == (room, at) else 0)

    for (kind, key), spans in taken.items():
        merged: list[list[int]] = []
        for lo, hi in sorted(span for span in spans if span[1] > span[0]):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        target = room_intervals if kind == "room" else speaker_intervals
        for lo, hi in merged:
            target[key].append(model.NewFixedSizeIntervalVar(lo, hi - lo, ""))
    for intervals in room_intervals.values():
        model.AddNoOverlap(intervals)
    for intervals in speaker_intervals.values():
        if len(intervals) > 1:
            model.AddNoOverlap(intervals)
    # A track's rooms: the first is free, each further one costs.
    tracks: dict[int, list] = defaultdict(list)
    by_item = {item.id: item for item in problem.items}
    hinted_rooms = {(by_item[i].track, room) for i, (room, _at) in hinted.items()}
    complete = len(hinted) == len(problem.items)
    for (track, room), used in track_uses.items():
        tracks[track].append(used)
        if complete:
            model.AddHint(used, 1 if (track, room) in hinted_rooms else 0)
    for track, used in tracks.items():
        count = model.NewIntVar(0, len(used), "")
        model.Add(count == sum(used))
        extra = model.NewIntVar(0, len(used), "")
        model.Add(extra >= count - 1)
        objective.append(weights.track_room * extra)
        if complete:
            n = sum(1 for t, _room in hinted_rooms if t == track)
            model.AddHint(count, n)
            model.AddHint(extra, max(0, n - 1))
    # Sessions chosen together should not run at once: every pair.
    durations = {item.id: item.duration for item in problem.items}
    counted = [(a, b, n) for (a, b), n in problem.together.items() if a in starts and b in starts]
    for a, b, count in counted:
        before = model.NewBoolVar("")
        after = model.NewBoolVar("")
        clash = model.NewBoolVar("")
        model.Add(ends[a] <= starts[b]).OnlyEnforceIf(before)
        model.Add(ends[b] <= starts[a]).OnlyEnforceIf(after)
        model.AddBoolOr([before, after, clash])
        objective.append(weights.clash * count * clash)
        if a in hinted and b in hinted:
            sa, sb = hinted[a][1], hinted[b][1]
            ea, eb = sa + by_item[a].duration, sb + by_item[b].duration
            model.AddHint(before, 1 if ea <= sb else 0)
            model.AddHint(after, 1 if eb <= sa else 0)
            model.AddHint(clash, 1 if sa < eb and sb < ea else 0)
    model.Minimize(sum(objective))

    class Watch(cp_model.CpSolverSolutionCallback):
        def __init__(self):
            super().__init__()
            self.first: float | None = None
            self.found = 0

        def on_solution_callback(self):
            elapsed = time.monotonic() - started
            self.found += 1
            if self.first is None:
                self.first = elapsed
            if on_solution is not None:
                # Counted from the schedule itself, every pair, as the result's score is.
                at = {i: self.Value(v) for i, v in starts.items()}
                clashes = sum(
                    n
                    for a, b, n in counted
                    if at[a] < at[b] + durations[b] and at[b] < at[a] + durations[a]
                )
                on_solution(self.found, elapsed, clashes)
            if should_stop is not None and should_stop():
                self.StopSearch()

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds - (time.monotonic() - started))
    solver.parameters.num_workers = workers
    # Probing in presolve took the whole time limit on the larger events (9 s of 10 at 400
    # sessions) and found nothing the search does not; without it the first schedule comes
    # in under a second.
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.log_search_progress = bool(os.environ.get("SOLVER_LOG"))
    solver.parameters.random_seed = seed
    watch = Watch()
    status = solver.Solve(model, watch)
    placements = {}
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Result("unknown", {}, Score(), time.monotonic() - started, watch.first)
    for item in problem.items:
        room = next(r for r, flag in chosen[item.id].items() if solver.Value(flag))
        placements[item.id] = (room, solver.Value(starts[item.id]))
    return Result(
        status="optimal" if status == cp_model.OPTIMAL else "feasible",
        placements=placements,
        score=score(problem, placements),
        seconds=time.monotonic() - started,
        first_solution_seconds=watch.first,
    )


@dataclass(frozen=True)
class Shortfall:
    """A constraint the sessions to place cannot all meet, found before solving."""

    constraint: str  # "room_time", "room_size" or "speaker_time"
    message: str
    hard: bool  # False: the sessions still fit, some with fewer seats than expected
    item_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict:
        return {
            "constraint": self.constraint,
            "message": self.message,
            "hard": self.hard,
            "session_ids": list(self.item_ids),
        }


def _open_minutes(problem: Problem, room: Room, fixed: list[tuple[int, int]]) -> list[int]:
    """Per day window: the room's minutes open, unblocked and not held by a session that
    stays, on a five-minute grid."""
    minutes = []
    for lo, hi in problem.days:
        free = 0
        for t in range(lo, hi, 5):
            span = (t, t + 5)
            if _room_free_at(problem, room, span) and not any(_overlaps(span, f) for f in fixed):
                free += 5
        minutes.append(free)
    return minutes


def precheck(problem: Problem, item_names: dict[int, str] | None = None) -> list[Shortfall]:
    """What cannot be met, compared before solving: the minutes of the sessions to place
    against the rooms' open minutes (after blocks, opening hours and the sessions that
    stay), per room size against the sessions' expected audiences, and each speaker's
    sessions against their available hours. Empty: nothing stands out (the solver may still
    find that the pieces do not fit together)."""
    # A speaker is named by their sessions, never by name: a suggestion is read by
    # reviewers too, who may not know who speaks where (blind review).
    names = item_names or {}
    free = [i for i in problem.items if _is_free(problem, i)]
    if not free:
        return []
    fixed_by_room: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for item in problem.items:
        if not _is_free(problem, item) and item.current is not None:
            room, at = item.current
            fixed_by_room[room].append((at, at + item.duration))
    by_day = {
        room.id: _open_minutes(problem, room, fixed_by_room[room.id]) for room in problem.rooms
    }
    open_by_room = {room: sum(minutes) for room, minutes in by_day.items()}
    found = []
    needed = sum(i.duration for i in free)
    available = sum(open_by_room.values())
    if needed > available:
        # Which sessions are left out is the solver's to say (its reasons): here, the minutes.
        days = len(problem.days)
        per_day = ", ".join(
            f"day {n + 1}: {sum(minutes[n] for minutes in by_day.values())}" for n in range(days)
        )
        found.append(
            Shortfall(
                "room_time",
                f"The {len(free)} sessions to place need {needed} minutes of room time; the "
                f"rooms have {available} open minutes left over {days} "
                f"day{'s' if days != 1 else ''} ({per_day}; after blocks, opening hours and "
                f"the sessions that stay): {needed - available} minutes do not fit.",
                hard=True,
            )
        )
    sizes = sorted({r.capacity for r in problem.rooms if r.capacity is not None})
    for size in sizes:
        bigger = [r for r in problem.rooms if r.capacity is None or r.capacity > size]
        crowd = [i for i in free if i.audience > size]
        if not crowd:
            continue
        minutes = sum(i.duration for i in crowd)
        room_minutes = sum(open_by_room[r.id] for r in bigger)
        if minutes > room_minutes:
            found.append(
                Shortfall(
                    "room_size",
                    f"{len(crowd)} sessions expect more than {size} people ({minutes} "
                    f"minutes); the rooms that seat more have {room_minutes} open minutes: "
                    "some will have fewer seats than expected.",
                    hard=False,
                    item_ids=tuple(i.id for i in crowd),
                )
            )
    for speaker, windows in sorted(problem.availability.items()):
        theirs = [i for i in problem.items if speaker in i.speakers]
        mine = [i for i in theirs if _is_free(problem, i)]
        if not mine:
            continue
        need = sum(i.duration for i in theirs)
        hours = sum(
            max(0, min(hi, day_hi) - max(lo, day_lo))
            for lo, hi in windows
            for day_lo, day_hi in problem.days
        )
        if need > hours:
            sessions = [f"\u201c{names.get(i.id, f'#{i.id}')}\u201d" for i in theirs]
            listed = (
                ", ".join(sessions[:-1]) + " and " + sessions[-1]
                if len(sessions) > 1
                else sessions[0]
            )
            found.append(
                Shortfall(
                    "speaker_time",
                    f"The speaker of {listed} has {need} minutes of sessions and is "
                    f"available for {hours}.",
                    hard=True,
                    item_ids=tuple(i.id for i in mine),
                )
            )
    return found


def _is_free(problem: Problem, item: Item) -> bool:
    """May the solver place (or move) it?"""
    return not item.pinned and not (item.current is not None and not problem.move_placed)


def _crowded(problem: Problem) -> dict[int, str]:
    """For an infeasible problem whose sessions each fit on their own: the speakers with
    more to give than time to give it in, and otherwise the rooms' total time."""
    reasons = {}
    for speaker, windows in problem.availability.items():
        theirs = [i for i in problem.items if speaker in i.speakers]
        needed = sum(i.duration for i in theirs)
        available = sum(hi - lo for lo, hi in windows)
        if needed > available:
            for item in theirs:
                reasons[item.id] = (
                    f"speaker {speaker} has {needed} minutes of sessions and is available "
                    f"for {available}"
                )
    if not reasons:
        for item in problem.items:
            if not item.pinned:
                reasons[item.id] = (
                    "the rooms' open time, the pinned sessions and the speakers' other "
                    "sessions leave no place for every session at once"
                )
    return reasons
