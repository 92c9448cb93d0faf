"""`make bench`'s API and staff UI section: every scenario at each size, against the floors.

For each size a database of its own, migrated and seeded with the demo plus that many load
sessions (seed_demo), served by `make serve` as shipped (gunicorn, ASGI workers, production
settings; config.settings.bench adds the in-product reference views and a plain
ModelAdmin) and, beside it, by the floor of a write (benchmarks.floor: a bare Django
project, sync workers, a token SELECT and one UPDATE). Every scenario at every size in
interleaved slices (common.measure); each one's throughput over the floor's.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.common import (
    Database,
    Figures,
    Gunicorn,
    Request,
    admin_cookie,
    floor_server,
    manage,
    measure,
    product_env,
    token,
)

FLOOR = "floor: bare Django project (token SELECT + UPDATE)"


def held_sessions(db: Database) -> list[tuple]:
    """The load events' sessions that hold their slot (id, start, end), in a repeatable
    shuffled order: the writes of every scenario and the floor's go round them alike."""
    held = db.rows(
        "SELECT s.id, s.start_time, s.end_time FROM sessions_app_session s "
        "JOIN sessions_app_event e ON e.id = s.event_id WHERE e.slug LIKE 'load-%%' "
        "AND s.session_status IN ('approved', 'converted', 'live') ORDER BY s.id"
    )
    random.Random(7).shuffle(held)  # noqa: S311 - a repeatable order, not a secret
    return held


def scenarios(db: Database, bearer: str, cookie: str) -> dict[str, Callable[[int], Request]]:
    """The scenarios on the product's server (the floor's is added by ``site_scenarios``)."""
    held = held_sessions(db)
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
        # The floor's two statements as a view inside the product (its middleware and
        # server): what the stack costs before the PATCH's own work.
        "in the product: a view with the floor's two statements": reference("bare"),
        "in the product: the same as a DRF APIView": reference("drf"),
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
    reference = results[FLOOR]
    print(f"\n### {size:,} sessions\n")
    print(
        "| scenario | req/s | p50 ms | p99 ms | statements/req | x floor | "
        "x floor, rounds' median | errors |"
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
    """One size: its database, seeded, the product's server and the floor's."""

    size: int
    server: Gunicorn
    floor: Gunicorn

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def env(self) -> dict:
        return self.server.env

    @property
    def database(self) -> str:
        return database_name(self.size)

    def stop(self) -> list[str]:
        """Stop both servers; the errors they logged."""
        return self.server.stop() + self.floor.stop()


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
    env = product_env(cluster, name, static_root=cluster.root / "static", workers=workers)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    started = time.perf_counter()
    manage(env, "seed_demo", "--sessions", str(size))
    print(f"seed_demo --sessions {size}: {time.perf_counter() - started:.1f} s")
    manage(env, "shell", "-c", COMMITTEE)
    server = Gunicorn(env, cluster.root / f"gunicorn-{size}.log")
    server.start()
    floor = floor_server(cluster, name, log=cluster.root / f"floor-{size}.log", workers=workers)
    return Site(size, server, floor)


def site_scenarios(cluster, site: Site) -> dict[str, tuple[int, Callable[[int], Request]]]:
    """Every scenario of ``site`` with the port that serves it."""
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
        bearer = token(site.port, client)
        held = [row[0] for row in held_sessions(db)]

        def floor(i: int) -> Request:
            return Request(
                "PATCH", f"/floor/sessions/{held[i % len(held)]}",
                b'{"name": "Renamed %d"}' % i, {"Authorization": f"Bearer {bearer}"},
            )  # fmt: skip

        ours = scenarios(db, bearer, admin_cookie(site.port, site.env))
        return {
            FLOOR: (site.floor.port, floor),
            **{name: (site.port, make) for name, make in ours.items()},
        }
    finally:
        db.conn.close()


def section(cluster, *, sizes: list[int], workers: int, only: str, connections: int,
            seconds: float, rounds: int, top: int) -> None:  # fmt: skip
    """Serve every size, measure the scenarios that ``only`` names (and the floor), print."""
    db = Database(cluster)
    sites: list[Site] = []
    try:
        for size in sizes:
            sites.append(start_site(cluster, size, workers))
        # Scenario by scenario, each size in turn: the sizes' figures side by side.
        per_site = {site.size: site_scenarios(cluster, site) for site in sites}
        wanted = {name for name in per_site[sizes[0]] if not only or only in name or name == FLOOR}
        # A staff UI page brings its plain ModelAdmin floor along.
        wanted |= {ADMIN_FLOORS[name] for name in wanted if name in ADMIN_FLOORS}
        names = [name for name in per_site[sizes[0]] if name in wanted]
        plan = {
            label(name, site.size): per_site[site.size][name] for name in names for site in sites
        }
        results = measure(
            db, plan, connections=connections, seconds=seconds, rounds=rounds, top=top
        )
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
