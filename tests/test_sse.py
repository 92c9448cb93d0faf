"""The stream URL answered before Django under ASGI (sessions_app.public.sse): what it
refuses, before the hub."""

import asyncio

import pytest

from sessions_app.public import sse
from sessions_app.public.hub import hub
from tests import factories as f
from tests.concurrency import run_in_own_loop

pytestmark = pytest.mark.django_db(transaction=True)


def answer(path: str, method: str = "GET", host: bytes = b"testserver"):
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(b"host", host)],
    }
    sent = []

    async def receive():
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    async def run():
        match = sse.handles(scope)
        assert match is not None
        await sse.app(scope, receive, send, match)

    run_in_own_loop(run)
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_what_it_refuses(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    f.event(organisation=f.organisation(slug="acme"), slug="summit")

    assert answer("/agenda/acme/summit/stream", host=b"evil.example")[0] == 400
    status, headers, _ = answer("/agenda/acme/summit/stream", method="POST")
    assert (status, headers["allow"]) == (405, "GET, HEAD")
    assert answer("/agenda/acme/nothing/stream")[0] == 404
    settings.AGENDA_STREAM_MAX_OPEN = 0
    status, headers, _ = answer("/agenda/acme/summit/stream")
    assert status == 503 and 2 <= int(headers["retry-after"]) <= 10


def test_a_database_that_is_away_is_a_503_not_an_error(monkeypatch):
    async def away(*args):
        raise RuntimeError("connection refused")

    monkeypatch.setattr(hub.database, "run", away)

    status, headers, _ = answer("/agenda/acme/elsewhere/stream")

    assert (status, headers["retry-after"]) == (503, "5")


def test_only_the_stream_url_is_its():
    assert sse.handles({"type": "http", "path": "/agenda/acme/summit/"}) is None
    assert sse.handles({"type": "websocket", "path": "/agenda/acme/summit/stream"}) is None
