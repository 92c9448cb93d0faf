"""The live agenda's stream: each change of a live session, read from the history (outbox)."""

import datetime as dt
import json
import time

import pytest

from sessions_app import live, notify, services
from sessions_app.models import SessionChange
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    organisation = f.organisation(slug="acme")
    return f.event(organisation=organisation, slug="summit")


def parse(chunks) -> list[dict]:
    """SSE messages as dicts: id, event, data (decoded JSON)."""
    messages = []
    for block in "".join(chunks).split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            messages.append(
                {
                    "id": int(fields["id"]),
                    "event": fields["event"],
                    "data": json.loads(fields["data"]),
                }
            )
    return messages


def test_a_change_to_a_live_session_is_sent_with_its_agenda_html(event):
    session = f.live(event=event, name="Keynote")
    cursor = live.latest_change_id(event.pk)

    services.session_update(
        session_id=session.pk, data={"name": "Keynote, moved"}, actor=services.SYSTEM
    )
    new_cursor, messages = live.changes_since(event, cursor)

    (message,) = parse(messages)
    change = SessionChange.objects.get(session_id=session.pk)
    assert (message["id"], message["event"], new_cursor) == (change.pk, "session", change.pk)
    assert message["data"]["id"] == session.pk
    assert "Keynote, moved" in message["data"]["html"]
    assert message["data"]["date"] == event.start_date.isoformat()
    assert live.changes_since(event, new_cursor) == (new_cursor, [])


def test_unpublishing_sends_a_removal_and_other_events_are_not_sent(event):
    session = f.live(event=event)
    elsewhere = f.live(event=f.event())
    cursor = live.latest_change_id(event.pk)

    services.session_set_status(session_id=session.pk, status="approved", actor=services.SYSTEM)
    services.session_update(session_id=elsewhere.pk, data={"name": "X"}, actor=services.SYSTEM)

    assert [(m["event"], m["data"]) for m in parse(live.changes_since(event, cursor)[1])] == [
        ("remove", {"id": session.pk})
    ]


def test_a_seat_taken_is_sent_with_the_seats_left(event):
    session = f.live(event=event, capacity=3)
    ada = f.registrant(event=event)
    cursor = live.latest_change_id(event.pk)

    services.selection_add(
        registrant_id=ada.pk, session_id=session.pk, actor=services.Actor(registrant=ada)
    )

    (message,) = parse(live.changes_since(event, cursor)[1])
    assert "2 seats left" in message["data"]["html"]


def test_stream_endpoint_resumes_after_last_event_id(client, event):
    session = f.live(event=event)
    seen = live.latest_change_id(event.pk)
    services.session_update(session_id=session.pk, data={"name": "Missed"}, actor=services.SYSTEM)

    response = client.get("/agenda/acme/summit/stream", HTTP_LAST_EVENT_ID=str(seen))

    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    body = [chunk.decode() for chunk in response.streaming_content]
    assert body[0] == "retry: 1000\n\n"
    (message,) = parse(body)
    assert "Missed" in message["data"]["html"]


def test_stream_of_an_unknown_event_is_404(client):
    assert client.get("/agenda/nobody/nothing/stream").status_code == 404


def test_under_wsgi_a_stream_can_stay_open_for_a_while_when_configured(client, event, settings):
    settings.AGENDA_STREAM_POLL_SECONDS = 0.05
    settings.AGENDA_STREAM_WSGI_SECONDS = 0.3
    settings.AGENDA_STREAM_HEARTBEAT_SECONDS = 0.1
    seen = live.latest_change_id(event.pk)

    response = client.get("/agenda/acme/summit/stream", {"last_id": seen})
    body = "".join(chunk.decode() for chunk in response.streaming_content)

    assert body.startswith("retry: 1000\n\n")
    assert ": keep-alive\n\n" in body  # it stayed open, and said so while nothing changed


def test_under_asgi_the_stream_stays_open_and_sends_what_changed(event, settings):
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    settings.AGENDA_STREAM_POLL_SECONDS = 0.05
    settings.AGENDA_STREAM_MAX_SECONDS = 0.4
    session = f.live(event=event)
    seen = live.latest_change_id(event.pk)
    services.session_update(session_id=session.pk, data={"name": "Async"}, actor=services.SYSTEM)

    async def read():
        response = await AsyncClient().get(
            "/agenda/acme/summit/stream", headers={"Last-Event-ID": str(seen)}
        )
        assert response["Content-Type"] == "text/event-stream"
        return [chunk.decode() async for chunk in response.streaming_content]

    chunks = async_to_sync(read)()

    (message,) = parse(chunks)
    assert "Async" in message["data"]["html"]


def test_a_refused_write_sends_nothing_and_each_committed_change_sends_one(event):
    """The outbox is the history: a refusal leaves no row, a write exactly one per change."""
    from django.core.exceptions import ValidationError

    room = f.location(event=event)
    first = f.live(event=event, location=room, start="10:00", end="11:00")
    second = f.live(event=event, location=room, start="12:00", end="13:00")
    cursor = live.latest_change_id(event.pk)

    with pytest.raises(ValidationError) as refused:  # a room clash
        services.session_update(
            session_id=second.pk,
            data={"start_time": dt.time(10, 30), "end_time": dt.time(11, 30)},
            actor=services.SYSTEM,
        )
    assert refused.value.error_dict["location"][0].code == "conflict"
    assert live.changes_since(event, cursor) == (cursor, [])

    services.session_update(session_id=first.pk, data={"name": "One"}, actor=services.SYSTEM)
    services.session_update(session_id=second.pk, data={"name": "Two"}, actor=services.SYSTEM)
    services.session_update(session_id=first.pk, data={"name": "Three"}, actor=services.SYSTEM)
    rows = SessionChange.objects.filter(event_id=event.pk, id__gt=cursor)

    assert rows.count() == 3
    messages = parse(live.changes_since(event, cursor)[1])
    # One message per changed session, carrying its latest state and latest change id.
    assert [(m["data"]["id"], m["id"]) for m in messages] == [
        (second.pk, rows.filter(session_id=second.pk).get().pk),
        (first.pk, rows.filter(session_id=first.pk).order_by("-id").first().pk),
    ]
    assert "Three" in messages[1]["data"]["html"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_an_open_stream_wakes_when_the_database_notifies(settings):
    """Polling is set to 30 s here: a change shown within 2 s came by LISTEN/NOTIFY, from
    a commit on another connection (as another app server's would)."""
    import asyncio
    import threading

    from asgiref.sync import sync_to_async
    from django.db import connection, connections
    from django.test import AsyncClient

    settings.AGENDA_STREAM_POLL_SECONDS = 30
    settings.AGENDA_STREAM_FALLBACK_SECONDS = 30
    settings.AGENDA_STREAM_MAX_SECONDS = 10
    organisation = f.organisation(slug="acme")
    event = f.event(organisation=organisation, slug="summit")
    session = f.live(event=event)
    seen = live.latest_change_id(event.pk)

    def rename_elsewhere():
        try:
            services.session_update(
                session_id=session.pk, data={"name": "Pushed"}, actor=services.SYSTEM
            )
        finally:
            connection.close()

    async def read():
        response = await AsyncClient().get(
            "/agenda/acme/summit/stream", headers={"Last-Event-ID": str(seen)}
        )
        chunks = aiter(response.streaming_content)
        assert await anext(chunks) == b"retry: 1000\n\n"
        for _ in range(50):  # the listener connects and LISTENs
            if notify.bell().listening:
                break
            await asyncio.sleep(0.1)
        assert notify.bell().listening
        started = time.monotonic()
        writer = threading.Thread(target=rename_elsewhere)
        writer.start()
        message = await asyncio.wait_for(anext(chunks), timeout=2)
        writer.join()
        await chunks.aclose()
        await sync_to_async(connections.close_all)()
        return message.decode(), time.monotonic() - started

    # A loop of its own in a thread of its own: the browser tests' Playwright keeps one
    # running in this thread.
    outcome = {}

    def run():
        try:
            outcome["value"] = asyncio.run(read())
        except BaseException as exc:  # re-raised below, in the test's thread
            outcome["error"] = exc

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(timeout=30)
    if "error" in outcome:
        raise outcome["error"]
    message, elapsed = outcome["value"]

    (parsed,) = parse([message])
    assert "Pushed" in parsed["data"]["html"]
    assert elapsed < 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_only_what_the_agenda_shows_notifies():
    import psycopg
    from django.db import connection

    event = f.event()
    draft = f.scheduled(event=event, name="Draft")
    published = f.live(event=event, name="Published", start="14:00", end="15:00")
    params = connection.get_connection_params()
    for name in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)

    with psycopg.connect(**params, autocommit=True) as listener:
        listener.execute("LISTEN agenda_changes")

        def heard() -> list[str]:
            return [n.payload for n in listener.notifies(timeout=0.5)]

        services.session_update(
            session_id=draft.pk, data={"name": "Draft 2"}, actor=services.SYSTEM
        )
        assert heard() == []  # a submitted session: not on the agenda
        services.session_update(
            session_id=published.pk, data={"name": "Published 2"}, actor=services.SYSTEM
        )
        assert heard() == [str(event.pk)]
        services.session_set_status(session_id=draft.pk, status="approved", actor=services.SYSTEM)
        assert heard() == [str(event.pk)]  # a status move may publish or unpublish
