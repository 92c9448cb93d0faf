"""`make bench`'s solver section: schedule suggestions on generated events at three sizes,
and on the event an organiser brings after the call.

    make bench ARGS="--sections solver [--solver 10] [--solver-long 60] [--solver-runs 3]"

For each size (60 sessions / 4 rooms / 1 day, 200 / 8 / 3, 400 / 12 / 3; with speakers on
several sessions, partial availability, a lunch block, a sponsor's slot and registrants'
choices, sessions_app.planning.generate) it places every session with the greedy baseline
(the most popular first, each at the earliest slot of the best-fitting room), then with the
product's suggestion (``solver.solve``: greedy, CP-SAT for small events, the local search)
for ``--solver`` seconds, and prints: the time to the first schedule
with every hard rule holding, whether the final one holds them all, the attendee clashes
(registrants whose two chosen sessions run at once) and the seats short (expected audience
over the room's capacity) it leaves, against greedy's.

Then the event after the call (sessions_app.planning.generate.after_the_call: 120 approved
sessions with their types' lengths, none placed, 6 rooms, 2 days, 80 speakers, 600
registrants' interests): greedy; the product's suggestion at ``--solver`` and at ``--solver-long``
seconds, ``--solver-runs`` times each (median, and the spread from best to worst); and, as the
reference, a general-purpose scheduler: CP-SAT with the 600 most co-chosen pairs kept apart
as rules, for ``--solver-long`` seconds. Clashes are counted over every co-chosen pair, and every
schedule is checked against the hard rules independently of the solver. Figures, not
assertions.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project, for sessions_app

SIZES = [(60, 4, 1), (200, 8, 3), (400, 12, 3)]


def solver_section(*, seconds: float, seed: int = 1, workers: int | None = None) -> None:
    from sessions_app.planning.generate import event_problem
    from sessions_app.planning.solver import greedy, solve, valid

    workers = workers or os.cpu_count() or 2
    print(f"\n## Schedule suggestions ({seconds:g} s, {workers} workers, seed {seed})\n")
    print(
        "| event | first valid schedule | final: rules hold | attendee clashes (greedy) "
        "| seats short (greedy) | moved | track rooms beyond the first (greedy) |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for sessions, rooms, days in SIZES:
        problem = event_problem(sessions=sessions, rooms=rooms, days=days, seed=seed)
        baseline = greedy(problem)
        result = solve(problem, seconds=seconds, workers=workers)
        broken = valid(problem, result.placements) if result.placements else ["none found"]
        first = (
            f"{result.first_solution_seconds:.1f} s"
            if result.first_solution_seconds is not None
            else "none"
        )
        greedy_note = "" if not baseline.reasons else f", {len(baseline.reasons)} unplaced"
        print(
            f"| {sessions} / {rooms} / {days} | {first} | "
            f"{'yes' if not broken else 'no: ' + broken[0]} ({result.status}) | "
            f"{result.score.attendee_clashes:,} ({baseline.score.attendee_clashes:,}"
            f"{greedy_note}) | {result.score.seats_short:,} ({baseline.score.seats_short:,}) | "
            f"{result.score.moved} | {result.score.track_rooms} ({baseline.score.track_rooms}) |"
        )


def pairs_kept_apart(problem, *, seconds: float, pairs: int = 600, workers: int = 2, seed: int = 1):
    """The general-purpose way to the same question, as a reference: CP-SAT given the
    rooms, speakers, days, blocks and opening hours as they are, and the ``pairs`` most
    co-chosen pairs as rules (never at once); it minimises nothing. Its placements, or {}."""
    from ortools.sat.python import cp_model

    from sessions_app.planning.solver import options

    model = cp_model.CpModel()
    horizon = max(hi for _lo, hi in problem.days)
    starts, ends, flags = {}, {}, {}
    rooms: dict = {}
    speakers: dict = {}
    for item in problem.items:
        if item.pinned:
            room, at = item.current
            interval = model.NewFixedSizeIntervalVar(at, item.duration, "")
            starts[item.id], ends[item.id] = at, at + item.duration
            rooms.setdefault(room, []).append(interval)
            for s in item.speakers:
                speakers.setdefault(s, []).append(interval)
            flags[item.id] = {room: 1}
            continue
        allowed = options(problem, item)
        domain = cp_model.Domain.FromValues(sorted({at for _r, at in allowed}))
        start = model.NewIntVarFromDomain(domain, "")
        end = model.NewIntVar(0, horizon, "")
        interval = model.NewIntervalVar(start, item.duration, end, "")
        starts[item.id], ends[item.id] = start, end
        for s in item.speakers:
            speakers.setdefault(s, []).append(interval)
        here = {}
        for room in {r for r, _at in allowed}:
            flag = model.NewBoolVar("")
            here[room] = flag
            rooms.setdefault(room, []).append(
                model.NewOptionalIntervalVar(start, item.duration, end, flag, "")
            )
            allowed_here = [at for r, at in allowed if r == room]
            model.AddAllowedAssignments([start], [(at,) for at in allowed_here]).OnlyEnforceIf(flag)
        model.AddExactlyOne(here.values())
        flags[item.id] = here
    for intervals in [*rooms.values(), *speakers.values()]:
        model.AddNoOverlap(intervals)
    heaviest = sorted(problem.together.items(), key=lambda kv: -kv[1])[:pairs]
    for (a, b), _count in heaviest:
        if a in starts and b in starts:
            before = model.NewBoolVar("")
            model.Add(ends[a] <= starts[b]).OnlyEnforceIf(before)
            model.Add(ends[b] <= starts[a]).OnlyEnforceIf(before.Not())
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    if solver.Solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {}
    placements = {}
    for item in problem.items:
        room = next(r for r, f in flags[item.id].items() if isinstance(f, int) or solver.Value(f))
        value = starts[item.id]
        placements[item.id] = (room, value if isinstance(value, int) else solver.Value(value))
    return placements


def after_the_call_section(
    *, seconds: float, long: float, runs: int, workers: int = 2, seed: int = 1
) -> None:
    import statistics

    from sessions_app.planning.generate import after_the_call
    from sessions_app.planning.solver import greedy, score, solve, valid

    problem = after_the_call(seed=seed)
    total = sum(problem.together.values())
    print(
        f"\n## After the call: 120 sessions / 6 rooms / 2 days, 80 speakers, 600 registrants "
        f"({len(problem.together):,} co-chosen pairs, {total:,} registrant-pairs)\n"
    )
    print("| schedule | rules hold | registrant clashes: median (best-worst) of runs |")
    print("| --- | --- | --- |")

    def row(label: str, placements_of) -> None:
        figures, broken = [], []
        for run in range(runs):
            placements = placements_of(run)
            broken += valid(problem, placements) if placements else ["none found"]
            placed = len(placements) == len(problem.items)
            figures.append(score(problem, placements).attendee_clashes if placed else None)
        known = sorted(f for f in figures if f is not None)
        spread = f"{statistics.median(known):g} ({known[0]}-{known[-1]})" if known else "none"
        print(f"| {label} | {'yes' if not broken else 'no: ' + broken[0]} | {spread} |")

    baseline = greedy(problem)
    row("greedy (one run: it is deterministic)", lambda run: baseline.placements)
    for limit in (seconds, long):
        row(
            f"the product's suggestion, {limit:g} s, {workers} workers",
            lambda run, limit=limit: (
                solve(problem, seconds=limit, workers=workers, seed=run).placements
            ),
        )
    row(
        f"reference: CP-SAT with the 600 most co-chosen pairs kept apart, {long:g} s",
        lambda run: pairs_kept_apart(problem, seconds=long, workers=workers, seed=run + 1),
    )
