"""Under ASGI (config.asgi) Django's requests run as WSGI in a fixed set of threads of the
process, each keeping its database connection; the requests beyond them wait their turn in
the event loop, in order of arrival."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

from tests.asgi import http_scope
from tests.concurrency import run_in_own_loop


def test_at_most_the_set_size_run_at_once_in_reused_threads_and_the_rest_wait_in_order(
    settings, monkeypatch
):
    import config.asgi

    front = config.asgi.django_application
    running, most, order, threads = 0, 0, [], set()
    lock = threading.Lock()

    def slow_django(environ, start_response):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            order.append(environ["PATH_INFO"])
            threads.add(threading.get_ident())
        time.sleep(0.05)
        with lock:
            running -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode()]

    monkeypatch.setattr(front, "app", slow_django)

    async def one(n: int) -> bytes:
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await config.asgi.application(http_scope(f"/nowhere/{n}"), receive, send)
        assert sent[0]["status"] == 200
        return b"".join(m.get("body", b"") for m in sent[1:])

    async def crowd():
        tasks = []
        for n in range(12):  # arriving one after the other, a moment apart
            tasks.append(asyncio.ensure_future(one(n)))
            await asyncio.sleep(0.002)
        return await asyncio.gather(*tasks)

    answers = run_in_own_loop(crowd)

    assert answers == [f"/nowhere/{n}".encode() for n in range(12)]
    assert most == settings.ASGI_CONCURRENT_REQUESTS == 4
    assert order == [f"/nowhere/{n}" for n in range(12)]
    assert len(threads) <= 4  # the same threads, not one per request


def test_connections_persist_per_thread_under_asgi_and_wsgi_alike():
    """config.asgi sets DJANGO_ASGI: the database settings are the same either way (each
    thread keeps its connection, checked before reuse), with no pool."""
    probe = (
        "import django; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print(settings.ASGI, db['CONN_MAX_AGE'], db['CONN_HEALTH_CHECKS'], "
        "'pool' in db.get('OPTIONS', {}))"
    )
    env_base = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgres://nobody@localhost/none",
    }
    seen = {}
    for flag in ("", "true"):
        env = {**env_base, **({"DJANGO_ASGI": flag} if flag else {})}
        done = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        )
        seen[flag] = done.stdout.split()
    assert seen == {"": ["False", "600", "True", "False"], "true": ["True", "600", "True", "False"]}
