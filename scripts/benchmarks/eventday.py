"""`make bench`'s event-day section: crowds on the public agenda, with `make serve` as shipped
(gunicorn, 2 ASGI workers, production settings) on the bench's PostgreSQL and the demo.

1. Open agendas: for each N, N streams opened as browsers open them (the page's stream URL,
   with its ``last_id``), then one live session renamed through the API. Prints the share
   of streams that saw the change within 2 s and the p99 of when they saw it, the
   database connections the server held (pg_stat_activity), the server's memory per open
   stream (its workers' RSS over the idle RSS), and the API PATCH p50 while they are open
   over its p50 with none open.
2. Pages a crowd hits: the agenda page (a body) and its 304 (the browser has it), the
   agenda's stylesheet (a hashed static file) and a static file of the page's size, in
   requests per second against the floor: a bare ASGI application answering the page's
   bytes (benchmarks.floor.page) on the same kind of server.

Figures, not assertions. The load comes from this process (asyncio) and shares the machine
with the server.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from pathlib import Path

from benchmarks.common import (
    Database,
    Gunicorn,
    Request,
    encode,
    http,
    manage,
    measure,
    one,
    p,
    page_floor_server,
    product_env,
    token,
)

MARK = b"Event-day change"


# --- the server -------------------------------------------------------------------------------


def product_server(cluster, name: str) -> Gunicorn:
    """`make serve` as shipped on database ``name`` (not started)."""
    env = product_env(cluster, name, static_root=cluster.root / f"static-{name}")
    return Gunicorn(env, cluster.root / f"serve-{name}.log")


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
        status = await one(port, encode(request, port))
        latencies.append(time.perf_counter() - started)
        assert status == 200, status
    return latencies


async def open_agendas_round(server: Gunicorn, db: Database, fixtures: dict, count: int) -> dict:
    port = server.port
    idle_rss = server.rss()
    name = MARK.decode() + f" {count} {time.time()}"
    agendas, refused = await open_agendas(port, fixtures["stream_path"], count, name.encode())
    await asyncio.sleep(2)  # settle: every stream is in its process's hub
    open_rss = server.rss()
    held = connections(db, fixtures["database"])
    patches = await patch_latencies(port, fixtures["bearer"], fixtures["quiet_id"], 30)
    request = Request(
        "PATCH",
        f"/api/v1/sessions/{fixtures['live_id']}",
        json.dumps({"name": name}).encode(),
        {"Authorization": f"Bearer {fixtures['bearer']}"},
    )
    sent_at = time.perf_counter()
    status = await one(port, encode(request, port))
    assert status == 200, status
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and any(a.seen_at is None for a in agendas):
        await asyncio.sleep(0.05)
    held = max(held, connections(db, fixtures["database"]))
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


# --- pages -----------------------------------------------------------------------------------

FLOOR = "floor: bare ASGI app, the page's bytes"


def page_rates(server: Gunicorn, floor: Gunicorn, fixtures: dict, seconds: float, rounds: int):
    """Each page's figures and its throughput over the floor's; the stylesheet's over the
    agenda page's."""
    page = "/agenda/demo/demo-conf/"
    status, headers, _ = http(server.port, "GET", page)
    assert status == 200, status
    etag = headers["ETag"]
    plan = {
        FLOOR: (floor.port, lambda i: Request("GET", "/")),
        "agenda page": (server.port, lambda i: Request("GET", page)),
        "agenda page, 304": (
            server.port,
            lambda i: Request("GET", page, headers={"If-None-Match": etag}),
        ),
        "the agenda's stylesheet (hashed, compressed)": (
            server.port,
            lambda i: Request(
                "GET", fixtures["stylesheet"], headers={"Accept-Encoding": "gzip, br"}
            ),
        ),
        "a static file of the page's size": (
            server.port,
            lambda i: Request("GET", "/static/bench/agenda-size.html"),
        ),
    }
    db = Database(fixtures["cluster"])
    try:
        results = measure(db, plan, connections=8, seconds=seconds, rounds=rounds)
    finally:
        db.conn.close()
    return results


# --- set-up -----------------------------------------------------------------------------------


def prepare(cluster, name: str) -> tuple[Gunicorn, Gunicorn, dict]:
    """The demo on database ``name``, served as shipped; the page floor beside it."""
    with Database(cluster).conn as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with Database(cluster, name).conn as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
    server = product_server(cluster, name)
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
    finally:
        db.conn.close()
    # A static file of the agenda page's size, served by the same server (the static files
    # are read as it starts, so the size is learnt from a first start).
    static_root = Path(server.env["DJANGO_STATIC_ROOT"])
    manage(server.env, "collectstatic", "--noinput")
    server.start()
    _, _, page = http(server.port, "GET", "/agenda/demo/demo-conf/")
    bearer = token(server.port, client)
    server.stop()
    static = static_root / "bench" / "agenda-size.html"
    static.parent.mkdir(parents=True, exist_ok=True)
    static.write_bytes(b"x" * len(page))
    server.start()
    copy = cluster.root / "agenda-page.html"
    copy.write_bytes(page)
    floor = page_floor_server(copy, log=cluster.root / "page-floor.log")
    stream_path = re.search(rb'data-stream-url="([^"]+)"', page).group(1).decode()
    stylesheet = re.search(rb'<link rel="stylesheet" href="(/static/[^"]+)"', page).group(1)
    return (
        server,
        floor,
        {
            "cluster": cluster,
            "database": name,
            "event_id": event_id,
            "live_id": live[0][0],
            "quiet_id": quiet_id,
            "bearer": bearer,
            "stream_path": stream_path.replace("&amp;", "&"),
            "stylesheet": stylesheet.decode(),
            "page_bytes": len(page),
        },
    )


def section(cluster, *, agendas: list[int], seconds: float, rounds: int) -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server, floor, fixtures = prepare(cluster, "bench_eventday")
    db = Database(cluster)
    errors: list[str] = []
    try:
        if agendas:
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
                    f"| {count:,} | {r['open']:,} | {r['refused']:,} | {r['within_2s']:.1%} "
                    f"| {p99} | {r['connections']} | {r['per_stream_kb']:.1f} KB | "
                    f"{r['patch_p50'] * 1000:.1f} ms ({r['patch_p50'] / base_p50:.2f}x) |"
                )
        print(f"\n## Event day: pages a crowd hits (agenda page {fixtures['page_bytes']:,} B)\n")
        results = page_rates(server, floor, fixtures, seconds, rounds)
        base, page = results[FLOOR], results["agenda page"]
        print("| request | req/s | p50 ms | x floor | x agenda page |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, figures in results.items():
            print(
                f"| {name} | {figures.rps:,.0f} | {figures.percentile(0.5):.1f} | "
                f"{figures.times(base):.2f}x | {figures.times(page):.2f}x |"
            )
    finally:
        db.conn.close()
        errors = server.stop() + floor.stop()
        if errors:
            print("\nThe server logged errors:\n" + "\n".join(errors[:20]))
