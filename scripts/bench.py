"""`make bench`: figures for the API, the staff UI, event day, attendees' writes and the schedule
solver, each against a floor outside the product, on a throwaway PostgreSQL.

    .venv/bin/python scripts/bench.py [--sections api,eventday,attendees,solver]
                                      [--sizes 1000,100000] [--seconds 5] [--rounds 10]
                                      [--only TEXT] [--top N] [--durable] ...

Each section is a module of scripts/benchmarks (their docstrings say what they measure):

- api: every API scenario and staff UI page at each size (``--sizes``), served by
  `make serve` as shipped, against the floor of a write (a bare Django project: a token
  SELECT and one UPDATE) and, for the staff UI, a plain ``ModelAdmin`` list of the same rows;
- eventday: open agendas on one server (``--agendas``), and the pages a crowd hits (the
  agenda page, its 304, static files) against a bare ASGI app answering the page's bytes;
- attendees: registrant create, choosing and giving up seats (API and the registrant's own
  page) and the PATCH against the floor, then the registration rush (``--rush``);
- solver: schedule suggestions on generated events against greedy and a general-purpose
  scheduler (``--solver`` seconds).

The cluster (scripts/pg_cluster.py) has pg_stat_statements, and its commits do not wait for
the disk unless ``--durable``. Servers are started as `make serve` starts them (gunicorn,
2 ASGI workers, production settings). Every scenario is driven in ``--rounds`` slices that
take turns with its floor, so a drift of the machine's speed falls on both; ratios are the
median of the rounds' ratios.

Figures, not assertions: compare runs on the same machine. The load comes from this
process (asyncio), so it shares the machine's two cores with the servers, as it does for
the floors it is compared with.
"""

from __future__ import annotations

import argparse
import sys

import pg_cluster
from benchmarks import api, eventday, rush, solver
from benchmarks.common import Database

SECTIONS = ("api", "eventday", "attendees", "solver")


def numbers(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections", default=",".join(SECTIONS),
        help=f"the sections to run, comma list (default: all of {', '.join(SECTIONS)})",
    )  # fmt: skip
    parser.add_argument("--sizes", default="1000,100000", help="api: load sessions, comma list")
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="measured time per scenario and size"
    )
    parser.add_argument("--connections", type=int, default=8, help="api: concurrent connections")
    parser.add_argument("--workers", type=int, default=2, help="api: gunicorn workers")
    parser.add_argument(
        "--rounds", type=int, default=10, help="interleaved slices each scenario's time is cut into"
    )
    parser.add_argument("--only", default="", help="api: only scenarios containing this text")
    parser.add_argument(
        "--top", type=int, default=0,
        help="api: also print each scenario's N statements that took longest in PostgreSQL",
    )  # fmt: skip
    parser.add_argument(
        "--agendas", default="1000,5000,10000",
        help="eventday: open agendas, comma list (empty: only the pages)",
    )  # fmt: skip
    parser.add_argument(
        "--rush", default="1000,5000",
        help="attendees: registrants in each rush on one 150-seat session, comma list",
    )  # fmt: skip
    parser.add_argument(
        "--durable", action="store_true",
        help="commits wait for the disk, as in production (fsync, synchronous_commit and "
        "full_page_writes on; the throwaway cluster has them off by default)",
    )  # fmt: skip
    parser.add_argument(
        "--solver", type=float, default=10.0,
        help="solver: the suggestion's limit per event, in seconds",
    )  # fmt: skip
    parser.add_argument(
        "--solver-long", type=float, default=60.0,
        help="solver: after the call, the longer limit the suggestion and the reference get",
    )  # fmt: skip
    parser.add_argument(
        "--solver-runs", type=int, default=3,
        help="solver: after the call, runs per figure (median and spread)",
    )  # fmt: skip
    args = parser.parse_args()
    sections = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    servers = [name for name in sections if name != "solver"]
    if servers:
        bindir = pg_cluster.find_bindir()
        if bindir is None:
            sys.exit("make bench needs the PostgreSQL server binaries (initdb, pg_ctl, postgres).")
        extra = {"shared_preload_libraries": "'pg_stat_statements'", "max_connections": "50"}
        if args.durable:
            extra.update(fsync="on", synchronous_commit="on", full_page_writes="on")
        with pg_cluster.cluster(bindir, extra_settings=extra) as cluster:
            with Database(cluster).conn as conn:
                conn.execute("CREATE EXTENSION pg_stat_statements")
            if "api" in sections:
                api.section(
                    cluster, sizes=sorted(set(numbers(args.sizes))), workers=args.workers,
                    only=args.only, connections=args.connections, seconds=args.seconds,
                    rounds=args.rounds, top=args.top,
                )  # fmt: skip
            if "eventday" in sections:
                eventday.section(
                    cluster, agendas=numbers(args.agendas), seconds=args.seconds,
                    rounds=args.rounds,
                )  # fmt: skip
            if "attendees" in sections:
                rush.section(
                    cluster, rush_sizes=numbers(args.rush), seconds=args.seconds,
                    rounds=args.rounds,
                )  # fmt: skip
    if "solver" in sections:
        solver.solver_section(seconds=args.solver)
        solver.after_the_call_section(
            seconds=args.solver, long=args.solver_long, runs=args.solver_runs
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
