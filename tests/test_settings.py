import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def clean_environ() -> dict[str, str]:
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE would fail check --deploy (async.E001).
    skip = {"DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SECRET_KEY", "DATABASE_URL"}
    return {k: v for k, v in os.environ.items() if k not in skip}


def run_manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean_environ(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="a-long-random-production-secret-" + "k8Vq2mZ7" * 6,
        DJANGO_ALLOWED_HOSTS="sessions.example.com",
        DATABASE_URL="sqlite:////tmp/unused.sqlite3",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_ALLOWED_HOSTS="sessions.example.com",
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


# What a browser gets for a static file from the production application, asked through its
# WSGI and its ASGI door (config.wsgi, config.asgi): status, type, encoding, caching, and
# whether the body is the file's (decompressed) bytes.
_STATIC_PROBE = """
import asyncio, gzip, json, sys
from django.contrib.staticfiles.storage import staticfiles_storage
from django.contrib.staticfiles import finders
name = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
original = open(finders.find(name), "rb").read()
paths = {"plain": "/static/" + name, "hashed": staticfiles_storage.url(name)}
def answer(status, headers, body):
    headers = {k.lower(): v for k, v in headers}
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return [status, headers.get("content-type"), headers.get("content-encoding"),
            headers.get("cache-control"), headers.get("x-content-type-options"), body == original]
def wsgi(path):
    from config.wsgi import application
    from wsgiref.util import setup_testing_defaults
    environ = {"PATH_INFO": path, "HTTP_ACCEPT_ENCODING": "gzip", "HTTP_HOST": "testserver"}
    setup_testing_defaults(environ)
    seen = {}
    body = b"".join(application(environ, lambda s, h, e=None: seen.update(s=s, h=h)))
    return answer(int(seen["s"].split()[0]), seen["h"], body)
def asgi(path):
    from config.asgi import application
    sent = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"accept-encoding", b"gzip")],
             "scheme": "https", "server": ("testserver", 443), "client": ("127.0.0.1", 1)}
    asyncio.run(application(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    headers = [(k.decode(), v.decode()) for k, v in start["headers"]]
    return answer(start["status"], headers, body)
door = {"wsgi": wsgi, "asgi": asgi}[sys.argv[-1]]
first = {kind: door(path) for kind, path in paths.items()}
print(json.dumps({"first": first, "again": {kind: door(path) for kind, path in paths.items()}}))
"""


@pytest.mark.parametrize("door", ["wsgi", "asgi"])
def test_production_serves_static_files_in_front_of_django(tmp_path, door):
    """collectstatic, then the production application answers a static file itself, before
    Django: gzip when the client takes it, a year's immutable caching for the hashed name
    (which never changes meaning), a minute for the plain one, no type sniffing."""
    static_root = tmp_path / "static"
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "a-long-random-production-secret-" + "k8Vq2mZ7" * 6,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    collected = run_manage("collectstatic", "--noinput", **env)
    assert collected.returncode == 0, collected.stderr
    served = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + _STATIC_PROBE, door],
        cwd=ROOT, env={**clean_environ(), **env}, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert served.returncode == 0, served.stderr
    answers = json.loads(served.stdout.strip().splitlines()[-1])
    # Asked again, the same answer (under ASGI, from the answers kept in memory).
    assert answers["again"] == answers["first"]
    js = 'text/javascript; charset="utf-8"'
    assert answers["first"] == {
        "hashed": [200, js, "gzip", "max-age=315360000, public, immutable", "nosniff", True],
        "plain": [200, js, "gzip", "max-age=60, public", "nosniff", True],
    }


def test_postgresql_prepares_statements_unless_switched_off(monkeypatch):
    from config.settings.base import database_config

    url = "postgres://app@db.internal/sessions"
    options = database_config(url)["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5

    # Behind a pooler in transaction mode that cannot keep prepared statements.
    monkeypatch.setenv("DJANGO_DB_PREPARED_STATEMENTS", "0")
    options = database_config(url)["OPTIONS"]
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options
    assert "server_side_binding" not in database_config("sqlite:///x.sqlite3")["OPTIONS"]


def _log_format(settings_module: str, **env) -> str:
    code = (
        "from django.conf import settings; "
        "print(settings.LOGGING['handlers']['console']['formatter'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={
            **{k: v for k, v in clean_environ().items() if k != "DJANGO_LOG_FORMAT"},
            "DJANGO_SETTINGS_MODULE": settings_module,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_make_run_logs_plain_lines_and_production_json():
    production = {"DJANGO_SECRET_KEY": "k" * 50, "DJANGO_ALLOWED_HOSTS": "example.com"}
    assert _log_format("config.settings.local") == "plain"
    assert _log_format("config.settings.production", **production) == "json"
    assert _log_format("config.settings.local", DJANGO_LOG_FORMAT="json") == "json"


def test_make_run_prints_each_error_once_and_no_second_request_line():
    """Django's own console handlers (its ``django`` logger under DEBUG, runserver's
    ``django.server``) would print a traceback and a 4xx/5xx line beside ours."""
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('django.request').error('Internal Server Error: /boom'); "
        "logging.getLogger('django.server').warning('\"GET /nope HTTP/1.1\" 404 11'); "
        "logging.getLogger('django.server').error('\"GET /boom HTTP/1.1\" 500 12')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **{k: v for k, v in clean_environ().items() if k != "DJANGO_LOG_FORMAT"},
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "NO_COLOR": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = (result.stdout + result.stderr).splitlines()
    assert len([line for line in lines if "Internal Server Error: /boom" in line]) == 1, lines
    assert [line for line in lines if "HTTP/1.1" in line] == [], lines
