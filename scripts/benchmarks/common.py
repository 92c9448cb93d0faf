"""What every section of `make bench` shares: the load generator, the database's statement
counts, the server's set-up and the figures."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
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

ROOT = Path(__file__).resolve().parents[2]
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


async def one(port: int, raw: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = await reader.read()
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return int(data[9:12])


def encode(request: Request, port: int) -> bytes:
    headers = {
        "Host": f"127.0.0.1:{port}",
        "X-Forwarded-Proto": "https",  # as behind the load balancer that terminates TLS
        "Connection": "close",
        **(request.headers or {}),
    }
    if request.body:
        headers.setdefault("Content-Type", "application/json")
        headers["Content-Length"] = str(len(request.body))
    head = f"{request.method} {request.path} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    return head.encode() + b"\r\n" + request.body


_COUNTER = itertools.count()


async def crowd(port: int, next_request: Callable[[], Request | None], connections: int):
    """``connections`` connections sending ``next_request()`` one after the other until it
    answers None: (latencies, statuses, seconds)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker() -> None:
        while (request := next_request()) is not None:
            raw = encode(request, port)
            started = time.perf_counter()
            status = await one(port, raw)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, statuses, time.perf_counter() - started


async def _drive(port, make: Callable[[int], Request], connections: int, seconds: float):
    counter = _COUNTER  # shared by every run: the measured run never repeats the warm-up's writes
    stop_at = time.perf_counter() + seconds

    def next_request() -> Request | None:
        return make(next(counter)) if time.perf_counter() < stop_at else None

    return await crowd(port, next_request, connections)


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


# The demo superuser's authenticator app in the bench (production settings ask superusers for
# a second factor): a fixed secret, given to it before it signs in.
BENCH_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str) -> str:
    """The current code of an authenticator app (RFC 6238: HMAC-SHA1, 30 s, 6 digits)."""
    import hmac
    import struct
    import time

    key = base64.b32decode(secret)
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), "sha1").digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def admin_cookie(port: int, env: dict) -> str:
    """Sign the demo superuser in as a browser does (password, then the authenticator app's
    code); the session cookie a browser would then send."""
    manage(
        env, "shell", "-c",
        "from django.contrib.auth import get_user_model\n"
        "from allauth.mfa.models import Authenticator\n"
        "from allauth.mfa.totp.internal.auth import TOTP\n"
        "user = get_user_model().objects.get(username='admin')\n"
        "Authenticator.objects.filter(user=user).delete()\n"
        f"TOTP.activate(user, {BENCH_TOTP_SECRET!r})\n",
    )  # fmt: skip
    origin = f"https://127.0.0.1:{port}"

    def post(path: str, form: str, cookies: dict):
        return http(
            port, "POST", path, form.encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(cookies.values()),
                "Origin": origin,
                "Referer": f"{origin}{path}",
            },
        )  # fmt: skip

    def remember(headers, cookies: dict) -> dict:
        for c in headers.get_all("Set-Cookie") or []:
            cookies[c.split("=", 1)[0]] = c.split(";")[0]
        return cookies

    status, headers, body = http(port, "GET", "/accounts/login/")
    cookies = remember(headers, {})
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)[1].decode()
    form = f"csrfmiddlewaretoken={csrf}&login=admin&password=admin-demo-pass&next=/admin/"
    status, headers, _ = post("/accounts/login/", form, cookies)
    assert status == 302 and headers["Location"] == "/accounts/2fa/authenticate/", status
    cookies = remember(headers, cookies)
    status, headers, body = http(
        port, "GET", "/accounts/2fa/authenticate/", headers={"Cookie": "; ".join(cookies.values())}
    )
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)[1].decode()
    form = f"csrfmiddlewaretoken={csrf}&code={totp_code(BENCH_TOTP_SECRET)}"
    status, headers, _ = post("/accounts/2fa/authenticate/", form, cookies)
    assert status == 302, status
    return remember(headers, cookies)["sessionid"]


# --- servers ----------------------------------------------------------------------------------


def product_env(cluster, database: str, *, static_root: Path, workers: int = 2, **extra) -> dict:
    """The environment of `make serve` as shipped (production settings, gunicorn's defaults:
    ASGI workers), on ``database`` of the bench's cluster, with the bench's reference URLs
    (config.settings.bench) and no rate limit in the way of the load."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DJANGO_API_RATE_LIMIT_REQUESTS": str(10**9),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": cluster.url.replace("/postgres?", f"/{database}?"),
        "WEB_CONCURRENCY": str(workers),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        **extra,
    }


class Gunicorn:
    """A gunicorn the bench starts, in a process group of its own, logging to ``log``."""

    def __init__(self, env: dict, log: Path, args: tuple[str, ...] = ()) -> None:
        self.env = env
        self.log = log
        self.args = args or ("-c", "config/gunicorn.conf.py")
        self.process: subprocess.Popen | None = None

    @property
    def port(self) -> int:
        return int(self.env["PORT"])

    def start(self, ready: str = "/healthz") -> None:
        """Start it and wait until ``ready`` answers (any status)."""
        with self.log.open("a") as out:
            self.process = subprocess.Popen(  # noqa: S603
                [str(Path(PYTHON).parent / "gunicorn"), *self.args],
                cwd=ROOT, env=self.env, start_new_session=True, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        for _ in range(300):
            with contextlib.suppress(OSError):
                http(self.port, "GET", ready)
                return
            time.sleep(0.1)
        sys.exit(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> list[str]:
        """Stop it; the errors it logged."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
            self.process = None
        return [
            line
            for line in self.log.read_text().splitlines()
            if '"level": "ERROR"' in line or "Traceback" in line
        ]

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


def floor_server(cluster, database: str, *, log: Path, workers: int = 2) -> Gunicorn:
    """The bare Django project (benchmarks.floor) on ``database``, with sync workers."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SECRET_KEY": SECRET,
        "DATABASE_URL": cluster.url.replace("/postgres?", f"/{database}?"),
        "PORT": str(free_port()),
    }
    args = (
        "--pythonpath", str(ROOT / "scripts"), "--workers", str(workers),
        "--bind", f"127.0.0.1:{env['PORT']}", "benchmarks.floor.wsgi:application",
    )  # fmt: skip
    server = Gunicorn(env, log, args)
    server.start(ready="/")
    return server


def page_floor_server(page: Path, *, log: Path, workers: int = 2) -> Gunicorn:
    """The bare ASGI application (benchmarks.floor.page) answering ``page``'s bytes, on the
    product's server (uvicorn's workers under gunicorn)."""
    env = {**os.environ, "FLOOR_PAGE": str(page), "PORT": str(free_port())}
    args = (
        "--pythonpath", str(ROOT / "scripts"), "--workers", str(workers),
        "--worker-class", "uvicorn_worker.UvicornWorker",
        "--bind", f"127.0.0.1:{env['PORT']}", "benchmarks.floor.page:application",
    )  # fmt: skip
    server = Gunicorn(env, log, args)
    server.start(ready="/")
    return server


def p(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]
