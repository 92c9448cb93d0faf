"""Local search over a complete schedule: simulated annealing on relocations and swaps,
compiled with Numba.

CP-SAT proves rules well but, with every co-chosen pair in its objective (thousands of
reified "these two overlap" terms), improves a schedule slowly and unevenly from run to run.
The question the suggestions ask most (120 sessions, hundreds of registrants) is a
quadratic assignment: which sessions run beside which. A local search answers it well:
from a schedule that keeps every hard rule it only ever makes moves that keep them too, and
each move's effect on the score is counted from the moved session's partners alone.

Moves, for a session that may move:

- heat bath: every start of the session weighed at once, each in its best free room, one
  drawn with the weight ``exp(-delta / T)``;
- relocate: to another (room, start) of its own options (what ``solver.options`` allows:
  the day, the room's hours and blocks, its speakers' availability) where the room and its
  speakers are free;
- swap: two sessions exchange places, where each may stand in the other's.

The score is the solver's (``solver.Weights``): registrants whose two chosen sessions run at
once, seats short, sessions moved from where they were, rooms a track uses beyond its first.
A worse relocation or swap is taken with the probability ``exp(-delta / T)``, the temperature
falling geometrically over the time allowed; the last tenth of the time is a steepest
descent from the best schedule seen, which is the answer. Repeatable for a given ``seed`` and
number of steps; the time limit only decides how many steps there are.

The steps run compiled (Numba, ``nopython``): a step costs microseconds where the same
moves in Python and NumPy cost about 65, and the answer at the default 10 s is the one
Python found in a minute. The schedule lives in arrays, in ticks (the greatest common
divisor of the step, the lengths and the starts): where each session is, which session
holds each room and each speaker in each tick, how many sessions of each track each room
has. Python drives the chunks of steps: the clock, the temperature, a cancel, the progress.
The compiled code is cached on disk (``cache=True``: beside this module, or in
``NUMBA_CACHE_DIR``); :func:`warm` compiles it ahead of a first suggestion.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
from numba import njit

# The solver's types (Problem, Item, Weights) are used here as plain data: the solver
# calls this module, never the other way round.
Problem = Any

logger = logging.getLogger("sessions_app.planning")
CHUNK = 512  # steps between looks at the clock, the cancel and the temperature
# The temperature, in registrant clashes: from a typical worsening move down to next to
# nothing, geometrically over the time allowed.
HOT, COLD = 0.8, 0.3
FOCUS, FOCUS_DRAWS = 0.5, 2
HEAT = 0.6  # the share of the steps that weigh every start of a session at once
POLISH = 0.1  # the share of the time left for the steepest descent at the end

# Columns of the items' table (``_Arrays.items``) and of the running totals (``tally``).
DUR, TRACK, AUDIENCE, CUR_ROOM, CUR_START = range(5)
ROOM, START, END = range(3)
COST, CLASHES, BEST_COST, BEST_CLASHES, BETTER, STEPS = range(6)
# Weights' columns.
W_CLASH, W_SEAT, W_MOVE, W_TRACK = range(4)
NOT_ANYWHERE = -2  # a current place the grid cannot hold: every place is a move


class _Arrays:
    """The schedule and the problem as the compiled steps read them."""

    def __init__(self, problem: Problem, placements: dict[int, tuple[int, int]], weights,
                 choices_of: dict[int, list[tuple[int, int]]], movable: set[int]):  # fmt: skip
        items = [item for item in problem.items if item.id in placements]
        self.ids = [item.id for item in items]
        index = {item.id: k for k, item in enumerate(items)}
        self.tick = tick = math.gcd(
            problem.step,
            *(item.duration for item in items),
            *(placements[item.id][1] for item in items),
        )
        horizon = max(hi for _lo, hi in problem.days)
        horizon = max(horizon, *(placements[i.id][1] + i.duration for i in items))
        size = horizon // tick + 2
        self.room_ids = [room.id for room in problem.rooms]
        row = {rid: n for n, rid in enumerate(self.room_ids)}
        n, rooms = len(items), len(self.room_ids)
        self.items = np.zeros((n, 5), dtype=np.int64)
        self.pos = np.zeros((n, 3), dtype=np.int64)
        for k, item in enumerate(items):
            room, start = placements[item.id]
            self.items[k, DUR] = item.duration // tick
            self.items[k, TRACK] = -1 if item.track is None else item.track
            self.items[k, AUDIENCE] = item.audience
            self.items[k, CUR_ROOM] = -1
            if item.current is not None:
                here, when = item.current
                aligned = when % tick == 0 and here in row
                self.items[k, CUR_ROOM] = row[here] if aligned else NOT_ANYWHERE
                self.items[k, CUR_START] = when // tick if aligned else -1
            self.pos[k] = row[room], start // tick, (start + item.duration) // tick
        tracks = sorted({int(t) for t in self.items[:, TRACK] if t >= 0})
        track_row = {t: m for m, t in enumerate(tracks)}
        for k in range(n):
            if self.items[k, TRACK] >= 0:
                self.items[k, TRACK] = track_row[int(self.items[k, TRACK])]
        speakers = sorted({s for item in items for s in item.speakers})
        speaker_row = {s: m for m, s in enumerate(speakers)}
        self.sp_ptr, self.sp_idx = _csr([[speaker_row[s] for s in item.speakers] for item in items])
        partners: list[list[tuple[int, int]]] = [[] for _ in items]
        for (a, b), count in problem.together.items():
            ka, kb = index.get(a), index.get(b)
            if ka is not None and kb is not None:
                partners[ka].append((kb, count))
                partners[kb].append((ka, count))
        self.pt_ptr, self.pt_idx = _csr([[j for j, _w in p] for p in partners])
        _ptr, self.pt_w = _csr([[w for _j, w in p] for p in partners])
        self.capacity = np.array(
            [-1 if room.capacity is None else room.capacity for room in problem.rooms],
            dtype=np.int64,
        )
        self.weights = np.array(
            [weights.clash, weights.seat, weights.move, weights.track_room], dtype=np.int64
        )
        # Where each item may go: (room, tick) allowed, and its distinct starts sorted.
        self.allowed = np.zeros((n, rooms, size), dtype=np.bool_)
        starts_of: list[list[int]] = [[] for _ in items]
        movers = []
        for item_id in sorted(movable):
            k = index.get(item_id)
            if k is None:
                continue
            found = choices_of[item_id]
            for room, start in found:
                self.allowed[k, row[room], start // tick] = True
            starts_of[k] = sorted({start // tick for _room, start in found})
            if len(found) > 1:
                movers.append(k)
        self.movers = np.array(movers, dtype=np.int64)
        self.ks_ptr, self.ks = _csr(starts_of)
        # Swaps rather between sessions of one length: each mover's group of equals.
        lengths = sorted({int(self.items[k, DUR]) for k in movers})
        self.group = np.zeros(n, dtype=np.int64)
        groups: list[list[int]] = [[] for _ in lengths]
        for k in movers:
            g = lengths.index(int(self.items[k, DUR]))
            self.group[k] = g
            groups[g].append(k)
        self.gr_ptr, self.gr_idx = _csr(groups)
        # Who holds each room and each speaker in each tick (item index + 1; 0: free).
        self.room_occ = np.zeros((rooms, size), dtype=np.int64)
        self.sp_occ = np.zeros((max(1, len(speakers)), size), dtype=np.int64)
        self.track_count = np.zeros((max(1, len(tracks)), rooms), dtype=np.int64)
        self.track_distinct = np.zeros(max(1, len(tracks)), dtype=np.int64)
        self.best = self.pos[:, :2].copy()
        self.tally = np.zeros(6, dtype=np.int64)
        self.scratch = np.zeros(3 * (size + 2), dtype=np.float64)
        _prepare(self.items, self.pos, self.sp_ptr, self.sp_idx, self.room_occ, self.sp_occ,
                 self.track_count, self.track_distinct, self.pt_ptr, self.pt_idx, self.pt_w,
                 self.tally)  # fmt: skip

    def args(self) -> tuple:
        """The arrays in the order the compiled steps take them."""
        return (
            self.items, self.pos, self.sp_ptr, self.sp_idx, self.pt_ptr, self.pt_idx,
            self.pt_w, self.ks_ptr, self.ks, self.allowed, self.capacity, self.weights,
            self.room_occ, self.sp_occ, self.track_count, self.track_distinct, self.movers,
            self.group, self.gr_ptr, self.gr_idx, self.best, self.tally, self.scratch,
        )  # fmt: skip

    def placements(self, where: np.ndarray) -> dict[int, tuple[int, int]]:
        return {
            item_id: (self.room_ids[int(where[k, 0])], int(where[k, 1]) * self.tick)
            for k, item_id in enumerate(self.ids)
        }


def _csr(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ints as (offsets, values): row ``k`` is ``values[offsets[k]:offsets[k + 1]]``."""
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows]) if rows else []
    values = np.array([v for r in rows for v in r], dtype=np.int64)
    return ptr, values


# The compiled steps. Each takes the arrays it needs; the one that Python calls take them all
# in the order of ``_Arrays.args``.


@njit(cache=True, nogil=True)
def _occupy(k, mark, items, pos, sp_ptr, sp_idx, room_occ, sp_occ):
    r, lo, hi = pos[k, ROOM], pos[k, START], pos[k, END]
    for t in range(lo, hi):
        room_occ[r, t] = mark
    for q in range(sp_ptr[k], sp_ptr[k + 1]):
        s = sp_idx[q]
        for t in range(lo, hi):
            sp_occ[s, t] = mark


@njit(cache=True, nogil=True)
def _prepare(items, pos, sp_ptr, sp_idx, room_occ, sp_occ, track_count, track_distinct,
             pt_ptr, pt_idx, pt_w, tally):  # fmt: skip
    n = items.shape[0]
    for k in range(n):
        _occupy(k, k + 1, items, pos, sp_ptr, sp_idx, room_occ, sp_occ)
        track = items[k, TRACK]
        if track >= 0:
            if track_count[track, pos[k, ROOM]] == 0:
                track_distinct[track] += 1
            track_count[track, pos[k, ROOM]] += 1
    clashes = 0
    for k in range(n):
        for q in range(pt_ptr[k], pt_ptr[k + 1]):
            j = pt_idx[q]
            if j > k and pos[j, START] < pos[k, END] and pos[k, START] < pos[j, END]:
                clashes += pt_w[q]
    tally[CLASHES] = clashes
    tally[BEST_CLASHES] = clashes


@njit(cache=True, nogil=True)
def _clash(k, lo, hi, pos, pt_ptr, pt_idx, pt_w):
    """Registrants who chose ``k`` and a session running at once with ticks [lo, hi)."""
    total = 0
    for q in range(pt_ptr[k], pt_ptr[k + 1]):
        j = pt_idx[q]
        if pos[j, START] < hi and lo < pos[j, END]:
            total += pt_w[q]
    return total


@njit(cache=True, nogil=True)
def _pair(k, j, pt_ptr, pt_idx, pt_w):
    for q in range(pt_ptr[k], pt_ptr[k + 1]):
        if pt_idx[q] == j:
            return pt_w[q]
    return 0


@njit(cache=True, nogil=True)
def _own(k, r, t, items, capacity, weights):
    """What item ``k`` costs on its own in room row ``r`` from tick ``t``: seats short and a
    move."""
    cost = 0
    cap = capacity[r]
    if cap >= 0 and items[k, AUDIENCE] > cap:
        cost += weights[W_SEAT] * (items[k, AUDIENCE] - cap)
    here = items[k, CUR_ROOM]
    if here != -1 and (here != r or items[k, CUR_START] != t):
        cost += weights[W_MOVE]
    return cost


@njit(cache=True, nogil=True)
def _track_delta(k, old, new, items, track_count, track_distinct, weights):
    track = items[k, TRACK]
    if track < 0 or old == new:
        return 0
    distinct = track_distinct[track]
    after = distinct
    if track_count[track, old] == 1:
        after -= 1
    if track_count[track, new] == 0:
        after += 1
    return weights[W_TRACK] * (max(0, after - 1) - max(0, distinct - 1))


@njit(cache=True, nogil=True)
def _room_free(r, lo, hi, a, b, room_occ):
    """Room row ``r`` free in ticks [lo, hi), holders ``a`` and ``b`` aside."""
    for t in range(lo, hi):
        mark = room_occ[r, t]
        if mark != 0 and mark != a and mark != b:
            return False
    return True


@njit(cache=True, nogil=True)
def _speakers_free(k, lo, hi, a, b, sp_ptr, sp_idx, sp_occ):
    for q in range(sp_ptr[k], sp_ptr[k + 1]):
        s = sp_idx[q]
        for t in range(lo, hi):
            mark = sp_occ[s, t]
            if mark != 0 and mark != a and mark != b:
                return False
    return True


@njit(cache=True, nogil=True)
def _move(k, r, t, items, pos, sp_ptr, sp_idx, room_occ, sp_occ, track_count, track_distinct):
    """Item ``k`` (cleared from the grids) to room row ``r`` from tick ``t``."""
    track = items[k, TRACK]
    if track >= 0:
        old = pos[k, ROOM]
        track_count[track, old] -= 1
        if track_count[track, old] == 0:
            track_distinct[track] -= 1
        if track_count[track, r] == 0:
            track_distinct[track] += 1
        track_count[track, r] += 1
    pos[k, ROOM], pos[k, START], pos[k, END] = r, t, t + items[k, DUR]
    _occupy(k, k + 1, items, pos, sp_ptr, sp_idx, room_occ, sp_occ)


@njit(cache=True, nogil=True)
def _heat_bath(k, temperature, draw, items, pos, sp_ptr, sp_idx, pt_ptr, pt_idx, pt_w,
               ks_ptr, ks, allowed, capacity, weights, room_occ, sp_occ, track_count,
               track_distinct, scratch):  # fmt: skip
    """Item ``k`` to one of all its starts at once, each in its best free room, drawn with
    the weight ``exp(-delta / T)`` (the lowest at ``T = 0``): (room, start, cost delta,
    clash delta), or room -1 where it stays."""
    first, last = ks_ptr[k], ks_ptr[k + 1]
    count = last - first
    dur = items[k, DUR]
    mark = k + 1
    # Clashes at each start: a partner running [s, e) meets the starts in (s - dur, e), a
    # range of the sorted starts, added up over the partners with a running sum.
    steps = scratch[: count + 1]
    steps[:] = 0.0
    starts = ks[first:last]
    for q in range(pt_ptr[k], pt_ptr[k + 1]):
        j = pt_idx[q]
        lo = np.searchsorted(starts, pos[j, START] - dur, side="right")
        hi = np.searchsorted(starts, pos[j, END], side="left")
        if lo < hi:
            steps[lo] += pt_w[q]
            steps[hi] -= pt_w[q]
    old_room, old_start = pos[k, ROOM], pos[k, START]
    now_clashes = _clash(k, old_start, pos[k, END], pos, pt_ptr, pt_idx, pt_w)
    now = weights[W_CLASH] * now_clashes + _own(k, old_room, old_start, items, capacity, weights)
    delta = scratch[count + 1 : 2 * count + 1]
    rooms = scratch[2 * count + 1 : 3 * count + 1]
    running = 0.0
    lowest = np.inf
    for i in range(count):
        running += steps[i]
        t = starts[i]
        delta[i] = np.inf
        rooms[i] = -1
        if not _speakers_free(k, t, t + dur, mark, mark, sp_ptr, sp_idx, sp_occ):
            continue
        best = np.inf
        for r in range(room_occ.shape[0]):
            if not allowed[k, r, t] or not _room_free(r, t, t + dur, mark, mark, room_occ):
                continue
            cost = _own(k, r, t, items, capacity, weights) + _track_delta(
                k, old_room, r, items, track_count, track_distinct, weights
            )
            if cost < best:
                best, rooms[i] = cost, r
        if rooms[i] >= 0:
            delta[i] = weights[W_CLASH] * round(running) + best - now
            lowest = min(lowest, delta[i])
    if lowest == np.inf:
        return -1, 0, 0, 0
    pick = -1
    if temperature <= 0.0:
        for i in range(count):
            if delta[i] == lowest:
                pick = i
                break
    else:
        total = 0.0
        for i in range(count):
            if delta[i] < np.inf:
                total += math.exp(-(delta[i] - lowest) / temperature)
        target = draw * total
        total = 0.0
        for i in range(count):
            if delta[i] < np.inf:
                total += math.exp(-(delta[i] - lowest) / temperature)
                pick = i
                if total > target:
                    break
    r, t = int(rooms[pick]), starts[pick]
    if r == old_room and t == old_start:
        return -1, 0, 0, 0
    clashes = _clash(k, t, t + dur, pos, pt_ptr, pt_idx, pt_w)
    return r, t, round(delta[pick]), clashes - now_clashes


@njit(cache=True, nogil=True)
def _swap(k, j, items, pos, sp_ptr, sp_idx, pt_ptr, pt_idx, pt_w, allowed, capacity, weights,
          room_occ, sp_occ, track_count, track_distinct):  # fmt: skip
    """What ``k`` and ``j`` exchanging places would change, (ok, cost delta, clash delta)."""
    rk, tk, rj, tj = pos[k, ROOM], pos[k, START], pos[j, ROOM], pos[j, START]
    if not allowed[k, rj, tj] or not allowed[j, rk, tk]:
        return False, 0, 0
    dk, dj = items[k, DUR], items[j, DUR]
    a, b = k + 1, j + 1
    if not _room_free(rj, tj, tj + dk, a, b, room_occ) or not _room_free(
        rk, tk, tk + dj, a, b, room_occ
    ):
        return False, 0, 0
    if not _speakers_free(k, tj, tj + dk, a, b, sp_ptr, sp_idx, sp_occ):
        return False, 0, 0
    if not _speakers_free(j, tk, tk + dj, a, b, sp_ptr, sp_idx, sp_occ):
        return False, 0, 0
    if dk != dj and tj < tk + dj and tk < tj + dk:
        # k's new span meets j's new span: they must not share a room or a speaker.
        if rj == rk:
            return False, 0, 0
        for p in range(sp_ptr[k], sp_ptr[k + 1]):
            for q in range(sp_ptr[j], sp_ptr[j + 1]):
                if sp_idx[p] == sp_idx[q]:
                    return False, 0, 0
    delta = _own(k, rj, tj, items, capacity, weights) - _own(k, rk, tk, items, capacity, weights)
    delta += _own(j, rk, tk, items, capacity, weights) - _own(j, rj, tj, items, capacity, weights)
    # The pairs with k or j in them, before and after (the pair k-j counted once).
    pair = _pair(k, j, pt_ptr, pt_idx, pt_w)
    before = _clash(k, tk, tk + dk, pos, pt_ptr, pt_idx, pt_w)
    before += _clash(j, tj, tj + dj, pos, pt_ptr, pt_idx, pt_w)
    if pair and tk < tj + dj and tj < tk + dk:
        before -= pair
    pos[k, START], pos[k, END], pos[j, START], pos[j, END] = tj, tj + dk, tk, tk + dj
    after = _clash(k, tj, tj + dk, pos, pt_ptr, pt_idx, pt_w)
    after += _clash(j, tk, tk + dj, pos, pt_ptr, pt_idx, pt_w)
    pos[k, START], pos[k, END], pos[j, START], pos[j, END] = tk, tk + dk, tj, tj + dj
    if pair and tj < tk + dj and tk < tj + dk:
        after -= pair
    change = after - before
    delta += weights[W_CLASH] * change
    if items[k, TRACK] != items[j, TRACK]:
        delta += _track_delta(k, rk, rj, items, track_count, track_distinct, weights)
        delta += _track_delta(j, rj, rk, items, track_count, track_distinct, weights)
    return True, delta, change


@njit(cache=True, nogil=True)
def _exchange(k, j, items, pos, sp_ptr, sp_idx, room_occ, sp_occ, track_count, track_distinct):
    rk, tk, rj, tj = pos[k, ROOM], pos[k, START], pos[j, ROOM], pos[j, START]
    _occupy(k, 0, items, pos, sp_ptr, sp_idx, room_occ, sp_occ)
    _occupy(j, 0, items, pos, sp_ptr, sp_idx, room_occ, sp_occ)
    _move(k, rj, tj, items, pos, sp_ptr, sp_idx, room_occ, sp_occ, track_count, track_distinct)
    _move(j, rk, tk, items, pos, sp_ptr, sp_idx, room_occ, sp_occ, track_count, track_distinct)


@njit(cache=True, nogil=True)
def _seed(seed):
    np.random.seed(seed)


@njit(cache=True, nogil=True)
def _anneal(steps, temperature, focus, heat, items, pos, sp_ptr, sp_idx, pt_ptr, pt_idx, pt_w,
            ks_ptr, ks, allowed, capacity, weights, room_occ, sp_occ, track_count,
            track_distinct, movers, group, gr_ptr, gr_idx, best, tally, scratch):  # fmt: skip
    """``steps`` steps at one temperature; the running totals and the best schedule seen in
    ``tally`` and ``best``."""
    m = movers.shape[0]
    for _ in range(steps):
        k = movers[np.random.randint(0, m)]
        if np.random.random() < focus:
            # Rather one that clashes: the best of a few by the registrants it shares a time with.
            worst = _clash(k, pos[k, START], pos[k, END], pos, pt_ptr, pt_idx, pt_w)
            for _draw in range(FOCUS_DRAWS):
                other = movers[np.random.randint(0, m)]
                its = _clash(other, pos[other, START], pos[other, END], pos, pt_ptr, pt_idx, pt_w)
                if its > worst:
                    k, worst = other, its
        move = np.random.random()
        if move < heat:
            r, t, delta, change = _heat_bath(
                k, temperature, np.random.random(), items, pos, sp_ptr, sp_idx, pt_ptr,
                pt_idx, pt_w, ks_ptr, ks, allowed, capacity, weights, room_occ, sp_occ,
                track_count, track_distinct, scratch,
            )  # fmt: skip
            if r < 0:
                continue
            _occupy(k, 0, items, pos, sp_ptr, sp_idx, room_occ, sp_occ)
            _move(k, r, t, items, pos, sp_ptr, sp_idx, room_occ, sp_occ, track_count,
                  track_distinct)  # fmt: skip
        elif move < heat + (1 - heat) / 2:
            # Relocate k: a start of its own, in the room that suits it best then.
            first, last = ks_ptr[k], ks_ptr[k + 1]
            t = ks[first + np.random.randint(0, last - first)]
            dur, mark = items[k, DUR], k + 1
            old_room, old_start = pos[k, ROOM], pos[k, START]
            if not _speakers_free(k, t, t + dur, mark, mark, sp_ptr, sp_idx, sp_occ):
                continue
            r, extra = -1, 0
            for here in range(room_occ.shape[0]):
                if not allowed[k, here, t] or (here == old_room and t == old_start):
                    continue
                if not _room_free(here, t, t + dur, mark, mark, room_occ):
                    continue
                cost = _own(k, here, t, items, capacity, weights) + _track_delta(
                    k, old_room, here, items, track_count, track_distinct, weights
                )
                if r < 0 or cost < extra:
                    r, extra = here, cost
            if r < 0:
                continue
            change = 0
            if t != old_start:
                change = _clash(k, t, t + dur, pos, pt_ptr, pt_idx, pt_w) - _clash(
                    k, old_start, pos[k, END], pos, pt_ptr, pt_idx, pt_w
                )
            delta = (
                weights[W_CLASH] * change
                + extra
                - _own(k, old_room, old_start, items, capacity, weights)
            )
            if delta > 0 and np.random.random() >= math.exp(-delta / temperature):
                continue
            _occupy(k, 0, items, pos, sp_ptr, sp_idx, room_occ, sp_occ)
            _move(k, r, t, items, pos, sp_ptr, sp_idx, room_occ, sp_occ, track_count,
                  track_distinct)  # fmt: skip
        else:
            # Swap k with another session, of the same length where there is one.
            g = group[k]
            size = gr_ptr[g + 1] - gr_ptr[g]
            if size < 2 or np.random.random() < 0.2:
                j = movers[np.random.randint(0, m)]
            else:
                j = gr_idx[gr_ptr[g] + np.random.randint(0, size)]
            if j == k:
                continue
            ok, delta, change = _swap(
                k, j, items, pos, sp_ptr, sp_idx, pt_ptr, pt_idx, pt_w, allowed, capacity,
                weights, room_occ, sp_occ, track_count, track_distinct,
            )  # fmt: skip
            if not ok:
                continue
            if delta > 0 and np.random.random() >= math.exp(-delta / temperature):
                continue
            _exchange(k, j, items, pos, sp_ptr, sp_idx, room_occ, sp_occ, track_count,
                      track_distinct)  # fmt: skip
        tally[COST] += delta
        tally[CLASHES] += change
        if tally[COST] < tally[BEST_COST]:
            tally[BEST_COST], tally[BEST_CLASHES] = tally[COST], tally[CLASHES]
            tally[BETTER] = 1
            best[:, 0] = pos[:, ROOM]
            best[:, 1] = pos[:, START]
    tally[STEPS] += steps


@njit(cache=True, nogil=True)
def _descend(first, items, pos, sp_ptr, sp_idx, pt_ptr, pt_idx, pt_w, ks_ptr, ks, allowed,
             capacity, weights, room_occ, sp_occ, track_count, track_distinct, movers, group,
             gr_ptr, gr_idx, best, tally, scratch):  # fmt: skip
    """One pass of the steepest descent: with ``first`` true, every mover to its best start;
    then every pair of movers from the mover ``first`` on exchanged where that helps, for
    the movers ``first`` to ``first + 8``. True where something improved."""
    improved = False
    if first == 0:
        for n in range(movers.shape[0]):
            k = movers[n]
            r, t, delta, change = _heat_bath(
                k, 0.0, 0.0, items, pos, sp_ptr, sp_idx, pt_ptr, pt_idx, pt_w, ks_ptr, ks,
                allowed, capacity, weights, room_occ, sp_occ, track_count, track_distinct,
                scratch,
            )  # fmt: skip
            if r >= 0 and delta < 0:
                _occupy(k, 0, items, pos, sp_ptr, sp_idx, room_occ, sp_occ)
                _move(k, r, t, items, pos, sp_ptr, sp_idx, room_occ, sp_occ, track_count,
                      track_distinct)  # fmt: skip
                tally[COST] += delta
                tally[CLASHES] += change
                improved = True
    for n in range(first, min(first + 8, movers.shape[0])):
        k = movers[n]
        for o in range(n + 1, movers.shape[0]):
            j = movers[o]
            ok, delta, change = _swap(
                k, j, items, pos, sp_ptr, sp_idx, pt_ptr, pt_idx, pt_w, allowed, capacity,
                weights, room_occ, sp_occ, track_count, track_distinct,
            )  # fmt: skip
            if ok and delta < 0:
                _exchange(k, j, items, pos, sp_ptr, sp_idx, room_occ, sp_occ, track_count,
                          track_distinct)  # fmt: skip
                tally[COST] += delta
                tally[CLASHES] += change
                improved = True
    if tally[COST] < tally[BEST_COST]:
        tally[BEST_COST], tally[BEST_CLASHES] = tally[COST], tally[CLASHES]
        tally[BETTER] = 1
        best[:, 0] = pos[:, ROOM]
        best[:, 1] = pos[:, START]
    return improved


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
    state = _Arrays(problem, placements, weights, choices_of, movable)
    if not len(state.movers):
        return dict(placements)
    args = state.args()
    tally = state.tally
    _seed(seed)
    found = 0
    deadline = started + seconds
    # The annealing ends a little before the time: the rest polishes its best schedule.
    annealed = deadline - POLISH * max(0.0, deadline - time.monotonic())
    high, low = weights.clash * HOT, weights.clash * COLD

    def stopped() -> bool:
        return should_stop is not None and should_stop()

    def report(now: float) -> None:
        nonlocal found
        if tally[BETTER]:
            found, tally[BETTER] = found + 1, 0
            if on_solution is not None:
                on_solution(found, now - started, int(tally[BEST_CLASHES]))

    while True:
        now = time.monotonic()
        if now >= annealed or stopped():
            break
        report(now)
        progress = min(1.0, (now - started) / max(1e-9, annealed - started))
        temperature = high * (low / high) ** progress
        _anneal(CHUNK, temperature, FOCUS * progress, HEAT, *args)
    if time.monotonic() < deadline and not stopped():
        # Steepest descent from the best schedule: every session to its best start, every
        # pair of sessions exchanged where that helps, until nothing does or time is up.
        if tally[COST] != tally[BEST_COST]:
            before = tally
            state = _Arrays(problem, state.placements(state.best), weights, choices_of, movable)
            state.tally[COST] = state.tally[BEST_COST] = before[BEST_COST]
            state.tally[BETTER], state.tally[STEPS] = before[BETTER], before[STEPS]
            args, tally = state.args(), state.tally

        def late() -> bool:
            return time.monotonic() >= deadline or stopped()

        improving = True
        while improving and not late():
            improving = False
            for first in range(0, len(state.movers), 8):
                if late():
                    break
                improving |= _descend(first, *args)
    report(time.monotonic())
    logger.debug("local search: %d steps, %d better schedules", tally[STEPS], found)
    return state.placements(state.best)


_warmed = threading.Lock()
_warm = False


def warm() -> None:
    """Compile the steps, or load them from the cache, once per process: ahead of a first
    suggestion, so that its time goes to the search (the solver calls it before its clock
    starts; the worker at its start). A first compile takes about 10 s of a core; a load
    from the cache a fraction of a second."""
    global _warm
    with _warmed:
        if _warm:
            return
        # Plain data of the solver's shapes (this module does not import the solver).
        item = SimpleNamespace
        problem = SimpleNamespace(
            days=((0, 120),), step=30,
            rooms=(SimpleNamespace(id=1, capacity=10), SimpleNamespace(id=2, capacity=None)),
            items=(
                item(id=1, duration=30, speakers=(1,), track=1, audience=20, current=(1, 0)),
                item(id=2, duration=30, speakers=(2,), track=1, audience=0, current=None),
                item(id=3, duration=60, speakers=(), track=None, audience=0, current=None),
            ),
            together={(1, 2): 3, (2, 3): 1},
        )  # fmt: skip
        weights = SimpleNamespace(clash=100, seat=10, move=300, track_room=20)
        placements = {1: (1, 0), 2: (1, 30), 3: (2, 0)}
        choices = {i: [(r, s) for r in (1, 2) for s in (0, 30, 60)] for i in (1, 2, 3)}
        args = _Arrays(problem, placements, weights, choices, {1, 2, 3}).args()
        _seed(0)
        _anneal(64, 10.0, 0.5, HEAT, *args)
        _descend(0, *args)
        _warm = True
