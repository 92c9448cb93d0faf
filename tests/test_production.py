"""Production smoke test: `make serve` (gunicorn, 2 workers, production settings) on a
PostgreSQL cluster of its own and the run's Redis, through a database outage and back.

Real parts only: the server is `make serve` itself, the requests cross a TCP socket, and the
outage is the cluster being stopped with pg_ctl while the server runs.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import pg_cluster  # noqa: E402

from tests.concurrency import run_in_own_loop  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SECRET = "smoke-test-production-secret-" + "Zq8mL2vX" * 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, body: bytes | None = None, headers=None):
        """(status, headers, body) — as a client behind an HTTPS load balancer sees it."""
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method=method,
            headers={"X-Forwarded-Proto": "https", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One `make serve` on a cluster of its own for the tests below (each starts in
    another's aftermath, as a server in production does, and reads the log from where it
    started: ``since``). Its settings are what each needs:

    - at most 20 connections to the database: 200 open agendas must not hold one each;
    - a request waits 1 s for a new connection before its 503 while the database is away
      (3 s by default): the outage's requests are many;
    - the webhook receiver's loopback address allowed (the SSRF guard refuses it otherwise);
    - the agenda streams' polling slowed to 30 s: a change must reach them by notification.
    """
    with serving(
        tmp_path_factory.mktemp("serve"),
        pg_settings={"max_connections": "20"},
        DJANGO_DB_CONNECT_TIMEOUT="1",
        DJANGO_WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32",
        DJANGO_AGENDA_STREAM_POLL="30",
        DJANGO_AGENDA_STREAM_FALLBACK="30",
    ) as running:
        yield running


@pytest.fixture
def production(served):
    """The shared server, and its log from this test's start: ``since()``."""
    server, db, client, log_path = served
    start = log_path.stat().st_size

    def since() -> str:
        with log_path.open("rb") as log:
            log.seek(start)
            return log.read().decode()

    return server, db, client, log_path, since


@contextlib.contextmanager
def serving(tmp_path, pg_settings: dict[str, str] | None = None, **extra_env: str):
    """`make serve` on a cluster of its own: (server, db, API client, log path)."""
    bindir = pg_cluster.find_bindir()
    assert bindir is not None, "the PostgreSQL run has server binaries"
    port = _free_port()
    with pg_cluster.cluster(bindir, extra_settings=pg_settings) as db:
        env = {
            key: value
            for key, value in os.environ.items()
            # pytest's own: the browser tests' flag would fail check --deploy (async.E001).
            if key not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            DJANGO_SECRET_KEY=SECRET,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_STATIC_ROOT=str(tmp_path / "static"),
            DATABASE_URL=db.url,
            REDIS_URL=os.environ["REDIS_URL"],
            DJANGO_CACHE_KEY_PREFIX=f"smoke-{port}",
            WEB_CONCURRENCY="2",
            HOST="127.0.0.1",
            PORT=str(port),
            **extra_env,
        )
        log = (tmp_path / "serve.log").open("w+")
        # The server's own virtualenv from the runtime lock, built once before the clock
        # below starts (it is make serve's first step too).
        installed = subprocess.run(
            ["make", "--no-print-directory", "serve-install"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
        assert installed.returncode == 0, (tmp_path / "serve.log").read_text()
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(port)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if server.call("GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.3)
            _manage(env, "seed_demo")
            client = json.loads(
                _manage(env, "create_api_client", "--organisation", "demo", "--name", "smoke")
            )
            yield server, db, client, tmp_path / "serve.log"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()


def _token(server: Server, client: dict) -> str:
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode())
    status, _, body = server.call(
        "POST",
        "/oauth2/token",
        b"grant_type=client_credentials",
        {
            "Authorization": f"Basic {basic.decode()}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert status == 200, body
    return json.loads(body)["access_token"]


def test_make_serve_survives_a_database_outage(production):
    server, db, client, _, since = production
    bearer = {"Authorization": f"Bearer {_token(server, client)}"}
    json_body = {**bearer, "Content-Type": "application/json"}

    status, _, body = server.call("GET", "/api/v1/sessions?per-page=5", headers=bearer)
    assert status == 200, body
    session_id = json.loads(body)["items"][0]["id"]
    path = f"/api/v1/sessions/{session_id}"
    status, headers, body = server.call("PATCH", path, b'{"name": "Before the outage"}', json_body)
    assert status == 200, body
    assert headers["X-Request-ID"]
    assert server.call("GET", "/agenda/demo/demo-conf/")[0] == 200
    assert server.call("GET", "/readyz")[0] == 200

    # Both workers share one rate budget (Redis): every answer counts down from the last.
    remaining = [
        int(server.call("GET", path, headers=bearer)[1]["X-Rate-Limit-Remaining"]) for _ in range(8)
    ]
    assert remaining == list(range(remaining[0], remaining[0] - 8, -1))

    pg_cluster.control(db, "stop")
    try:
        # Enough requests for both workers to meet the dead database.
        for _ in range(4):
            status, headers, body = server.call("PATCH", path, b'{"name": "Lost?"}', json_body)
            assert status == 503, body
            assert headers["Content-Type"] == "application/problem+json"
            assert int(headers["Retry-After"]) > 0
            assert json.loads(body)["status"] == 503
            status, headers, body = server.call("GET", path, headers=bearer)
            assert (status, headers["Content-Type"]) == (503, "application/problem+json")
            status, headers, body = server.call("GET", "/agenda/demo/demo-conf/")
            assert status == 503 and headers["Content-Type"].startswith("text/html")
            assert headers["Retry-After"]
            status, headers, body = server.call("GET", "/readyz")
            assert status == 503, body
            assert json.loads(body)["checks"]["database"] != "ok"
            assert server.call("GET", "/healthz")[0] == 200
    finally:
        pg_cluster.control(db, "start")

    # Back without a restart: the first request after the outage already succeeds.
    status, _, body = server.call("GET", "/readyz")
    assert status == 200, body
    status, _, body = server.call("GET", path, headers=bearer)
    assert status == 200, body
    assert json.loads(body)["name"] == "Before the outage"  # the acknowledged write is kept
    status, _, body = server.call("PATCH", path, b'{"name": "After the outage"}', json_body)
    assert status == 200, body
    assert server.call("GET", "/agenda/demo/demo-conf/")[0] == 200

    log_lines = [line for line in since().splitlines() if line.startswith("{")]
    requests = [json.loads(line) for line in log_lines if '"sessions_app.request"' in line]
    outage = [r for r in requests if r["status"] == 503 and r["path"] == path]
    assert len(outage) == 8 and all(r["request_id"] for r in outage)
    patches = [r for r in requests if r["method"] == "PATCH" and r["status"] == 200]
    assert [r["client"] for r in patches] == [client["client_id"]] * 2
    assert not [r for r in requests if r["status"] >= 500 and r["status"] != 503]


def test_gunicorn_serves_asgi_by_default_and_wsgi_with_sync_workers():
    """config/gunicorn.conf.py: uvicorn workers of config.asgi_worker and the ASGI app by
    default (the make serve tests below run it); GUNICORN_WORKER_CLASS=sync, the WSGI app
    with 2 x cores + 1 sync workers recycled every 5,000 requests (the stream's one look
    under WSGI is tested in tests/test_live.py)."""
    import runpy

    def conf(**env):
        saved = {k: os.environ.pop(k, None) for k in ("GUNICORN_WORKER_CLASS", "WEB_CONCURRENCY")}
        os.environ.update(env)
        try:
            return runpy.run_path(str(ROOT / "config/gunicorn.conf.py"))
        finally:
            for key in env:
                os.environ.pop(key, None)
            os.environ.update({k: v for k, v in saved.items() if v is not None})

    asgi, wsgi = conf(), conf(GUNICORN_WORKER_CLASS="sync")
    cores = os.cpu_count()

    assert (asgi["worker_class"], asgi["wsgi_app"]) == (
        "config.asgi_worker.Worker",
        "config.asgi:application",
    )
    assert (asgi["workers"], asgi["max_requests"]) == (cores, 0)
    assert (wsgi["worker_class"], wsgi["wsgi_app"]) == ("sync", "config.wsgi:application")
    assert (wsgi["workers"], wsgi["max_requests"]) == (cores * 2 + 1, 5000)


async def _open_streams(port: int, count: int, path: str):
    """``count`` agenda streams as browsers open them: (reader, writer) pairs whose response
    headers were read, and how many were refused."""
    import asyncio

    opened, refused = [], 0
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Accept: text/event-stream\r\nX-Forwarded-Proto: https\r\n\r\n"
    ).encode()

    async def one():
        nonlocal refused
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            refused += 1
            writer.close()
            return
        opened.append((reader, writer))

    await asyncio.gather(*(one() for _ in range(count)))
    return opened, refused


def test_two_hundred_open_agendas_on_a_database_of_twenty_connections(production):
    """`make serve` runs the ASGI app (uvicorn workers). max_connections = 20: 200 open
    streams on one server (2 workers) cost no connection each; a change made through the
    API reaches every one of them within 2 s with polling set to 30 s (PostgreSQL notifies
    each process, whichever worker made the change), the API answers 200 meanwhile, and
    the server's connections stay a few per process."""
    import asyncio

    server, db, client, log_path, since = production
    port = int(server.base.rsplit(":", 1)[1])
    bearer = {"Authorization": f"Bearer {_token(server, client)}"}
    status, _, body = server.call(
        "GET", "/api/v1/sessions?session_status=live&per-page=1", headers=bearer
    )
    assert status == 200, body
    session = json.loads(body)["items"][0]

    def connections() -> int:
        import psycopg

        with psycopg.connect(
            host=str(db.socket_dir), port=db.port, user="postgres", dbname="postgres"
        ) as conn:
            return conn.execute(
                "SELECT COUNT(*) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()[0]

    async def scenario():
        streams, refused = await _open_streams(port, 200, "/agenda/demo/demo-conf/stream")
        await asyncio.sleep(1)  # every stream is in its process's hub
        during = connections()

        def patch():
            return server.call(
                "PATCH",
                f"/api/v1/sessions/{session['id']}",
                b'{"name": "Seen by the crowd"}',
                {**bearer, "Content-Type": "application/json"},
            )

        status, _, body = await asyncio.to_thread(patch)
        assert status == 200, body
        changed_at = time.monotonic()

        async def sees(reader) -> bool:
            received = b""
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(15):
                    while b"Seen by the crowd" not in received:
                        chunk = await reader.read(65536)
                        if not chunk:
                            return False
                        received += chunk
            return b"Seen by the crowd" in received

        seen = await asyncio.gather(*(sees(reader) for reader, _ in streams))
        took = time.monotonic() - changed_at
        reads = [await asyncio.to_thread(server.call, "GET", "/api/v1/sessions?per-page=5",
                                         None, bearer) for _ in range(5)]  # fmt: skip
        after = connections()

        # A deploy: gunicorn replaces its workers (HUP). Each stream is told when to come
        # back, spread over seconds, and ends.
        os.kill(_gunicorn_master(log_path), signal.SIGHUP)

        async def goodbye(reader) -> int | None:
            rest = b""
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    while chunk := await reader.read(65536):
                        rest += chunk
            hints = [line for line in rest.split(b"\n") if line.startswith(b"retry: ")]
            return int(hints[-1][7:]) if hints else None

        retries = await asyncio.gather(*(goodbye(reader) for reader, _ in streams))
        for _, writer in streams:
            writer.close()
        back, _ = await _open_streams(port, 20, "/agenda/demo/demo-conf/stream")
        for _, writer in back:
            writer.close()
        return (
            len(streams), refused, sum(seen), during, after, [r[0] for r in reads],
            retries, len(back), took,
        )  # fmt: skip

    result = run_in_own_loop(scenario)
    opened, refused, seen, during, after, statuses, retries, back, took = result

    assert (opened, refused) == (200, 0)
    assert seen == 200
    assert took < 2, took
    assert statuses == [200] * 5
    assert server.call("GET", "/readyz")[0] == 200
    assert server.call("GET", "/agenda/demo/demo-conf/")[0] == 200
    assert "Using worker: config.asgi_worker.Worker" in log_path.read_text()
    # 2 web processes x (4 request threads + 1 for the reader, and the listener) + the
    # worker's 1.
    assert during <= 13 and after <= 13, (during, after)
    assert all(retry is not None and 1000 <= retry <= 11000 for retry in retries), retries
    assert len(set(retries)) > 100  # spread over the window, not one instant
    assert back == 20  # the new workers take them
    sent_away = re.findall(r"Sent (\d+) open agenda stream\(s\) away", since())
    assert sum(map(int, sent_away)) == 200  # by the two old workers
    assert "Traceback" not in since()


def _gunicorn_master(log_path: Path) -> int:
    """The pid of gunicorn's arbiter, from its log line "Starting gunicorn ... [pid]"."""
    found = re.findall(r"\[(\d+)\] \[INFO\] Starting gunicorn", log_path.read_text())
    assert found, log_path.read_text()
    return int(found[-1])


def test_make_serve_runs_the_worker_that_delivers_webhooks_through_an_outage(production):
    """`make serve` starts `manage.py run_worker` beside gunicorn: a change made through the
    API is delivered, signed, to a subscribed receiver; the worker outlives a database
    outage and delivers what comes after it. The SSRF guard of production settings refuses
    loopback, so the receiver's address is named as an allowed internal network."""
    import hashlib
    import hmac

    from tests.receiver import receiver

    server, db, _, log_path, _since = production
    with receiver() as rx:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": SECRET,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": db.url,
        }
        client = json.loads(
            _manage(
                env,
                "create_api_client",
                "--organisation",
                "demo",
                "--name",
                "hooks",
                "--scopes",
                "sessions:read sessions:write webhooks:write",
            )
        )
        bearer = {"Authorization": f"Bearer {_token(server, client)}"}
        json_body = {**bearer, "Content-Type": "application/json"}
        status, _, body = server.call(
            "POST",
            "/api/v1/webhooks",
            json.dumps({"url": rx.url, "events": ["session.updated"]}).encode(),
            json_body,
        )
        assert status == 201, body
        secret = json.loads(body)["secret"]
        status, _, body = server.call("GET", "/api/v1/sessions?per-page=1", headers=bearer)
        path = f"/api/v1/sessions/{json.loads(body)['items'][0]['id']}"

        status, _, body = server.call("PATCH", path, b'{"name": "Hooked"}', json_body)
        assert status == 200, body
        (first,) = rx.wait_for(1, timeout=30)
        expected = hmac.new(secret.encode(), first.body, hashlib.sha256).hexdigest()
        assert first.headers["X-Webhook-Signature"] == f"sha256={expected}"
        assert json.loads(first.body)["data"]["changes"]["name"]["new"] == "Hooked"

        pg_cluster.control(db, "stop")
        try:
            time.sleep(3)  # the worker meets the dead database a few times
        finally:
            pg_cluster.control(db, "start")
        deadline = time.monotonic() + 30
        while server.call("PATCH", path, b'{"name": "After"}', json_body)[0] != 200:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.5)
        second = rx.wait_for(2, timeout=30)[1]
        assert json.loads(second.body)["data"]["changes"]["name"]["new"] == "After"
        assert "Worker worker-" in log_path.read_text()


def test_make_serve_installs_the_runtime_alone():
    """The server's virtualenv comes from requirements/prod.txt: no test, lint or docs tool."""
    subprocess.run(
        ["make", "--no-print-directory", "serve-install"], cwd=ROOT, check=True, timeout=600
    )
    probe = (
        "import importlib.util as u, json, sys; "
        "print(json.dumps({m: u.find_spec(m) is not None for m in sys.argv[1:]}))"
    )
    modules = ["django", "gunicorn", "uvicorn_worker", "pytest", "playwright", "schemathesis"]
    modules += ["hypothesis", "ruff", "importlinter", "mkdocs", "piptools"]
    found = subprocess.run(
        [str(ROOT / ".venv-serve/bin/python"), "-c", probe, *modules],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(found.stdout) == {
        "django": True,
        "gunicorn": True,
        "uvicorn_worker": True,
        "pytest": False,
        "playwright": False,
        "schemathesis": False,
        "hypothesis": False,
        "ruff": False,
        "importlinter": False,
        "mkdocs": False,
        "piptools": False,
    }
