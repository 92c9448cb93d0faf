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


@pytest.fixture
def production(tmp_path):
    with serving(tmp_path) as running:
        yield running


@contextlib.contextmanager
def serving(tmp_path, **extra_env: str):
    """`make serve` on a cluster of its own: (server, db, API client, log path)."""
    bindir = pg_cluster.find_bindir()
    assert bindir is not None, "the PostgreSQL run has server binaries"
    port = _free_port()
    with pg_cluster.cluster(bindir) as db:
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
    server, db, client, log_path = production
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

    log_lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    requests = [json.loads(line) for line in log_lines if '"sessions_app.request"' in line]
    outage = [r for r in requests if r["status"] == 503 and r["path"] == path]
    assert len(outage) == 8 and all(r["request_id"] for r in outage)
    patches = [r for r in requests if r["method"] == "PATCH" and r["status"] == 200]
    assert [r["client"] for r in patches] == [client["client_id"]] * 2
    assert not [r for r in requests if r["status"] >= 500 and r["status"] != 503]


def test_make_serve_with_uvicorn_workers_keeps_the_live_stream_open(tmp_path):
    """GUNICORN_WORKER_CLASS=uvicorn_worker.UvicornWorker: the ASGI application, where a
    stream stays open and a change made through the API arrives on it. Polling is set to
    30 s: the change comes within 2 s because PostgreSQL notifies the stream's process,
    whichever of the two workers made it."""
    with serving(
        tmp_path,
        GUNICORN_WORKER_CLASS="uvicorn_worker.UvicornWorker",
        DJANGO_AGENDA_STREAM_POLL="30",
        DJANGO_AGENDA_STREAM_FALLBACK="30",
    ) as running:
        server, _, client, log_path = running
        bearer = {"Authorization": f"Bearer {_token(server, client)}"}
        status, _, body = server.call(
            "GET", "/api/v1/sessions?session_status=live&per-page=1", headers=bearer
        )
        assert status == 200, body
        session = json.loads(body)["items"][0]
        stream = urllib.request.urlopen(
            urllib.request.Request(
                server.base + "/agenda/demo/demo-conf/stream",
                headers={"X-Forwarded-Proto": "https"},
            ),
            timeout=10,
        )
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.readline() == b"retry: 1000\n"

        status, _, body = server.call(
            "PATCH",
            f"/api/v1/sessions/{session['id']}",
            b'{"name": "Streamed under ASGI"}',
            {**bearer, "Content-Type": "application/json"},
        )
        assert status == 200, body
        started = time.monotonic()
        received = b""
        while b"Streamed under ASGI" not in received:
            line = stream.readline()
            assert line, "the stream ended instead of staying open"
            received += line
        stream.close()

        assert time.monotonic() - started < 2
        # The rest of the app answers as under the sync workers.
        assert server.call("GET", "/readyz")[0] == 200
        assert server.call("GET", "/agenda/demo/demo-conf/")[0] == 200
        assert "uvicorn" in log_path.read_text().lower()


def test_make_serve_runs_the_worker_that_delivers_webhooks_through_an_outage(tmp_path):
    """`make serve` starts `manage.py run_worker` beside gunicorn: a change made through the
    API is delivered, signed, to a subscribed receiver; the worker outlives a database
    outage and delivers what comes after it. The SSRF guard of production settings refuses
    loopback, so the receiver's address is named as an allowed internal network."""
    import hashlib
    import hmac

    from tests.receiver import receiver

    with (
        serving(tmp_path, DJANGO_WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32") as running,
        receiver() as rx,
    ):
        server, db, _, log_path = running
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
