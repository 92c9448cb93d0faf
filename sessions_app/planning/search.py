"""Local search over a complete schedule: simulated annealing on relocations and swaps.

CP-SAT proves rules well but, with every co-chosen pair in its objective (thousands of
reified "these two overlap" terms), improves a schedule slowly and unevenly from run to run.
The question the suggestions ask most (120 sessions, hundreds of registrants) is a
quadratic assignment: which sessions run beside which. A local search answers it well:
from a schedule that keeps every hard rule it only ever makes moves that keep them too, and
each move's effect on the score is counted from the moved session's partners alone.

Moves, for a session that may move:

- relocate: to another (room, start) of its own options (what ``solver.options`` allows:
  the day, the room's hours and blocks, its speakers' availability) where the room and its
  speakers are free;
- swap: two sessions exchange places, where each may stand in the other's.

The score is the solver's (``solver.Weights``): registrants whose two chosen sessions run at
once, seats short, sessions moved from where they were, rooms a track uses beyond its first.
A worse move is taken with the probability ``exp(-delta / T)``, the temperature falling
geometrically over the time allowed; the best schedule seen is the answer. Repeatable for a
given ``seed`` and number of steps; the time limit only decides how many steps there are.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import defaultdict
from typing import Any

import numpy as np

# The solver's types (Problem, Item, Weights) are used here as plain data: the solver
# calls this module, never the other way round.
Problem = Any

logger = logging.getLogger("sessions_app.planning")
CHECK_EVERY = 256  # steps between looks at the clock, the cancel and the temperature
# The temperature, in registrant clashes: from a typical worsening move down to next to
# nothing, geometrically over the time allowed.
HOT, COLD = 0.8, 0.3
FOCUS, FOCUS_DRAWS = 0.5, 2
HEAT = 0.6  # the share of the steps that weigh every start of a session at once
POLISH = 0.1  # the share of the time left for the steepest descent at the end


class _State:
    """The schedule as arrays, with what each room and speaker holds per tick."""

    def __init__(self, problem: Problem, placements: dict[int, tuple[int, int]], weights):
        self.problem = problem
        self.weights = weights
        items = [item for item in problem.items if item.id in placements]
        self.items = items
        self.index = {item.id: k for k, item in enumerate(items)}
        self.tick = math.gcd(
            problem.step,
            *(item.duration for item in items),
            *(placements[item.id][1] for item in items),
        )
        horizon = max(hi for _lo, hi in problem.days)
        horizon = max(horizon, *(placements[i.id][1] + i.duration for i in items))
        size = horizon // self.tick + 2
        self.rooms = {room.id: [0] * size for room in problem.rooms}
        self.capacity = {room.id: room.capacity for room in problem.rooms}
        self.speakers = {s: [0] * size for item in items for s in item.speakers}
        self.room = [placements[i.id][0] for i in items]
        self.start = [placements[i.id][1] for i in items]
        self.end = [self.start[k] + items[k].duration for k in range(len(items))]
        self.partners: list[list[tuple[int, int]]] = [[] for _ in items]
        self.weight: list[dict[int, int]] = [{} for _ in items]
        for (a, b), count in problem.together.items():
            ka, kb = self.index.get(a), self.index.get(b)
            if ka is not None and kb is not None:
                self.partners[ka].append((kb, count))
                self.partners[kb].append((ka, count))
                self.weight[ka][kb] = self.weight[kb][ka] = count
        # Who runs in each tick, whatever the room: what a relocation's clashes are read from.
        self.running: list[set[int]] = [set() for _ in range(size)]
        self.track_rooms: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for k, item in enumerate(items):
            self._occupy(k, self.room[k], self.start[k], k + 1)
            if item.track is not None:
                self.track_rooms[item.track][self.room[k]] += 1
        # The same as arrays, for the moves that weigh every start of a session at once.
        self.room_ids = [room.id for room in problem.rooms]
        self.room_row = {rid: n for n, rid in enumerate(self.room_ids)}
        self.busy = np.zeros((len(self.room_ids), size), dtype=np.int32)
        self.speaker_row = {s: n for n, s in enumerate(sorted(self.speakers))}
        self.speaker_busy = np.zeros((max(1, len(self.speaker_row)), size), dtype=np.int32)
        for rid, cells in self.rooms.items():
            self.busy[self.room_row[rid]] = cells
        for sid, cells in self.speakers.items():
            self.speaker_busy[self.speaker_row[sid]] = cells
        # How many ticks are taken up to each tick, per room and per speaker.
        self.room_counts = np.zeros((self.busy.shape[0], size + 1), dtype=np.int32)
        np.cumsum(self.busy != 0, axis=1, out=self.room_counts[:, 1:])
        self.speaker_counts = np.zeros((self.speaker_busy.shape[0], size + 1), dtype=np.int32)
        np.cumsum(self.speaker_busy != 0, axis=1, out=self.speaker_counts[:, 1:])
        self.starts_np = np.array(self.start, dtype=np.int64)
        self.ends_np = np.array(self.end, dtype=np.int64)
        self.partner_ids = [np.array([j for j, _w in p], dtype=np.int64) for p in self.partners]
        self.partner_weights = [np.array([w for _j, w in p], dtype=np.int64) for p in self.partners]
        self.track_distinct = {
            track: sum(1 for n in used.values() if n) for track, used in self.track_rooms.items()
        }

    def _occupy(self, k: int, room: int, start: int, mark: int) -> None:
        lo, hi = start // self.tick, (start + self.items[k].duration) // self.tick
        cells = self.rooms[room]
        for t in range(lo, hi):
            cells[t] = mark
            if mark:
                self.running[t].add(k)
            else:
                self.running[t].discard(k)
        for s in self.items[k].speakers:
            cells = self.speakers[s]
            for t in range(lo, hi):
                cells[t] = mark
        if hasattr(self, "busy"):
            row = self.room_row[room]
            self.busy[row, lo:hi] = mark
            np.cumsum(self.busy[row] != 0, out=self.room_counts[row, 1:])
            for s in self.items[k].speakers:
                row = self.speaker_row[s]
                self.speaker_busy[row, lo:hi] = mark
                np.cumsum(self.speaker_busy[row] != 0, out=self.speaker_counts[row, 1:])

    def free(self, k: int, room: int, start: int, allowed: tuple[int, ...]) -> bool:
        """Room and speakers free for item ``k`` at ``start``, holders in ``allowed`` aside."""
        return self.room_free(k, room, start, allowed) and self.speakers_free(k, start, allowed)

    def room_free(self, k: int, room: int, start: int, allowed: tuple[int, ...]) -> bool:
        lo, hi = start // self.tick, (start + self.items[k].duration) // self.tick
        return all(not mark or mark in allowed for mark in self.rooms[room][lo:hi])

    def speakers_free(self, k: int, start: int, allowed: tuple[int, ...]) -> bool:
        lo, hi = start // self.tick, (start + self.items[k].duration) // self.tick
        return all(
            not mark or mark in allowed
            for s in self.items[k].speakers
            for mark in self.speakers[s][lo:hi]
        )

    def clash_at(self, k: int, start: int, end: int) -> int:
        """Registrants who chose ``k`` and a session running at once with [start, end), read
        from who runs in those ticks (``k`` itself counts nothing)."""
        weight = self.weight[k]
        if not weight:
            return 0
        running = self.running[start // self.tick : end // self.tick]
        return sum(map(weight.__getitem__, weight.keys() & set().union(*running)))

    def own_cost(self, k: int, room: int, start: int) -> int:
        """What item ``k`` costs on its own at (room, start): seats short and a move."""
        item, weights = self.items[k], self.weights
        cost = 0
        capacity = self.capacity[room]
        if capacity is not None and item.audience > capacity:
            cost += weights.seat * (item.audience - capacity)
        if item.current is not None and item.current != (room, start):
            cost += weights.move
        return cost

    def track_delta(self, k: int, old: int, new: int) -> int:
        track = self.items[k].track
        if track is None or old == new:
            return 0
        used = self.track_rooms[track]
        distinct = self.track_distinct[track]
        after = distinct - (used[old] == 1) + (used[new] == 0)
        return self.weights.track_room * (max(0, after - 1) - max(0, distinct - 1))

    def put(self, k: int, room: int, start: int) -> None:
        """Move item ``k`` (already cleared from the grids) to (room, start)."""
        track = self.items[k].track
        if track is not None:
            used = self.track_rooms[track]
            used[self.room[k]] -= 1
            used[room] += 1
            self.track_distinct[track] = sum(1 for n in used.values() if n)
        self.room[k], self.start[k] = room, start
        self.end[k] = start + self.items[k].duration
        self.starts_np[k], self.ends_np[k] = start, self.end[k]
        self._occupy(k, room, start, k + 1)

    def clear(self, k: int) -> None:
        self._occupy(k, self.room[k], self.start[k], 0)

    def total_clashes(self) -> int:
        return sum(
            w
            for k in range(len(self.items))
            for j, w in self.partners[k]
            if j > k and self.start[j] < self.end[k] and self.start[k] < self.end[j]
        )

    def candidates(self, k: int, choices: list[tuple[int, int]]) -> dict:
        """What :meth:`heat_bath` weighs for item ``k``: its starts, where each room may be
        used, and what each (room, start) costs the item on its own."""
        starts = sorted({start for _room, start in choices})
        column = {start: n for n, start in enumerate(starts)}
        allowed = np.zeros((len(self.room_ids), len(starts)), dtype=bool)
        own = np.zeros((len(self.room_ids), len(starts)), dtype=np.float64)
        for room, start in choices:
            allowed[self.room_row[room], column[start]] = True
            own[self.room_row[room], column[start]] = self.own_cost(k, room, start)
        minutes = np.array(starts, dtype=np.int64)
        return {
            "starts": minutes,
            "ticks": minutes // self.tick,
            "length": self.items[k].duration // self.tick,
            "allowed": allowed,
            "own": own,
            "speakers": [self.speaker_row[s] for s in self.items[k].speakers],
        }

    def heat_bath(self, k: int, options_k: dict, temperature: float, draw: float):
        """Item ``k`` to one of all its starts at once, each in its best free room, drawn
        with the weight ``exp(-delta / T)``: (room, start, cost delta, clash delta), or None
        where it stays."""
        ticks, length = options_k["ticks"], options_k["length"]
        ends = ticks + length
        # Ticks taken in each window, less those k itself takes where it is now.
        mine = np.minimum(ends, self.end[k] // self.tick) - np.maximum(
            ticks, self.start[k] // self.tick
        )
        np.maximum(mine, 0, out=mine)
        taken = self.room_counts[:, ends] - self.room_counts[:, ticks]
        taken[self.room_row[self.room[k]]] -= mine
        free = (taken == 0) & options_k["allowed"]
        if options_k["speakers"]:
            counts = self.speaker_counts[options_k["speakers"]]
            taken = counts[:, ends] - counts[:, ticks] - mine
            free &= (taken == 0).all(axis=0)
        cost = options_k["own"]
        old_room = self.room[k]
        if self.items[k].track is not None:
            track = np.array([self.track_delta(k, old_room, rid) for rid in self.room_ids])
            cost = cost + track[:, None]
        cost = np.where(free, cost, np.inf)
        rows = cost.argmin(axis=0)
        columns = np.arange(len(rows))
        best = cost[rows, columns]
        starts = options_k["starts"]
        partners = self.partner_ids[k]
        if len(partners):
            # A partner running [s, e) meets the starts in (s - length, e): a range of the
            # sorted starts, added up over the partners with a running sum.
            weights, size = self.partner_weights[k], len(starts) + 1
            first = np.searchsorted(
                starts, self.starts_np[partners] - self.items[k].duration, "right"
            )
            last = np.searchsorted(starts, self.ends_np[partners], "left")
            steps = np.bincount(first, weights, size) - np.bincount(last, weights, size)
            clashes = np.cumsum(steps[:-1]).round().astype(np.int64)
        else:
            clashes = np.zeros(len(starts), dtype=np.int64)
        old_start = self.start[k]
        now_clashes = self.clash_at(k, old_start, self.end[k])
        now = self.weights.clash * now_clashes + self.own_cost(k, old_room, old_start)
        delta = self.weights.clash * clashes + best - now
        lowest = delta.min()
        if not np.isfinite(lowest):
            return None
        weights = np.exp(-(delta - lowest) / temperature)
        cumulative = np.cumsum(weights)
        pick = int(np.searchsorted(cumulative, draw * cumulative[-1], side="right"))
        pick = min(pick, len(cumulative) - 1)
        room, start = self.room_ids[rows[pick]], int(starts[pick])
        if (room, start) == (old_room, old_start):
            return None
        return room, start, float(delta[pick]), int(clashes[pick]) - now_clashes

    def swap(self, k: int, j: int, allowed: dict[int, set]) -> tuple[int, int] | None:
        """What ``k`` and ``j`` exchanging places would change, (cost, clashes), or None
        where either may not stand in the other's place."""
        items, starts, ends = self.items, self.start, self.end
        place_k, place_j = (self.room[k], starts[k]), (self.room[j], starts[j])
        if place_j not in allowed[k] or place_k not in allowed[j]:
            return None
        both = (k + 1, j + 1)
        if not self.free(k, *place_j, both) or not self.free(j, *place_k, both):
            return None
        if items[k].duration != items[j].duration:
            # k's new span may meet j's new span: they must not share a resource.
            lo_k, hi_k = place_j[1], place_j[1] + items[k].duration
            lo_j, hi_j = place_k[1], place_k[1] + items[j].duration
            if (
                lo_k < hi_j
                and lo_j < hi_k
                and (place_j[0] == place_k[0] or set(items[k].speakers) & set(items[j].speakers))
            ):
                return None
        delta = self.own_cost(k, *place_j) - self.own_cost(k, *place_k)
        delta += self.own_cost(j, *place_k) - self.own_cost(j, *place_j)
        # Clashes: move k first (j where it was), then j with k where it went, read from who
        # runs now and corrected for k.
        old_k, new_k = (starts[k], ends[k]), (place_j[1], place_j[1] + items[k].duration)
        new_j = (place_k[1], place_k[1] + items[j].duration)
        change = self.clash_at(k, *new_k) - self.clash_at(k, *old_k)
        change += self.clash_at(j, *new_j) - self.clash_at(j, starts[j], ends[j])
        pair = self.weight[j].get(k, 0)
        if pair:
            for (lo, hi), sign in ((new_j, 1), ((starts[j], ends[j]), -1)):
                moved_in = new_k[0] < hi and lo < new_k[1]
                was_in = old_k[0] < hi and lo < old_k[1]
                change += sign * pair * (moved_in - was_in)
        delta += self.weights.clash * change
        if items[k].track != items[j].track:
            delta += self.track_delta(k, place_k[0], place_j[0])
            delta += self.track_delta(j, place_j[0], place_k[0])
        return delta, change

    def exchange(self, k: int, j: int) -> None:
        place_k, place_j = (self.room[k], self.start[k]), (self.room[j], self.start[j])
        self.clear(k)
        self.clear(j)
        self.put(k, *place_j)
        self.put(j, *place_k)

    def placements(self) -> dict[int, tuple[int, int]]:
        return {item.id: (self.room[k], self.start[k]) for k, item in enumerate(self.items)}


def improve(
    problem: Problem,
    placements: dict[int, tuple[int, int]],
    *,
    movable: set[int],
    seconds: float,
    weights,
    choices_of: dict[int, list[tuple[int, int]]],
    seed: int = 0,
    should_stop=None,
    on_solution=None,
    started: float | None = None,
) -> dict[int, tuple[int, int]]:
    """A better schedule than ``placements`` (complete for the items it names, every hard
    rule kept), moving only the items in ``movable``, each to one of its ``choices_of``
    (``solver.options``), scored by ``weights`` (``solver.Weights``). ``on_solution(found, seconds,
    attendee_clashes)`` is told of each better schedule, ``should_stop()`` asked now and
    then (true: the best so far is the answer)."""
    started = time.monotonic() if started is None else started
    rng = random.Random(seed)  # noqa: S311 - a search's dice, not a secret
    state = _State(problem, placements, weights)
    movers = [state.index[i] for i in movable if i in state.index]
    if not movers:
        return dict(placements)
    choices = {k: choices_of[state.items[k].id] for k in movers}
    allowed = {k: set(found) for k, found in choices.items()}
    movers = [k for k in movers if len(choices[k]) > 1]
    if not movers:
        return dict(placements)
    # A relocation picks a start, then the best room free then: what matters most (who runs
    # beside whom) depends on the time alone.
    rooms_at: dict[int, dict[int, list[int]]] = {}
    for k in movers:
        rooms_at[k] = defaultdict(list)
        for room, start in choices[k]:
            rooms_at[k][start].append(room)
    starts_of = {k: list(rooms_at[k]) for k in movers}
    heat = {k: state.candidates(k, choices[k]) for k in movers}
    same_length: dict[int, list[int]] = defaultdict(list)
    for k in movers:
        same_length[state.items[k].duration].append(k)
    clash_weight = weights.clash
    found = 0
    clashes = state.total_clashes()
    best = state.placements()
    best_cost = cost = 0  # measured from the start: only differences matter
    best_clashes, better = clashes, False
    deadline = started + seconds
    # The annealing ends a little before the time: the rest polishes its best schedule.
    annealed = deadline - POLISH * max(0.0, deadline - time.monotonic())
    high, low = clash_weight * HOT, clash_weight * COLD
    temperature = high
    step = 0
    items, starts, ends, rooms = state.items, state.start, state.end, state.room
    rnd = rng.random
    focus = 0.0
    while True:
        step += 1
        if step % CHECK_EVERY == 0:
            now = time.monotonic()
            if now >= annealed or (should_stop is not None and should_stop()):
                break
            progress = (now - started) / (annealed - started)
            temperature = high * (low / high) ** min(1.0, progress)
            focus = FOCUS * min(1.0, progress)
            if better:
                found, better = found + 1, False
                if on_solution is not None:
                    on_solution(found, now - started, best_clashes)
        k = movers[int(rnd() * len(movers))]
        if rnd() < focus:
            # Rather one that clashes: the best of a few by the registrants it shares a time with.
            worst = state.clash_at(k, starts[k], ends[k])
            for _ in range(FOCUS_DRAWS):
                other = movers[int(rnd() * len(movers))]
                its = state.clash_at(other, starts[other], ends[other])
                if its > worst:
                    k, worst = other, its
        move = rnd()
        if move < HEAT:
            # Weigh every start of k at once, each in its best free room.
            found_move = state.heat_bath(k, heat[k], temperature, rnd())
            if found_move is None:
                continue
            room, start, delta, change = found_move
            delta = round(delta)
            state.clear(k)
            state.put(k, room, start)
        elif move < HEAT + (1 - HEAT) / 2:
            # Relocate k: a start of its own, in the room that suits it best then.
            options_k = starts_of[k]
            start = options_k[int(rnd() * len(options_k))]
            old_room, old_start = rooms[k], starts[k]
            room, extra = None, 0
            mine = (k + 1,)
            if not state.speakers_free(k, start, mine):
                continue
            for here in rooms_at[k][start]:
                if (here, start) == (old_room, old_start) or not state.room_free(
                    k, here, start, mine
                ):
                    continue
                cost_here = state.own_cost(k, here, start) + state.track_delta(k, old_room, here)
                if room is None or cost_here < extra:
                    room, extra = here, cost_here
            if room is None:
                continue
            end = start + items[k].duration
            change = (
                state.clash_at(k, start, end) - state.clash_at(k, old_start, ends[k])
                if start != old_start
                else 0
            )
            delta = clash_weight * change + extra - state.own_cost(k, old_room, old_start)
            if delta > 0 and rnd() >= math.exp(-delta / temperature):
                continue
            state.clear(k)
            state.put(k, room, start)
        else:
            # Swap k with another session, of the same length where there is one.
            pool = same_length[items[k].duration]
            if len(pool) < 2 or rnd() < 0.2:
                pool = movers
            j = pool[int(rnd() * len(pool))]
            if j == k:
                continue
            swap = state.swap(k, j, allowed)
            if swap is None:
                continue
            delta, change = swap
            if delta > 0 and rnd() >= math.exp(-delta / temperature):
                continue
            state.exchange(k, j)
        cost += delta
        clashes += change
        if cost < best_cost:
            best_cost, best_clashes, best, better = cost, clashes, state.placements(), True
    if time.monotonic() < deadline and not (should_stop is not None and should_stop()):
        # Steepest descent from the best schedule: every session to its best start, every
        # pair of sessions exchanged where that helps, until nothing does or time is up.
        if cost != best_cost:
            state = _State(problem, best, weights)
            cost, clashes = best_cost, best_clashes
        improving = True
        while improving and time.monotonic() < deadline:
            improving = False
            for k in movers:
                moved = state.heat_bath(k, heat[k], 1e-9, 0.0)
                if moved is not None and moved[2] < -0.5:
                    state.clear(k)
                    state.put(k, moved[0], moved[1])
                    cost, clashes, improving = cost + round(moved[2]), clashes + moved[3], True
            for n, k in enumerate(movers):
                if time.monotonic() >= deadline or (should_stop is not None and should_stop()):
                    improving = False
                    break
                for j in movers[n + 1 :]:
                    swap = state.swap(k, j, allowed)
                    if swap is not None and swap[0] < 0:
                        state.exchange(k, j)
                        cost, clashes, improving = cost + swap[0], clashes + swap[1], True
        if cost < best_cost:
            best_cost, best_clashes, best, better = cost, clashes, state.placements(), True
    if better and on_solution is not None:
        on_solution(found + 1, time.monotonic() - started, best_clashes)
    logger.debug("local search: %d steps, %d better schedules", step, found)
    return best
