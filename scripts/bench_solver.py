"""`make bench`'s solver section: schedule suggestions on generated events at three sizes.

    .venv/bin/python scripts/bench_solver.py [--seconds 10] [--seed 1]

For each size (60 sessions / 4 rooms / 1 day, 200 / 8 / 3, 400 / 12 / 3; with speakers on
several sessions, partial availability, a lunch block, a sponsor's slot and registrants'
choices, sessions_app.planning.generate) it places every session with the greedy baseline
(the most popular first, each at the earliest slot of the best-fitting room), then with
CP-SAT for ``--seconds`` starting from nothing, and prints: the time to the first schedule
with every hard rule holding, whether the final one holds them all, the attendee clashes
(registrants whose two chosen sessions run at once) and the seats short (expected audience
over the room's capacity) it leaves, against greedy's. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = [(60, 4, 1), (200, 8, 3), (400, 12, 3)]


def solver_section(*, seconds: float, seed: int = 1, workers: int | None = None) -> None:
    from sessions_app.planning.generate import event_problem
    from sessions_app.planning.solver import greedy, solve, valid

    workers = workers or os.cpu_count() or 2
    print(f"\n## Schedule suggestions (CP-SAT, {seconds:g} s, {workers} workers, seed {seed})\n")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="CP-SAT's limit per event")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="CP-SAT workers (0: the cores)")
    args = parser.parse_args()
    solver_section(seconds=args.seconds, seed=args.seed, workers=args.workers or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
