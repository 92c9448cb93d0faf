"""`make bench`: the API and the admin under gunicorn on a throwaway PostgreSQL, at two sizes.

    .venv/bin/python scripts/bench.py [--sizes 1000,100000] [--seconds 5] [--rounds 10]
                                      [--only TEXT] [--top N] [--durable]

What it does, all on this machine:

1. starts a PostgreSQL cluster (scripts/pg_cluster.py) with pg_stat_statements and, for
   each size, a database of its own, migrated and seeded with the demo plus ``--sessions``
   load sessions (seed_demo); its commits do not wait for the disk (``fsync`` and
   ``synchronous_commit`` off, as in the test clusters) unless ``--durable`` turns them on;
2. serves each database with its own gunicorn (the repo's config, production settings,
   2 sync workers; ``config.settings.bench``: production plus two reference endpoints);
3. drives every scenario at every size from 8 concurrent connections for ``--seconds``,
   in ``--rounds`` slices that take turns (each scenario at one size, then at the next,
   then the next scenario), and prints requests per second, p50 and p99 latency, and the
   SQL statements each request sent to PostgreSQL (pg_stat_statements: BEGIN/COMMIT and
   any connection health check included, PostgreSQL's own foreign-key checks at COMMIT
   left out);
4. with ``--top N``, prints each scenario's N statements that took PostgreSQL longest
   (milliseconds and calls per request, from pg_stat_statements), to see where time goes;
5. prints the staff UI's session list (with filter counts), review queue and schedule grid
   beside a stock ``ModelAdmin`` list of the same rows (config/bench_urls.py), the floor
   for the admin;
6. prints each scenario's throughput over the reference view's (a token SELECT and one
   UPDATE: the floor of a write on this stack), both over the whole run and as the median
   of the rounds' ratios (each slice over the reference's slice of the same round, so that
   a burst of noise in one slice moves one ratio of ten), and each scenario's p50 at the
   largest size over the smallest, the sizes measured side by side.

7. then the event-day section (scripts/bench_eventday.py, ``--agendas``): open agendas on
   one server, the agenda page and its 304 against a static file, the registration rush;
8. and last the schedule solver (scripts/bench_solver.py, ``--solver`` seconds): generated
   events of 60, 200 and 400 sessions placed by the suggestion and by a greedy baseline,
   then the event after the call (120 sessions, 600 registrants' interests) at ``--solver``
   and ``--solver-long`` seconds, ``--solver-runs`` times each, beside a general-purpose
   scheduler with the most co-chosen pairs kept apart.

Figures, not assertions: compare runs on the same machine. The load comes from this
process (asyncio), so it shares the machine's two cores with the server, as it does for
the reference endpoints it is compared with.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import itertools
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pg_cluster

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECRET = "bench-only-secret-" + "Qm7rT2xV" * 6


@dataclass
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] | None = None


@dataclass
class Figures:
    requests: int
    seconds: float
    latencies: list[float]
    statements: float
    errors: int
    statuses: dict[int, int]
    slices: list[float]  # requests per second in each round's slice

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def times(self, reference: Figures) -> float:
        """Throughput over the reference's: the median of the rounds' ratios, each slice
        over the reference's slice of the same round (seconds apart), so that a burst of
        the machine's noise in one slice moves one ratio, not the result."""
        return statistics.median(a / b for a, b in zip(self.slices, reference.slices, strict=True))

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * p), len(ordered) - 1)] * 1000


# --- the load generator -----------------------------------------------------------------------


async def _one(port: int, raw: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = await reader.read()
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return int(data[9:12])


def _raw(request: Request, port: int) -> bytes:
    headers = {
        "Host": f"127.0.0.1:{port}",
        "X-Forwarded-Proto": "https",  # as behind the load balancer that terminates TLS
        "Connection": "close",
        **(request.headers or {}),
    }
    if request.body:
        headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(request.body))
    head = f"{request.method} {request.path} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    return head.encode() + b"\r\n" + request.body


_COUNTER = itertools.count()


async def _drive(port, make: Callable[[int], Request], connections: int, seconds: float):
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = _COUNTER  # shared by every run: the measured run never repeats the warm-up's writes
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            raw = _raw(make(next(counter)), port)
            started = time.perf_counter()
            status = await _one(port, raw)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, statuses, time.perf_counter() - started


# --- the database side ----------------------------------------------------------------------


class Database:
    def __init__(self, cluster, name: str = "postgres"):
        import psycopg

        self.conn = psycopg.connect(
            host=str(cluster.socket_dir), port=cluster.port, user="postgres", dbname=name,
            autocommit=True,
        )  # fmt: skip

    def rows(self, sql: str, params=()) -> list[tuple]:
        return self.conn.execute(sql, params or None).fetchall()

    def reset_statements(self) -> None:
        self.conn.execute("SELECT pg_stat_statements_reset()")

    def statements(self) -> int:
        # What the app sent since the reset: less this connection's own look-ups, and less
        # PostgreSQL's own checks of deferred foreign keys, which run at COMMIT as top-level
        # statements ("SELECT 1 FROM ONLY ... FOR KEY SHARE OF x", its 1 sometimes recorded
        # as a parameter: "SELECT $2 FROM ONLY ...").
        [(count,)] = self.rows(
            "SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements "
            "WHERE query NOT ILIKE '%pg_stat_statements%' "
            "AND query NOT LIKE 'SELECT % FROM ONLY %FOR KEY SHARE OF x'"
        )
        return int(count)

    def timings(self) -> list[tuple[str, int, float]]:
        """(query, calls, total execution ms) of what the app sent since the reset."""
        return self.rows(
            "SELECT query, calls, total_exec_time FROM pg_stat_statements "
            "WHERE query NOT ILIKE '%pg_stat_statements%'"
        )


def measure(db, plan: dict[str, tuple[int, Callable[[int], Request]]], *, connections, seconds,
            rounds, top=0):  # fmt: skip
    """Each scenario (served on its port) for ``seconds`` in all, in ``rounds`` interleaved
    slices.

    Scenario after scenario, round after round: a drift of the machine's speed (another
    tenant, autovacuum, a CPU frequency change) falls on every scenario alike rather than on
    whichever ran at that moment, so the ratios hold up better than the absolute figures.
    """
    for port, make in plan.values():
        asyncio.run(_drive(port, make, connections, min(1.0, seconds / 3)))  # warm-up
    latencies: dict[str, list[float]] = {name: [] for name in plan}
    statuses: dict[str, dict[int, int]] = {name: {} for name in plan}
    elapsed = dict.fromkeys(plan, 0.0)
    statements = dict.fromkeys(plan, 0)
    spent: dict[str, dict[str, list[float]]] = {name: {} for name in plan}
    slices: dict[str, list[float]] = {name: [] for name in plan}
    for _ in range(rounds):
        for name, (port, make) in plan.items():
            db.reset_statements()
            lat, st, took = asyncio.run(_drive(port, make, connections, seconds / rounds))
            slices[name].append(len(lat) / took)
            statements[name] += db.statements()
            for query, calls, total in db.timings() if top else ():
                figures = spent[name].setdefault(query, [0, 0.0])
                figures[0] += calls
                figures[1] += total
            latencies[name] += lat
            elapsed[name] += took
            for status, n in st.items():
                statuses[name][status] = statuses[name].get(status, 0) + n
    for name in plan if top else ():
        requests = max(len(latencies[name]), 1)
        print(f"\n{name}: the statements that took longest, ms per request (calls per request)")
        ranked = sorted(spent[name].items(), key=lambda item: -item[1][1])[:top]
        for query, (calls, total) in ranked:
            text = " ".join(query.split())[:150]
            print(f"  {total / requests:7.3f} ({calls / requests:.2f})  {text}")
    return {
        name: Figures(
            len(latencies[name]),
            elapsed[name],
            latencies[name],
            statements[name] / max(len(latencies[name]), 1),
            sum(n for status, n in statuses[name].items() if status >= 400),
            statuses[name],
            slices[name],
        )
        for name in plan
    }


# --- set-up ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env, *args) -> str:
    done = subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def http(port: int, method: str, path: str, body: bytes = b"", headers=None):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body, {"X-Forwarded-Proto": "https", **(headers or {})})
    response = conn.getresponse()
    return response.status, response.headers, response.read()


def token(port: int, client: dict) -> str:
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    status, _, body = http(
        port, "POST", "/oauth2/token", b"grant_type=client_credentials",
        {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert status == 200, body
    return json.loads(body)["access_token"]


def admin_cookie(port: int) -> str:
    """Log the demo superuser in; the session cookie a browser would send."""
    status, headers, body = http(port, "GET", "/admin/login/")
    cookies = {c.split("=", 1)[0]: c.split(";")[0] for c in headers.get_all("Set-Cookie")}
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)[1].decode()
    form = f"csrfmiddlewaretoken={csrf}&username=admin&password=admin-demo-pass&next=/admin/"
    status, headers, _ = http(
        port, "POST", "/admin/login/", form.encode(),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookies["csrftoken"],
            "Origin": f"https://127.0.0.1:{port}",
            "Referer": f"https://127.0.0.1:{port}/admin/login/",
        },
    )  # fmt: skip
    assert status == 302, status
    session = [c for c in headers.get_all("Set-Cookie") if c.startswith("sessionid=")]
    return session[0].split(";")[0]


def scenarios(db: Database, bearer: str, cookie: str) -> dict[str, Callable[[int], Request]]:
    held = db.rows(
        "SELECT s.id, s.start_time, s.end_time FROM sessions_app_session s "
        "JOIN sessions_app_event e ON e.id = s.event_id WHERE e.slug LIKE 'load-%%' "
        "AND s.session_status IN ('approved', 'converted', 'live') ORDER BY s.id"
    )
    random.Random(7).shuffle(held)  # noqa: S311 - a repeatable order, not a secret
    # The first day of an event is full (100 sessions) at every size: the same page.
    [(event_id, day)] = db.rows(
        "SELECT e.id, e.start_date FROM sessions_app_event e WHERE e.slug = 'load-3'"
    )
    # A track of the last event: in the orders that follow the calendar, every other event's
    # sessions come before its own.
    [(track_id,)] = db.rows(
        "SELECT MIN(t.id) FROM sessions_app_track t JOIN sessions_app_event e "
        "ON e.id = t.event_id WHERE e.slug = 'load-10'"
    )
    [(committee_id,)] = db.rows("SELECT id FROM sessions_app_event WHERE slug = 'bench-committee'")
    auth = {"Authorization": f"Bearer {bearer}"}
    admin = {"Cookie": cookie}

    def pick(i: int):
        return held[i % len(held)]

    def rename(i: int) -> Request:
        return Request(
            "PATCH", f"/api/v1/sessions/{pick(i)[0]}", b'{"name": "Renamed %d"}' % i, auth
        )

    shortened: set[int] = set()

    def move(i: int) -> Request:
        # End a minute early, and on time again the next time the session comes round: every
        # request moves it (the other scenarios leave its times alone). The session keeps
        # holding its room, so the write locks it and checks for clashes.
        pk, _, end = pick(i)
        early = pk not in shortened
        (shortened.add if early else shortened.discard)(pk)
        minutes = end.hour * 60 + end.minute - (1 if early else 0)
        body = json.dumps({"end_time": f"{minutes // 60:02}:{minutes % 60:02}"}).encode()
        return Request("PATCH", f"/api/v1/sessions/{pk}", body, auth)

    def reference(kind: str):
        return lambda i: Request(
            "PATCH", f"/bench/{kind}/{pick(i)[0]}", b'{"name": "Renamed %d"}' % i, auth
        )

    def get(path: str, headers=auth):
        return lambda i: Request("GET", path, headers=headers)

    return {
        "reference view (token SELECT + UPDATE)": reference("bare"),
        "reference, DRF APIView": reference("drf"),
        "PATCH /sessions/{id} (rename)": rename,
        "PATCH /sessions/{id} (move in time)": move,
        "GET /sessions/{id}": lambda i: Request(
            "GET", f"/api/v1/sessions/{pick(i)[0]}", headers=auth
        ),
        "GET /sessions (default sort)": get("/api/v1/sessions"),
        "GET /sessions?event_id": get(f"/api/v1/sessions?event_id={event_id}"),
        "GET /sessions?session_status&date": get(
            f"/api/v1/sessions?session_status=live,approved&date={day.isoformat()}"
        ),
        # Sorts other than the default, each read from its own index (migration 0020): by
        # name, and newest change first, as a client that syncs reads.
        "GET /sessions?sort=name": get("/api/v1/sessions?sort=name"),
        "GET /sessions?sort=-updated_at": get("/api/v1/sessions?sort=-updated_at"),
        # One group (a track) in an order that follows the calendar: its sessions sorted after
        # the filter (selectors.AfterFilter), not picked out of the date index as it is read.
        "GET /sessions?track_id&sort=date": get(f"/api/v1/sessions?track_id={track_id}&sort=date"),
        "GET /sessions?search=word": get("/api/v1/sessions?search=observability"),
        # A word only the demo's "Community organisers roundtable" has: the same one match at
        # every size, so this shows what the table's size costs a search, the line above what
        # its matches cost (2% of the sessions: 21 at 1,000, 2,000 at 100,000).
        "GET /sessions?search=rare word": get("/api/v1/sessions?search=roundtable"),
        "admin session list": get("/admin/sessions_app/session/", admin),
        "admin session list, searched": get("/admin/sessions_app/session/?q=observability", admin),
        "admin session list, searched rare word": get(
            "/admin/sessions_app/session/?q=roundtable", admin
        ),
        "admin session list, one event": get(
            f"/admin/sessions_app/session/?event={event_id}", admin
        ),
        "admin schedule grid, one day": get(
            f"/admin/sessions_app/session/schedule/?event={event_id}&day={day.isoformat()}", admin
        ),
        # The staff UI's pages beside a stock ModelAdmin's list of the same rows
        # (config/bench_urls.py): ADMIN_FLOORS pairs them.
        "admin session list, one event, filter counts": get(
            f"/admin/sessions_app/session/?event={event_id}&_facets=True", admin
        ),
        "plain ModelAdmin, one event, filter counts": get(
            f"{PLAIN}?event__id__exact={event_id}&_facets=True", admin
        ),
        "admin review queue, one event": get(
            f"/admin/sessions_app/session/review/?event={event_id}", admin
        ),
        "plain ModelAdmin, one event's submitted": get(
            f"{PLAIN}?event__id__exact={event_id}&session_status__exact=submitted", admin
        ),
        "admin committee table, 2,000 proposals x 3 reviews": get(
            f"/admin/sessions_app/review/committee/?event={committee_id}", admin
        ),
        "plain ModelAdmin, the committee's 2,000 proposals": get(
            f"{PLAIN}?event__id__exact={committee_id}&session_status__exact=submitted", admin
        ),
        "plain ModelAdmin, one event's day": get(
            f"{PLAIN}?event__id__exact={event_id}&date__gte={day.isoformat()}"
            f"&date__lt={(day + dt.timedelta(days=1)).isoformat()}",
            admin,
        ),
    }


PLAIN = "/bench/plain-admin/sessions_app/session/"
# An event of 2,000 submitted proposals with three reviews each, for the committee's table:
# the proposals written in bulk as load_data writes sessions, the committee and its
# assignments by the services, the reviews with the totals the review service gives them.
COMMITTEE = """
import datetime as dt
from django.utils import timezone
from sessions_app import services
from sessions_app.enums import MemberRole
from sessions_app.models import *
from sessions_app.services.reviews import review_total
org = Organisation.objects.get(slug="demo")
if not Event.objects.filter(slug="bench-committee").exists():
    start = dt.date.today() + dt.timedelta(days=60)
    event = Event.objects.create(organisation=org, name="Bench committee", slug="bench-committee",
        timezone="Europe/Berlin", start_date=start, end_date=start + dt.timedelta(days=2))
    tracks = [Track.objects.create(event=event, name=f"Track {n}") for n in range(4)]
    Session.objects.bulk_create(Session(event=event, name=f"Proposal {n}",
        description="An abstract of a proposal.", track=tracks[n % 4]) for n in range(2000))
    now = timezone.now()
    ReviewSettings.objects.create(event=event, opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=30), reviewers_per_proposal=3)
    criteria = [ReviewCriterion.objects.create(event=event, name=n, weight=w)
        for n, w in (("Relevance", 2), ("Clarity", 1))]
    from django.contrib.auth import get_user_model
    for n in range(30):
        user = get_user_model().objects.create(username=f"bench-reviewer-{n}", is_staff=True)
        Membership.objects.create(organisation=org, user=user, role=MemberRole.REVIEWER)
        Reviewer.objects.create(event=event, user=user)
    services.assign_reviewers(event_id=event.pk)
    reviews = []
    for i, (session_id, reviewer_id) in enumerate(ReviewAssignment.objects.filter(
            session__event=event).values_list("session_id", "reviewer_id")):
        scores = {str(criteria[0].pk): 1 + i % 5, str(criteria[1].pk): 1 + (i * 7) % 5}
        reviews.append(Review(session_id=session_id, reviewer_id=reviewer_id, scores=scores,
            total=review_total(scores, criteria)))
    Review.objects.bulk_create(reviews, batch_size=2000)
"""
# Each staff UI page and the stock ModelAdmin list it is measured against.
ADMIN_FLOORS = {
    "admin session list, one event, filter counts": "plain ModelAdmin, one event, filter counts",
    "admin review queue, one event": "plain ModelAdmin, one event's submitted",
    "admin schedule grid, one day": "plain ModelAdmin, one event's day",
    "admin committee table, 2,000 proposals x 3 reviews": (
        "plain ModelAdmin, the committee's 2,000 proposals"
    ),
}


def print_admin_floors(size: int, results: dict[str, Figures]) -> None:
    pairs = [(ours, plain) for ours, plain in ADMIN_FLOORS.items() if {ours, plain} <= set(results)]
    if not pairs:
        return
    print(f"\n### The staff UI against a plain ModelAdmin, {size:,} sessions\n")
    print(
        "| page | p50 ms | plain p50 ms | p50 x plain | req/s x plain | statements | "
        "plain statements |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for ours, plain in pairs:
        a, b = results[ours], results[plain]
        print(
            f"| {ours} | {a.percentile(0.5):.1f} | {b.percentile(0.5):.1f} | "
            f"{a.percentile(0.5) / b.percentile(0.5):.2f} | {a.rps / b.rps:.2f} | "
            f"{a.statements:.1f} | {b.statements:.1f} |"
        )


def print_table(size: int, results: dict[str, Figures]) -> None:
    reference = results["reference view (token SELECT + UPDATE)"]
    print(f"\n### {size:,} sessions\n")
    print(
        "| scenario | req/s | p50 ms | p99 ms | statements/req | x reference | "
        "x reference, rounds' median | errors |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, f in results.items():
        print(
            f"| {name} | {f.rps:,.0f} | {f.percentile(0.5):.1f} | {f.percentile(0.99):.1f} | "
            f"{f.statements:.1f} | {f.rps / reference.rps:.2f} | {f.times(reference):.2f} | "
            f"{f.errors} |"
        )


@dataclass
class Site:
    """One size: its database, seeded, and the gunicorn that serves it."""

    size: int
    env: dict[str, str]
    server: subprocess.Popen
    log: Path

    @property
    def port(self) -> int:
        return int(self.env["PORT"])

    @property
    def database(self) -> str:
        return database_name(self.size)

    def stop(self) -> list[str]:
        """Stop the server; the errors it logged."""
        os.killpg(self.server.pid, signal.SIGTERM)
        self.server.wait(timeout=30)
        return [
            line
            for line in self.log.read_text().splitlines()
            if '"level": "ERROR"' in line or "Traceback" in line
        ]


def database_name(size: int) -> str:
    return f"bench_{size}"


def label(name: str, size: int) -> str:
    """A scenario at one size, as ``measure`` and ``--top`` name it."""
    return f"{name}, {size:,} sessions"


def start_site(cluster, size: int, workers: int) -> Site:
    """Create, migrate and seed the database of ``size`` load sessions, and serve it."""
    name = database_name(size)
    with Database(cluster).conn as conn:
        conn.execute(f"CREATE DATABASE {name}")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_ROOT": str(cluster.root / "static"),
        "DJANGO_API_RATE_LIMIT_REQUESTS": str(10**9),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": cluster.url.replace("/postgres?", f"/{name}?"),
        "WEB_CONCURRENCY": str(workers),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    started = time.perf_counter()
    manage(env, "seed_demo", "--sessions", str(size))
    print(f"seed_demo --sessions {size}: {time.perf_counter() - started:.1f} s")
    manage(env, "shell", "-c", COMMITTEE)
    log = cluster.root / f"gunicorn-{size}.log"
    with log.open("w") as out:
        server = subprocess.Popen(  # noqa: S603
            [str(Path(PYTHON).parent / "gunicorn"), "-c", "config/gunicorn.conf.py"],
            cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    site = Site(size, env, server, log)
    for _ in range(300):
        with contextlib.suppress(OSError):
            if http(site.port, "GET", "/healthz")[0] == 200:
                break
        time.sleep(0.1)
    return site


def site_scenarios(cluster, site: Site) -> dict[str, Callable[[int], Request]]:
    db = Database(cluster, site.database)
    try:
        db.conn.execute("VACUUM ANALYZE")
        db.conn.execute("CHECKPOINT")  # not during the measurement
        [(common, rare)] = db.rows(
            "SELECT COUNT(*) FILTER (WHERE searched ILIKE '%%observability%%'), "
            "COUNT(*) FILTER (WHERE searched ILIKE '%%roundtable%%') FROM (SELECT "
            "concat_ws(' ', name, admin_short_name, badge_name, description) AS searched "
            "FROM sessions_app_session) AS s"
        )
        print(f"{site.size:,} sessions: {common} and {rare} match the searched words")
        client = json.loads(
            manage(site.env, "create_api_client", "--organisation", "demo", "--name", "bench")
        )
        return scenarios(db, token(site.port, client), admin_cookie(site.port))
    finally:
        db.conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="load sessions, comma list")
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="measured time per scenario and size"
    )
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--rounds",
        type=int,
        default=10,
        help="interleaved slices each scenario's time is cut into",
    )
    parser.add_argument("--only", default="", help="run only scenarios containing this text")
    parser.add_argument(
        "--agendas", default="1000,5000,10000",
        help="the event-day section's open agendas, comma list (empty: skip the section)",
    )  # fmt: skip
    parser.add_argument(
        "--durable", action="store_true",
        help="commits wait for the disk, as in production (fsync, synchronous_commit and "
        "full_page_writes on; the throwaway cluster has them off by default)",
    )  # fmt: skip
    parser.add_argument(
        "--solver", type=float, default=10.0,
        help="the schedule solver section's limit per event, in seconds (0: skip it)",
    )  # fmt: skip
    parser.add_argument(
        "--solver-long", type=float, default=60.0,
        help="after the call: the longer limit the suggestion and the reference get (seconds)",
    )  # fmt: skip
    parser.add_argument(
        "--solver-runs", type=int, default=3,
        help="after the call: runs per figure (median and spread)",
    )  # fmt: skip
    parser.add_argument(
        "--top", type=int, default=0,
        help="also print each scenario's N statements that took longest in PostgreSQL",
    )  # fmt: skip
    args = parser.parse_args()
    sizes = sorted({int(n) for n in args.sizes.split(",")})

    bindir = pg_cluster.find_bindir()
    if bindir is None:
        sys.exit("make bench needs the PostgreSQL server binaries (initdb, pg_ctl, postgres).")
    extra = {"shared_preload_libraries": "'pg_stat_statements'", "max_connections": "50"}
    if args.durable:
        extra.update(fsync="on", synchronous_commit="on", full_page_writes="on")
    with pg_cluster.cluster(bindir, extra_settings=extra) as cluster:
        db = Database(cluster)
        db.conn.execute("CREATE EXTENSION pg_stat_statements")
        sites: list[Site] = []
        try:
            for size in sizes:
                sites.append(start_site(cluster, size, args.workers))
            # Scenario by scenario, each size in turn: the sizes' figures side by side.
            per_site = {site.size: site_scenarios(cluster, site) for site in sites}
            wanted = {
                name
                for name in per_site[sizes[0]]
                if not args.only or args.only in name or "reference view" in name
            }
            # A staff UI page brings its plain ModelAdmin floor along.
            wanted |= {ADMIN_FLOORS[name] for name in wanted if name in ADMIN_FLOORS}
            names = [name for name in per_site[sizes[0]] if name in wanted]
            plan = {
                label(name, site.size): (site.port, per_site[site.size][name])
                for name in names
                for site in sites
            }
            results = measure(
                db, plan, connections=args.connections, seconds=args.seconds,
                rounds=args.rounds, top=args.top,
            )  # fmt: skip
            for size in sizes:
                print_table(size, {name: results[label(name, size)] for name in names})
                print_admin_floors(size, {name: results[label(name, size)] for name in names})
            if len(sizes) > 1:
                small, large = sizes[0], sizes[-1]
                print(f"\n### p50 at {large:,} over p50 at {small:,}\n")
                print("| scenario | ratio |")
                print("| --- | ---: |")
                for name in names:
                    ratio = statistics.median(
                        results[label(name, large)].latencies
                    ) / statistics.median(results[label(name, small)].latencies)
                    print(f"| {name} | {ratio:.2f} |")
        finally:
            db.conn.close()
            errors = [line for site in sites for line in site.stop()]
            if errors:
                print("\nThe server logged errors:\n" + "\n".join(errors[:20]))
        if args.agendas:
            import bench_eventday

            bench_eventday.event_day(
                cluster,
                agendas=[int(n) for n in args.agendas.split(",")],
                seconds=args.seconds,
                rounds=args.rounds,
            )
    if args.solver:
        import bench_solver

        bench_solver.solver_section(seconds=args.solver)
        bench_solver.after_the_call_section(
            seconds=args.solver, long=args.solver_long, runs=args.solver_runs
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
