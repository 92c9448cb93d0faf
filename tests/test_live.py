"""The live agenda's stream: each change of a live session, read from the history (outbox)."""

import datetime as dt
import json
import time

import pytest

from sessions_app import services
from sessions_app.models import SessionChange
from sessions_app.public import notify
from sessions_app.public import stream as live
from tests import factories as f
from tests.concurrency import committed_after

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
                    "id": fields["id"],
                    "event": fields["event"],
                    "data": json.loads(fields["data"]),
                }
            )
    return messages


def start() -> live.Cursor:
    """Where a stream starts now, once some history exists: on PostgreSQL a test's ids
    follow those of earlier tests' rolled-back rows, which before the first row look like
    a change that may still commit."""
    if not SessionChange.objects.exists():
        warm_up = f.live(event=f.event())
        services.session_update(session_id=warm_up.pk, data={"name": "."}, actor=services.SYSTEM)
    return live.start_cursor()


def test_a_change_to_a_live_session_is_sent_with_its_agenda_html(event):
    session = f.live(event=event, name="Keynote")
    cursor = start()

    services.session_update(
        session_id=session.pk, data={"name": "Keynote, moved"}, actor=services.SYSTEM
    )
    new_cursor, messages = live.changes_since(event, cursor)

    (message,) = parse(messages)
    change = SessionChange.objects.get(session_id=session.pk)
    assert message["event"] == "session"
    assert live.Cursor.parse(message["id"]) == new_cursor
    assert has(new_cursor, change.pk)
    assert message["data"]["id"] == session.pk
    assert "Keynote, moved" in message["data"]["html"]
    assert message["data"]["date"] == event.start_date.isoformat()
    assert live.changes_since(event, new_cursor) == (new_cursor, [])


def test_unpublishing_sends_a_removal_and_other_events_are_not_sent(event):
    session = f.live(event=event)
    elsewhere = f.live(event=f.event())
    cursor = start()

    services.session_set_status(session_id=session.pk, status="approved", actor=services.SYSTEM)
    services.session_update(session_id=elsewhere.pk, data={"name": "X"}, actor=services.SYSTEM)

    assert [(m["event"], m["data"]) for m in parse(live.changes_since(event, cursor)[1])] == [
        ("remove", {"id": session.pk})
    ]


def test_a_seat_taken_is_sent_with_the_seats_left(event):
    session = f.live(event=event, capacity=3)
    ada = f.registrant(event=event)
    cursor = start()

    services.selection_add(
        registrant_id=ada.pk, session_id=session.pk, actor=services.Actor(registrant=ada)
    )

    (message,) = parse(live.changes_since(event, cursor)[1])
    assert "2 seats left" in message["data"]["html"]


def test_stream_endpoint_resumes_after_last_event_id(client, event):
    session = f.live(event=event)
    seen = start()
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
    seen = start()

    response = client.get("/agenda/acme/summit/stream", {"last_id": str(seen)})
    body = "".join(chunk.decode() for chunk in response.streaming_content)

    assert body.startswith("retry: 1000\n\n")
    assert ": keep-alive\n\n" in body  # it stayed open, and said so while nothing changed


def test_a_refused_write_sends_nothing_and_each_committed_change_sends_one(event):
    """The outbox is the history: a refusal leaves no row, a write exactly one per change."""
    from django.core.exceptions import ValidationError

    room = f.location(event=event)
    first = f.live(event=event, location=room, start="10:00", end="11:00")
    second = f.live(event=event, location=room, start="12:00", end="13:00")
    cursor = start()

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
    one, two, three = SessionChange.objects.filter(
        event_id=event.pk, id__gt=cursor.settled
    ).order_by("id")

    messages = parse(live.changes_since(event, cursor)[1])
    # One message per changed session, carrying its latest state, at its latest change. The
    # id after the first says what the client has: "Two", not yet "One" (a client that
    # reconnects there gets the first session again); after the second, all three.
    assert [m["data"]["id"] for m in messages] == [second.pk, first.pk]
    assert "Three" in messages[1]["data"]["html"]
    after_two, after_three = (live.Cursor.parse(m["id"]) for m in messages)
    assert [has(after_two, c.pk) for c in (one, two, three)] == [False, True, False]
    assert [has(after_three, c.pk) for c in (one, two, three)] == [True, True, True]


def test_a_client_that_reconnects_after_part_of_a_batch_gets_the_rest_once(client, event):
    first = f.live(event=event, name="First")
    second = f.live(event=event, name="Second", start="14:00", end="15:00")
    cursor = start()
    services.session_update(session_id=first.pk, data={"name": "One"}, actor=services.SYSTEM)
    services.session_update(session_id=second.pk, data={"name": "Two"}, actor=services.SYSTEM)
    services.session_update(session_id=first.pk, data={"name": "Three"}, actor=services.SYSTEM)
    after_two = parse(live.changes_since(event, cursor)[1])[0]["id"]
    rest = parse(live.changes_since(event, live.Cursor.parse(after_two))[1])
    assert [m["data"]["id"] for m in rest] == [first.pk]
    assert parse(live.changes_since(event, live.Cursor.parse(rest[0]["id"]))[1]) == []

    # The stream reads the browser's Last-Event-ID the same way (the stream closes the
    # database connection as it ends: last).
    response = client.get("/agenda/acme/summit/stream", HTTP_LAST_EVENT_ID=after_two)
    messages = parse(chunk.decode() for chunk in response.streaming_content)
    assert [m["data"]["id"] for m in messages] == [first.pk]
    assert "Three" in messages[0]["data"]["html"]


def test_the_page_streams_what_changes_after_it_was_read(client, event):
    import html
    import re
    from urllib.parse import parse_qs, urlsplit

    shown = f.live(event=event, name="Shown")
    start()
    services.session_update(
        session_id=shown.pk, data={"name": "On the page"}, actor=services.SYSTEM
    )
    page = client.get("/agenda/acme/summit/").content.decode()
    assert "On the page" in page
    url = html.unescape(re.search(r'data-stream-url="([^"]+)"', page)[1])
    (raw,) = parse_qs(urlsplit(url).query)["last_id"]
    cursor = live.Cursor.parse(raw)

    assert live.changes_since(event, cursor) == (cursor, [])  # the page has it already
    services.session_update(session_id=shown.pk, data={"name": "After"}, actor=services.SYSTEM)
    (message,) = parse(live.changes_since(event, cursor)[1])
    assert "After" in message["data"]["html"]


def test_other_events_changes_are_not_read(event, django_assert_num_queries):
    cursor = start()
    session = f.live(event=f.event())
    services.session_update(session_id=session.pk, data={"name": "X"}, actor=services.SYSTEM)

    with django_assert_num_queries(1):
        assert live.changes_since(event, cursor) == (cursor, [])


def test_a_missing_id_holds_the_cursor_until_a_row_after_it_is_old(event, settings):
    """A change whose id is missing may still commit; once a later one is older than the
    grace, it never will (it was rolled back)."""
    settings.WEBHOOKS = {**settings.WEBHOOKS, "GAP_GRACE_SECONDS": 60}
    session = f.live(event=event)
    cursor = start()
    for name in ("A", "B", "C"):
        services.session_update(session_id=session.pk, data={"name": name}, actor=services.SYSTEM)
    a, b, c = SessionChange.objects.filter(id__gt=cursor.settled).order_by("id")
    missing = b.pk
    b.delete()  # as if its write had not committed yet

    held, messages = live.changes_since(event, cursor)
    assert "C" in parse(messages)[0]["data"]["html"]
    assert [has(held, i) for i in (a.pk, missing, c.pk)] == [True, False, True]
    assert held.settled < missing
    assert live.changes_since(event, held) == (held, [])  # read again, not sent again

    SessionChange.objects.filter(pk=c.pk).update(created_at=c.created_at - dt.timedelta(hours=1))
    assert live.changes_since(event, held) == (live.Cursor(c.pk), [])


@pytest.mark.parametrize(
    "raw, cursor",
    [
        ("12", live.Cursor(12)),
        ("12:15,13", live.Cursor(12, frozenset({13, 15}))),
        ("12:11,14", live.Cursor(12, frozenset({14}))),  # what it has settled is not carried
        ("", None),
        ("-1", None),
        ("12:", None),
        ("12:a", None),
        ("١٢", None),  # digits, but not ASCII ones
        ("9" * 19, None),
        ("1:" + ",".join(str(i) for i in range(2, 2 + live.CARRIED + 1)), None),
    ],
)
def test_a_cursor_reads_back_what_it_wrote_and_nothing_else(raw, cursor):
    assert live.Cursor.parse(raw) == cursor
    if cursor is not None and raw != "12:11,14":
        assert live.Cursor.parse(str(cursor)) == cursor


def test_a_stream_with_a_last_event_id_it_cannot_read_starts_now(client, event):
    session = f.live(event=event)
    services.session_update(session_id=session.pk, data={"name": "Old"}, actor=services.SYSTEM)

    response = client.get("/agenda/acme/summit/stream", HTTP_LAST_EVENT_ID="1:x" + "9" * 5000)

    assert response.status_code == 200
    assert parse(chunk.decode() for chunk in response.streaming_content) == []


def has(cursor: live.Cursor, change_id: int) -> bool:
    """The client at ``cursor`` was sent the change ``change_id``."""
    return change_id <= cursor.settled or change_id in cursor.sent


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
    seen = start()

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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_change_committed_after_a_later_one_is_still_sent():
    """A history row's id is handed out when it is inserted, not when it commits: a slow
    write's row can become visible after a quicker write's higher one."""
    event = f.event(organisation=f.organisation(slug="acme"), slug="summit")
    slow = f.live(event=event, name="Slow")
    quick = f.live(event=event, name="Quick", start="14:00", end="15:00")
    cursor = start()

    def rename_slowly():
        services.session_update(
            session_id=slow.pk, data={"name": "Slow, renamed"}, actor=services.SYSTEM
        )

    with committed_after(rename_slowly):
        services.session_update(
            session_id=quick.pk, data={"name": "Quick, renamed"}, actor=services.SYSTEM
        )
        cursor, messages = live.changes_since(event, cursor)
        assert [m["data"]["id"] for m in parse(messages)] == [quick.pk]

    cursor, messages = live.changes_since(event, cursor)
    (message,) = parse(messages)
    assert message["data"]["id"] == slow.pk
    assert "Slow, renamed" in message["data"]["html"]
    assert live.changes_since(event, cursor)[1] == []
