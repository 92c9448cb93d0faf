"""The event-day section of `make bench`: crowds on the public agenda, with production
settings as shipped (`make serve`: gunicorn with 2 ASGI workers) on a throwaway PostgreSQL.

    .venv/bin/python scripts/bench_eventday.py [--agendas 1000,5000,10000] [--seconds 3]

1. Open agendas: for each N, N streams opened as browsers open them (the page's stream URL,
   with its ``last_id``), then one live session renamed through the API. Prints the share
   of streams that saw the change within 2 s and the p99 of when they saw it, the
   database connections the server held (pg_stat_activity), the server's memory per open
   stream (its workers' RSS over the idle RSS), and the API PATCH p50 while they are open
   over its p50 with none open.
2. Pages a crowd hits: the agenda page (a body) and its 304 (the browser has it) in
   requests per second against a static file of the same size from the same server.
3. The registration rush: 500 registrants choose a 150-seat session at once through the
   API (waitlist allowed): selections per second, seats and waitlist places given.

Figures, not assertions. The load comes from this process (asyncio) and shares the machine
with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bench
import pg_cluster
from bench import ROOT, Database, Request, free_port, http, manage

MARK = b"Event-day change"


# --- the server -------------------------------------------------------------------------------


class Server:
    def __init__(self, cluster, name: str, extra_env: dict[str, str] | None = None) -> None:
        self.cluster = cluster
        self.name = name
        self.static_root = cluster.root / f"static-{name}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.bench",
            "DJANGO_SECRET_KEY": bench.SECRET,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_STATIC_ROOT": str(self.static_root),
            "DJANGO_API_RATE_LIMIT_REQUESTS": str(10**9),
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": cluster.url.replace("/postgres?", f"/{name}?"),
            "WEB_CONCURRENCY": "2",
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.log = cluster.root / f"serve-{name}.log"

    @property
    def port(self) -> int:
        return int(self.env["PORT"])

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(  # noqa: S603
                [str(Path(bench.PYTHON).parent / "gunicorn"), "-c", "config/gunicorn.conf.py"],
                cwd=ROOT, env=self.env, start_new_session=True, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        for _ in range(300):
            with contextlib.suppress(OSError):
                if http(self.port, "GET", "/healthz")[0] == 200:
                    return
            time.sleep(0.1)
        sys.exit(f"the server did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
            self.process = None

    def workers(self) -> list[int]:
        """The pids of the arbiter's worker processes."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def rss(self) -> int:
        """The workers' resident memory, in bytes."""
        total = 0
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
        return total


def connections(db: Database, name: str) -> int:
    [(count,)] = db.rows(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    return int(count)


# --- open agendas -----------------------------------------------------------------------------


class Agenda(asyncio.Protocol):
    """One open agenda: the stream's bytes, and when the change arrived."""

    def __init__(self, request: bytes, opened: asyncio.Future, mark: bytes) -> None:
        self.request = request
        self.mark = mark
        self.opened = opened
        self.head = b""
        self.status = 0
        self.tail = b""
        self.seen_at: float | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.status:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, _, data = self.head.partition(b"\r\n\r\n")
            self.status = int(head[9:12])
            if not self.opened.done():
                self.opened.set_result(self.status)
        if self.seen_at is None:
            self.tail = (self.tail + data)[-4096:]
            if self.mark in self.tail:
                self.seen_at = time.perf_counter()

    def connection_lost(self, exc) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_result(0)


async def open_agendas(port: int, path: str, count: int, mark: bytes) -> tuple[list[Agenda], int]:
    loop = asyncio.get_running_loop()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
        "X-Forwarded-Proto: https\r\n\r\n"
    ).encode()
    agendas: list[Agenda] = []
    refused = 0
    batch = 250  # as a crowd arrives: a few hundred at a time, not all in one instant
    for start in range(0, count, batch):
        futures = []
        for _ in range(min(batch, count - start)):
            opened = loop.create_future()
            agenda = Agenda(request, opened, mark)
            futures.append(opened)
            try:
                await loop.create_connection(lambda a=agenda: a, "127.0.0.1", port)
            except OSError:
                refused += 1
                continue
            agendas.append(agenda)
        for status in await asyncio.gather(*futures):
            refused += status != 200
    return [a for a in agendas if a.status == 200 and not a.closed], refused


async def patch_latencies(port: int, bearer: str, session_id: int, count: int) -> list[float]:
    """``count`` PATCHes of a session the agenda does not show, one after the other."""
    latencies = []
    for n in range(count):
        request = Request(
            "PATCH",
            f"/api/v1/sessions/{session_id}",
            json.dumps({"description": f"Note {time.time()} {n}"}).encode(),
            {"Authorization": f"Bearer {bearer}"},
        )
        started = time.perf_counter()
        status = await bench._one(port, bench._raw(request, port))
        latencies.append(time.perf_counter() - started)
        assert status == 200, status
    return latencies


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]


async def open_agendas_round(server: Server, db: Database, fixtures: dict, count: int) -> dict:
    port = server.port
    idle_rss = server.rss()
    name = MARK.decode() + f" {count} {time.time()}"
    agendas, refused = await open_agendas(port, fixtures["stream_path"], count, name.encode())
    await asyncio.sleep(2)  # settle: every stream is in its process's hub
    open_rss = server.rss()
    held = connections(db, server.name)
    patches = await patch_latencies(port, fixtures["bearer"], fixtures["quiet_id"], 30)
    request = Request(
        "PATCH",
        f"/api/v1/sessions/{fixtures['live_id']}",
        json.dumps({"name": name}).encode(),
        {"Authorization": f"Bearer {fixtures['bearer']}"},
    )
    sent_at = time.perf_counter()
    status = await bench._one(port, bench._raw(request, port))
    assert status == 200, status
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and any(a.seen_at is None for a in agendas):
        await asyncio.sleep(0.05)
    held = max(held, connections(db, server.name))
    delays = [a.seen_at - sent_at for a in agendas if a.seen_at is not None]
    for agenda in agendas:
        if agenda.transport is not None:
            agenda.transport.close()
    await asyncio.sleep(1)
    return {
        "asked": count,
        "open": len(agendas),
        "refused": refused,
        "within_2s": sum(d <= 2 for d in delays) / count,
        "p99": p(delays, 0.99) if len(delays) == count else None,
        "connections": held,
        "per_stream_kb": (open_rss - idle_rss) / max(len(agendas), 1) / 1024,
        "patch_p50": statistics.median(patches),
    }


# --- pages and the rush -----------------------------------------------------------------------


def page_rates(server: Server, seconds: float, rounds: int) -> dict:
    page = "/agenda/demo/demo-conf/"
    status, headers, _ = http(server.port, "GET", page)
    assert status == 200, status
    etag = headers["ETag"]
    plan = {
        "static file of the same size": (
            server.port,
            lambda i: Request("GET", "/static/bench/agenda-size.html"),
        ),
        "agenda page": (server.port, lambda i: Request("GET", page)),
        "agenda page, 304": (
            server.port,
            lambda i: Request("GET", page, headers={"If-None-Match": etag}),
        ),
    }
    db = Database(server.cluster, server.name)
    try:
        results = bench.measure(db, plan, connections=8, seconds=seconds, rounds=rounds)
    finally:
        db.conn.close()
    static = results["static file of the same size"]
    return {name: (figures, figures.times(static)) for name, figures in results.items()}


async def rush(server: Server, fixtures: dict, people: int = 500, seats: int = 150) -> dict:
    auth = {"Authorization": f"Bearer {fixtures['bearer']}"}
    port = server.port
    ids = []
    for n in range(people):
        body = json.dumps(
            {
                "event_id": fixtures["event_id"],
                "first_name": "Rush",
                "last_name": f"{n}",
                "email": f"rush-{time.time_ns()}-{n}@example.org",
            }
        ).encode()
        status, _, answer = await asyncio.to_thread(
            http, port, "POST", "/api/v1/registrants", body,
            {**auth, "Content-Type": "application/json"},
        )  # fmt: skip
        assert status == 201, answer
        ids.append(json.loads(answer)["id"])
    body = json.dumps({"session_id": fixtures["rush_id"], "waitlist": 1}).encode()

    async def choose(registrant_id: int) -> int:
        return await bench._one(
            port,
            bench._raw(
                Request("POST", f"/api/v1/registrants/{registrant_id}/sessions", body, auth),
                port,
            ),
        )

    started = time.perf_counter()
    statuses = await asyncio.gather(*(choose(i) for i in ids))
    took = time.perf_counter() - started
    status, _, answer = http(port, "GET", f"/api/v1/sessions/{fixtures['rush_id']}", b"", auth)
    session = json.loads(answer)
    return {
        "people": people,
        "seats": seats,
        "per_second": people / took,
        "seconds": took,
        "errors": sum(s >= 400 for s in statuses),
        "seats_taken": session["seats_taken"],
        "waitlist": session["waitlist_count"],
    }


# --- set-up -----------------------------------------------------------------------------------


def prepare(cluster, name: str) -> tuple[Server, dict]:
    with Database(cluster).conn as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with Database(cluster, name).conn as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
    server = Server(cluster, name)
    manage(server.env, "migrate", "--noinput")
    manage(server.env, "seed_demo")
    client = json.loads(
        manage(
            server.env, "create_api_client", "--organisation", "demo", "--name", "event-day",
            "--scopes", "sessions:read sessions:write registrants:read registrants:write",
        )
    )  # fmt: skip
    db = Database(cluster, name)
    try:
        [(event_id,)] = db.rows("SELECT id FROM sessions_app_event WHERE slug = 'demo-conf'")
        live = db.rows(
            "SELECT id FROM sessions_app_session WHERE event_id = %s AND session_status = 'live' "
            "ORDER BY id",
            (event_id,),
        )
        [(quiet_id,)] = db.rows(
            "SELECT id FROM sessions_app_session WHERE event_id = %s AND "
            "session_status = 'submitted' ORDER BY id LIMIT 1",
            (event_id,),
        )
        # The rush's session: 150 seats, nothing else chosen at its time.
        rush_id = live[-1][0]
        db.conn.execute(
            "UPDATE sessions_app_session SET capacity = 150, seats_taken = 0, "
            "waitlist_count = 0 WHERE id = %s",
            (rush_id,),
        )
        db.conn.execute("DELETE FROM sessions_app_selection WHERE session_id = %s", (rush_id,))
    finally:
        db.conn.close()
    # A static file of the agenda page's size, served by the same server (WhiteNoise reads
    # the static files as it starts, so the size is learnt from a first start).
    manage(server.env, "collectstatic", "--noinput")
    server.start()
    _, _, page = http(server.port, "GET", "/agenda/demo/demo-conf/")
    token = bench.token(server.port, client)
    server.stop()
    static = server.static_root / "bench" / "agenda-size.html"
    static.parent.mkdir(parents=True, exist_ok=True)
    static.write_bytes(b"x" * len(page))
    server.start()
    stream_path = re.search(rb'data-stream-url="([^"]+)"', page).group(1).decode()
    return server, {
        "event_id": event_id,
        "live_id": live[0][0],
        "quiet_id": quiet_id,
        "rush_id": rush_id,
        "bearer": token,
        "stream_path": stream_path.replace("&amp;", "&"),
        "page_bytes": len(page),
    }


def event_day(cluster, *, agendas: list[int], seconds: float, rounds: int) -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server, fixtures = prepare(cluster, "bench_eventday")
    db = Database(cluster)
    try:
        print("\n## Event day: open agendas (make serve: 2 ASGI workers, PostgreSQL)\n")
        baseline = asyncio.run(
            patch_latencies(server.port, fixtures["bearer"], fixtures["quiet_id"], 30)
        )
        base_p50 = statistics.median(baseline)
        print(f"API PATCH p50 with no agenda open: {base_p50 * 1000:.1f} ms\n")
        print(
            "| open agendas | open | refused | saw the change within 2 s | p99 | "
            "DB connections (2 workers) | memory per open stream | PATCH p50 while open |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for count in agendas:
            r = asyncio.run(open_agendas_round(server, db, fixtures, count))
            p99 = f"{r['p99']:.2f} s" if r["p99"] is not None else "-"
            print(
                f"| {count:,} | {r['open']:,} | {r['refused']:,} | {r['within_2s']:.1%} | {p99} "
                f"| {r['connections']} | {r['per_stream_kb']:.1f} KB | "
                f"{r['patch_p50'] * 1000:.1f} ms ({r['patch_p50'] / base_p50:.2f}x) |"
            )
        print(f"\n## Event day: pages a crowd hits (agenda page {fixtures['page_bytes']:,} B)\n")
        print("| request | req/s | p50 ms | over the static file |")
        print("| --- | ---: | ---: | ---: |")
        for name, (figures, ratio) in page_rates(server, seconds, rounds).items():
            print(f"| {name} | {figures.rps:,.0f} | {figures.percentile(0.5):.1f} | {ratio:.2f}x |")
        r = asyncio.run(rush(server, fixtures))
        print("\n## Event day: the registration rush\n")
        print(
            f"{r['people']} registrants choose a {r['seats']}-seat session at once (API, "
            f"waitlist allowed): {r['per_second']:.0f} selections/s ({r['seconds']:.1f} s), "
            f"{r['seats_taken']} seats and {r['waitlist']} waitlist places given, "
            f"{r['errors']} errors"
        )
    finally:
        db.conn.close()
        server.stop()
        errors = [
            line
            for line in server.log.read_text().splitlines()
            if '"level": "ERROR"' in line or "Traceback" in line
        ]
        if errors:
            print("\nThe server logged errors:\n" + "\n".join(errors[:20]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agendas", default="1000,5000,10000", help="open agendas, comma list")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured time per page")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved slices per page")
    args = parser.parse_args()
    bindir = pg_cluster.find_bindir()
    if bindir is None:
        sys.exit("the event-day bench needs the PostgreSQL server binaries.")
    extra = {"shared_preload_libraries": "'pg_stat_statements'", "max_connections": "50"}
    with pg_cluster.cluster(bindir, extra_settings=extra) as cluster:
        Database(cluster).conn.execute("CREATE EXTENSION pg_stat_statements")
        event_day(
            cluster,
            agendas=[int(n) for n in args.agendas.split(",")],
            seconds=args.seconds,
            rounds=args.rounds,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
