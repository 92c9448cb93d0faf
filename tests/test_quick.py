"""The agenda's pages answered in front of Django under ASGI (sessions_app.public.quick):
from memory while PostgreSQL's notifications say the agenda version is unchanged, from
Django otherwise. The application is config.asgi's, called as a server calls it."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from django.db import connection

from sessions_app import services
from sessions_app.public import notify, quick
from tests import factories as f
from tests.asgi import http_scope
from tests.concurrency import run_in_own_loop

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PAGE = "/agenda/acme/summit/"


@pytest.fixture
def world(settings, monkeypatch):
    from django.db import connections

    settings.ASGI = True  # as config.asgi sets it: Django marks the pages it may keep
    # Django's requests run in config.asgi's threads, as under a server: here each closes its
    # connection as it ends (a server's thread keeps it), or the test database could not be
    # dropped while one of those threads still held it.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    quick.pages.clear()
    organisation = f.organisation(slug="acme")
    event = f.event(organisation=organisation, slug="summit")
    session = f.live(event=event, name="Opening keynote")
    return event, session


def application():
    import config.asgi

    return config.asgi


async def call(path: str, headers: dict[str, str] | None = None):
    """(status, headers, body) of one GET through config.asgi.application."""
    scope = http_scope(path, [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()])
    sent: list[dict] = []
    asked = False

    async def receive():
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    await application().application(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body


async def listening() -> notify.Bell:
    bell = notify.bell()
    bell.ensure_listening()
    for _ in range(100):
        if bell.listening:
            return bell
        await asyncio.sleep(0.05)
    raise AssertionError("the listener did not connect")


def rename_elsewhere(session_id: int, name: str) -> None:
    """A write on another connection, committed, as another server's would be."""

    def write():
        try:
            services.session_update(
                session_id=session_id, data={"name": name}, actor=services.SYSTEM
            )
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()


def test_a_crowd_is_answered_from_memory_until_the_agenda_changes(world, monkeypatch):
    event, session = world

    async def scenario():
        bell = await listening()
        first = await call(PAGE)
        django = application().django_application

        async def not_django(scope, receive, send):
            raise AssertionError("Django was asked")

        monkeypatch.setattr(application(), "django_application", not_django)
        assert first[0] == 200, first
        again = await call(PAGE, {"If-None-Match": first[1]["etag"]})
        body = await call(PAGE)
        monkeypatch.setattr(application(), "django_application", django)

        kept_version = bell.versions[event.pk]
        await asyncio.to_thread(rename_elsewhere, session.pk, "Keynote, moved to noon")
        deadline = time.monotonic() + 5
        while bell.versions.get(event.pk) == kept_version:
            assert time.monotonic() < deadline, "no notification of the new version"
            await asyncio.sleep(0.02)
        changed = await call(PAGE, {"If-None-Match": first[1]["etag"]})
        return first, again, body, changed

    first, again, body, changed = run_in_own_loop(scenario)

    assert first[0] == 200 and b"Opening keynote" in first[2]
    assert "x-agenda-version" not in first[1]  # the version is for the front only
    assert (again[0], again[2]) == (304, b"")
    assert again[1]["etag"] == first[1]["etag"]
    assert "content-security-policy" not in again[1]
    assert (body[0], body[2]) == (200, first[2])
    assert body[1]["content-security-policy"] == first[1]["content-security-policy"]
    assert changed[0] == 200
    assert b"Keynote, moved to noon" in changed[2]
    assert changed[1]["etag"] != first[1]["etag"]


def test_a_request_with_a_cookie_always_goes_to_django(world, monkeypatch):
    async def scenario():
        await listening()
        await call(PAGE)  # kept
        asked = []
        django = application().django_application

        async def counting(scope, receive, send):
            asked.append(scope["path"])
            await django(scope, receive, send)

        monkeypatch.setattr(application(), "django_application", counting)
        signed_in = await call(PAGE, {"Cookie": "sessionid=abc"})
        anonymous = await call(PAGE)
        return asked, signed_in[0], anonymous[0]

    asked, signed_in, anonymous = run_in_own_loop(scenario)

    assert asked == [PAGE]  # the cookie's request only
    assert (signed_in, anonymous) == (200, 200)


def test_without_the_listener_every_request_goes_to_django(world, monkeypatch):
    async def scenario():
        bell = await listening()
        await call(PAGE)
        asked = []
        django = application().django_application

        async def counting(scope, receive, send):
            asked.append(scope["path"])
            await django(scope, receive, send)

        monkeypatch.setattr(application(), "django_application", counting)
        monkeypatch.setattr(bell, "listening", False)  # as while it reconnects
        status = (await call(PAGE))[0]
        return asked, status

    asked, status = run_in_own_loop(scenario)

    assert (asked, status) == ([PAGE], 200)
