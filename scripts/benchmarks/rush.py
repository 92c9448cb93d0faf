"""`make bench`'s attendee section: what attendees write, and the registration rush, with
`make serve` as shipped (gunicorn, 2 ASGI workers, production settings) on the bench's
PostgreSQL, every side effect fed (seat rules, history, webhook outbox, messages, the live
agenda's version).

1. The writes, each against the floor of a write (benchmarks.floor: a bare Django project,
   a token SELECT and one UPDATE) in interleaved slices from 8 connections: registrant
   create (API), choosing a seat in one session everybody chooses and in sessions spread
   over many, giving one up (API), the registrant's own page choosing a session and giving
   it up (a form post with the page's key), and the session PATCH.
2. The rush: N registrants, created beforehand, choose one 150-seat session (waitlist on) at
   once from 64 connections, for each N of ``--rush`` (1,000 and 5,000); then N choose one
   of 500 sessions of 150 seats. Selections per second, p50 and p99, and the seats and
   waitlist places given against what they must be.

Figures, not assertions. The load comes from this process (asyncio) and shares the machine
with the server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable

from benchmarks.common import (
    Database,
    Figures,
    Gunicorn,
    Request,
    crowd,
    floor_server,
    http,
    manage,
    measure,
    p,
    product_env,
    token,
)

FLOOR = "floor: bare Django project (token SELECT + UPDATE)"
SPREAD = 500  # sessions the spread scenarios choose among
SEATS = 150  # the rush's sessions
# Registrants for the writes, half of them holding a seat to start with: enough for every
# choosing and giving-up slice at several hundred requests a second.
WRITERS = 12_000

# The bench's own event in the demo organisation: live sessions of 150 seats (one for the
# rush at each size, SPREAD for the spread rush and the spread writes) and one big session
# for the writes that choose the same one, through the services; the registrants who choose
# written in bulk (valid rows, as an import writes them; the event seats nobody by default).
SET_UP = """
import datetime as dt, json
from sessions_app import services
from sessions_app.enums import SessionStatus
from sessions_app.models import *
from django.contrib.auth import get_user_model
org = Organisation.objects.get(slug="demo")
actor = services.Actor(user=get_user_model().objects.get(username="admin"))
start = dt.date.today() + dt.timedelta(days=30)
event = Event.objects.create(organisation=org, name="Bench rush", slug="bench-rush",
    timezone="Europe/Berlin", start_date=start, end_date=start + dt.timedelta(days=1))
def live(name, capacity, minute):
    room = Location.objects.create(event=event, name=f"Room {name}", capacity=capacity)
    begin = dt.time(8 + minute // 60, minute % 60)
    session = services.session_create(event=event, actor=actor, data={
        "name": name, "location_id": room.pk, "capacity": capacity, "date": start,
        "start_time": begin,
        "end_time": (dt.datetime.combine(start, begin) + dt.timedelta(minutes=5)).time()})
    for status in (SessionStatus.APPROVED, SessionStatus.LIVE):
        services.session_set_status(session_id=session.pk, status=status, actor=actor)
    return session.pk
out = {"event_id": event.pk,
       "hot": live("Everybody's choice", 1_000_000, 0),
       "rush": [live(f"Rush {n}", SEATS, 10 + n) for n in range(len(PLAN["rush"]))],
       "spread": [live(f"Spread {n}", SEATS, 20 + n) for n in range(SPREAD)]}
people = iter(range(10**9))
def registrants(count):
    made = Registrant.objects.bulk_create(
        Registrant(event=event, first_name="Bench", last_name=str(n),
                   email=f"bench-{n}@example.org")
        for n in (next(people) for _ in range(count)))
    return [[r.pk, r.get_selection_path()] for r in made]
out["writers"] = registrants(PLAN["writers"])
# Every other writer already holds a seat in one of the spread sessions: the giving-up
# scenarios start with people to give up.
out["holding"] = []
for n, (pk, _) in enumerate(out["writers"][1::2]):
    session_id = out["spread"][n % SPREAD]
    services.selection_add(registrant_id=pk, session_id=session_id, actor=actor)
    out["holding"].append(session_id)
out["rushers"] = [registrants(n) for n in PLAN["rush"]]
out["spreaders"] = registrants(PLAN["spread"])
print(json.dumps(out))
"""


def prepare(
    cluster, name: str, *, rush: list[int], writers: int
) -> tuple[Gunicorn, Gunicorn, dict]:
    with Database(cluster).conn as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with Database(cluster, name).conn as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
    env = product_env(cluster, name, static_root=cluster.root / f"static-{name}")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    manage(env, "seed_demo")
    client = json.loads(
        manage(
            env, "create_api_client", "--organisation", "demo", "--name", "attendees",
            "--scopes", "sessions:read sessions:write registrants:read registrants:write",
        )
    )  # fmt: skip
    plan = {"rush": rush, "writers": writers, "spread": max(rush)}
    started = time.perf_counter()
    script = f"PLAN = {plan!r}\nSEATS = {SEATS}\nSPREAD = {SPREAD}\n" + SET_UP
    fixtures = json.loads(manage(env, "shell", "-c", script).strip().splitlines()[-1])
    print(
        f"set-up: {SPREAD + len(rush) + 1} live sessions through the services, "
        f"{sum(rush) + writers + max(rush):,} registrants in bulk, "
        f"{time.perf_counter() - started:.0f} s"
    )
    with Database(cluster, name).conn as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    server = Gunicorn(env, cluster.root / f"serve-{name}.log")
    server.start()
    floor = floor_server(cluster, name, log=cluster.root / f"floor-{name}.log")
    fixtures["bearer"] = token(server.port, client)
    fixtures["page_form"] = page_form(server.port, fixtures["writers"][0])
    # One post of the page's form as the scenarios send it: saved (a redirect), not refused.
    probe = page_post(server.port, fixtures["page_form"], fixtures["writers"][0], "shown=0")
    status, _, body = http(server.port, probe.method, probe.path, probe.body, probe.headers)
    assert status == 302, (status, body[:500])
    return server, floor, fixtures


def page_path(registrant: list) -> str:
    return registrant[1]


def page_form(port: int, registrant: list) -> dict[str, str]:
    """The CSRF cookie and token a registrant's page gives its form (any page's pair is
    good for every page: Django's CSRF token is not tied to a person)."""
    status, headers, body = http(port, "GET", page_path(registrant))
    assert status == 200, status
    cookie = next(c for c in headers.get_all("Set-Cookie") if c.startswith("csrftoken="))
    value = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)[1].decode()
    return {"cookie": cookie.split(";")[0], "token": value}


def page_post(port: int, form: dict[str, str], registrant: list, fields: str) -> Request:
    """The registrant's page's form posted, as the browser posts it."""
    origin = f"https://127.0.0.1:{port}"
    body = f"csrfmiddlewaretoken={form['token']}&{fields}".encode()
    headers = {
        "Cookie": form["cookie"],
        "Origin": origin,
        "Referer": origin + page_path(registrant),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return Request("POST", page_path(registrant), body, headers)


# --- the writes -------------------------------------------------------------------------------


class Turns:
    """Registrants who hold nothing (``free``) and who hold a seat (``holding``): a choosing
    scenario takes the next free one, a giving-up scenario the oldest holder, so every
    request is a real change and none waits on another for the same registrant."""

    def __init__(self, free: list[list], holding: list[tuple[list, int]]) -> None:
        self.free = list(free)
        self.holding = list(holding)

    def choose(self, session_id: int) -> list:
        if not self.free:
            raise SystemExit("the bench ran out of registrants to choose: raise WRITERS")
        registrant = self.free.pop(0)
        self.holding.append((registrant, session_id))
        return registrant

    def give_up(self) -> tuple[list, int]:
        if not self.holding:
            raise SystemExit("the bench ran out of registrants to give up: raise WRITERS")
        registrant, session_id = self.holding.pop(0)
        self.free.append(registrant)
        return registrant, session_id


def writes(fixtures: dict, port: int) -> dict[str, Callable[[int], Request]]:
    auth = {"Authorization": f"Bearer {fixtures['bearer']}"}
    writers = fixtures["writers"]
    free = writers[0::2]
    holding = list(zip(writers[1::2], fixtures["holding"], strict=True))
    api = Turns(free[: len(free) // 2], holding[: len(holding) // 2])
    page = Turns(free[len(free) // 2 :], holding[len(holding) // 2 :])
    hot, spread = fixtures["hot"], fixtures["spread"]
    counter = itertools.count()
    form = fixtures["page_form"]

    def create(i: int) -> Request:
        body = {
            "event_id": fixtures["event_id"],
            "first_name": "Write",
            "last_name": str(i),
            "email": f"write-{time.time_ns()}-{i}@example.org",
        }
        return Request("POST", "/api/v1/registrants", json.dumps(body).encode(), auth)

    def choose(session_id: Callable[[], int]):
        def make(i: int) -> Request:
            chosen = session_id()
            registrant = api.choose(chosen)
            body = json.dumps({"session_id": chosen, "waitlist": 1}).encode()
            return Request("POST", f"/api/v1/registrants/{registrant[0]}/sessions", body, auth)

        return make

    def give_up(i: int) -> Request:
        registrant, session_id = api.give_up()
        return Request(
            "DELETE", f"/api/v1/registrants/{registrant[0]}/sessions/{session_id}", headers=auth
        )

    def page_choose(i: int) -> Request:
        chosen = spread[next(counter) % len(spread)]
        return page_post(port, form, page.choose(chosen), f"shown={chosen}&session={chosen}")

    def page_give_up(i: int) -> Request:
        registrant, session_id = page.give_up()
        return page_post(port, form, registrant, f"shown={session_id}")

    spread_ids = itertools.cycle(spread)
    return {
        "registrant create (API)": create,
        "choose a seat, the session everybody chooses (API)": choose(lambda: hot),
        "choose a seat, 500 sessions (API)": choose(lambda: next(spread_ids)),
        "give a seat up (API)": give_up,
        "registrant's page: choose a session": page_choose,
        "registrant's page: give it up": page_give_up,
    }


def patch(fixtures: dict) -> Callable[[int], Request]:
    auth = {"Authorization": f"Bearer {fixtures['bearer']}"}
    spread = fixtures["spread"]
    return lambda i: Request(
        "PATCH", f"/api/v1/sessions/{spread[i % len(spread)]}", b'{"name": "Renamed %d"}' % i, auth
    )


def floor_write(fixtures: dict) -> Callable[[int], Request]:
    auth = {"Authorization": f"Bearer {fixtures['bearer']}"}
    spread = fixtures["spread"]
    return lambda i: Request(
        "PATCH", f"/floor/sessions/{spread[i % len(spread)]}", b'{"name": "Renamed %d"}' % i, auth
    )


# --- the import ------------------------------------------------------------------------------

# A CSV of registrants as the worker imports it (the organiser's upload queues the rows; the
# background worker runs the job): queued, then run in this process, timed.
IMPORT = """
import json, time
from django.contrib.auth import get_user_model
from sessions_app.enums import ImportKind
from sessions_app.models import Event
from sessions_app.transfer import imports
event = Event.objects.get(slug="bench-rush")
rows = [{"first_name": "Imported", "last_name": str(n), "email": f"imported-{n}@example.org"}
        for n in range(ROWS)]
job = imports.queue_import(kind=ImportKind.REGISTRANTS, event=event, rows=rows,
                           user=get_user_model().objects.get(username="admin"))
started = time.perf_counter()
imports.run_import_job(job.pk)
took = time.perf_counter() - started
job.refresh_from_db()
print(json.dumps({"seconds": took, "state": job.state, "report": job.report}))
"""


def import_rate(env: dict, rows: int) -> dict:
    return json.loads(manage(env, "shell", "-c", f"ROWS = {rows}\n" + IMPORT).splitlines()[-1])


# --- the rush ---------------------------------------------------------------------------------


async def rush(port: int, bearer: str, choices: list[tuple[int, int]], connections: int) -> dict:
    """Every (registrant, session) of ``choices`` chosen through the API at once, from
    ``connections`` connections."""
    auth = {"Authorization": f"Bearer {bearer}"}
    queue = list(reversed(choices))

    def next_request() -> Request | None:
        if not queue:
            return None
        registrant_id, session_id = queue.pop()
        body = json.dumps({"session_id": session_id, "waitlist": 1}).encode()
        return Request("POST", f"/api/v1/registrants/{registrant_id}/sessions", body, auth)

    latencies, statuses, took = await crowd(port, next_request, connections)
    return {"took": took, "latencies": latencies, "statuses": statuses}


def counts(db: Database, session_ids: list[int]) -> tuple[int, int, int, int]:
    """Seats and waitlist places: as the sessions' counters say, and as the rows are."""
    [(seats, waiting)] = db.rows(
        "SELECT COALESCE(SUM(seats_taken), 0), COALESCE(SUM(waitlist_count), 0) "
        "FROM sessions_app_session WHERE id = ANY(%s)",
        (session_ids,),
    )
    [(seated, waitlisted)] = db.rows(
        "SELECT COUNT(*) FILTER (WHERE state = 'selected'), "
        "COUNT(*) FILTER (WHERE state = 'waitlisted') FROM sessions_app_selection "
        "WHERE session_id = ANY(%s)",
        (session_ids,),
    )
    return int(seats), int(waiting), int(seated), int(waitlisted)


def errors(statuses: dict[int, int]) -> str:
    """The answers of 400 and over, by status: "0", or e.g. "12 (403: 12)"."""
    bad = {status: n for status, n in sorted(statuses.items()) if status >= 400}
    if not bad:
        return "0"
    return f"{sum(bad.values())} ({', '.join(f'{s}: {n}' for s, n in bad.items())})"


def print_rush(label: str, people: int, sessions: list[int], before, result, db) -> None:
    """One rush's line. Exact: the sessions' counters agree with the rows, every registrant
    got a seat or a waitlist place, and no session has anyone waiting while it has a free
    seat (for one session: min(people, 150) seats, the rest waiting)."""
    after = counts(db, sessions)
    seats, waiting, seated, waitlisted = (a - b for a, b in zip(after, before, strict=True))
    [(waiting_beside_a_seat,)] = db.rows(
        "SELECT COUNT(*) FROM sessions_app_session WHERE id = ANY(%s) AND waitlist_count > 0 "
        "AND seats_taken < capacity",
        (sessions,),
    )
    exact = (
        after[0] == after[2]
        and after[1] == after[3]
        and (seats, waiting) == (seated, waitlisted)
        and seats + waiting == people
        and waiting_beside_a_seat == 0
        and (len(sessions) > 1 or seats == min(people, SEATS))
    )
    lat = result["latencies"]
    print(
        f"| {label} | {people:,} | {people / result['took']:,.0f} | {p(lat, 0.5) * 1000:,.0f} | "
        f"{p(lat, 0.99) * 1000:,.0f} | {seats:,} | {waiting:,} | {'yes' if exact else 'NO'} | "
        f"{errors(result['statuses'])} |"
    )


def section(cluster, *, rush_sizes: list[int], seconds: float, rounds: int) -> None:
    server, floor, fixtures = prepare(cluster, "bench_rush", rush=rush_sizes, writers=WRITERS)
    db = Database(cluster, "bench_rush")
    try:
        print("\n## Attendees' writes against the floor (make serve as shipped, 8 connections)\n")
        plan = {
            FLOOR: (floor.port, floor_write(fixtures)),
            "PATCH /sessions/{id} (rename)": (server.port, patch(fixtures)),
            **{name: (server.port, make) for name, make in writes(fixtures, server.port).items()},
        }
        results: dict[str, Figures] = measure(
            db, plan, connections=8, seconds=seconds, rounds=rounds
        )
        base = results[FLOOR]
        print("| write | req/s | p50 ms | p99 ms | statements | x floor | errors |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, f in results.items():
            print(
                f"| {name} | {f.rps:,.0f} | {f.percentile(0.5):.1f} | {f.percentile(0.99):.1f} | "
                f"{f.statements:.1f} | {f.times(base):.2f}x | {errors(f.statuses)} |"
            )
        print("\n## The registration rush (64 connections, waitlist on)\n")
        print(
            "| rush | registrants | selections/s | p50 ms | p99 ms | seats | waitlist | "
            "exact | errors |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
        for people, session_id, rushers in zip(
            rush_sizes, fixtures["rush"], fixtures["rushers"], strict=True
        ):
            choices = [(pk, session_id) for pk, _ in rushers]
            before = counts(db, [session_id])
            result = asyncio.run(rush(server.port, fixtures["bearer"], choices, 64))
            print_rush(f"one {SEATS}-seat session", people, [session_id], before, result, db)
        spread = fixtures["spread"]
        choices = [(pk, spread[n % len(spread)]) for n, (pk, _) in enumerate(fixtures["spreaders"])]
        before = counts(db, spread)
        result = asyncio.run(rush(server.port, fixtures["bearer"], choices, 64))
        print_rush(f"{len(spread)} sessions of {SEATS}", len(choices), spread, before, result, db)
        rows = 5000
        done = import_rate(server.env, rows)
        print(
            f"\n## Registrant import\n\n{rows:,} rows of a CSV imported by the worker's job: "
            f"{rows / done['seconds']:,.0f} rows/s ({done['seconds']:.1f} s), {done['state']}, "
            f"{done['report']['created']:,} created, {len(done['report']['refused'])} refused"
        )
    finally:
        db.conn.close()
        logged = server.stop() + floor.stop()
        if logged:
            print("\nThe server logged errors:\n" + "\n".join(logged[:20]))
