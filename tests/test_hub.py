"""The live agenda under ASGI: one read per change for every open stream of a process
(sessions_app.public.hub). The tests commit (transaction=True): the hub reads from a thread
of its own, on a connection of its own, as it does in a server."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from django.test import AsyncClient

from sessions_app import services
from sessions_app.public import hub as hub_module
from sessions_app.public import stream as live
from sessions_app.public.hub import hub
from tests import factories as f
from tests.concurrency import run_in_own_loop
from tests.test_live import parse, start

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/agenda/acme/summit/stream"


@pytest.fixture
def event():
    organisation = f.organisation(slug="acme")
    return f.event(organisation=organisation, slug="summit")


@pytest.fixture(autouse=True)
def quick(settings):
    settings.AGENDA_STREAM_POLL_SECONDS = 0.05
    settings.AGENDA_STREAM_FALLBACK_SECONDS = 0.05
    settings.AGENDA_STREAM_MAX_SECONDS = 30
    hub.closing = False
    yield
    hub.closing = False


def run(coroutine_function):
    return run_in_own_loop(coroutine_function, timeout=30)


class Reader:
    """One client of a stream: a task reads it, as a server's task sends it, and closing the
    client cancels that task, as a server does when the client goes."""

    def __init__(self, response) -> None:
        self.response = response
        self.text = ""
        self.ended = False
        self._chunks: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.ensure_future(self._pump(aiter(response.streaming_content)))

    async def _pump(self, chunks) -> None:
        async for chunk in chunks:
            await self._chunks.put(chunk.decode())
        await self._chunks.put(None)

    async def until(self, text: str, timeout: float = 5) -> str:
        async with asyncio.timeout(timeout):
            while text not in self.text and not self.ended:
                chunk = await self._chunks.get()
                if chunk is None:
                    self.ended = True
                else:
                    self.text += chunk
        assert text in self.text, self.text
        return self.text

    async def rest(self, timeout: float = 5) -> str:
        async with asyncio.timeout(timeout):
            while not self.ended:
                chunk = await self._chunks.get()
                if chunk is None:
                    self.ended = True
                else:
                    self.text += chunk
        return self.text

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def open_stream(headers=None) -> Reader:
    response = await AsyncClient().get(URL, headers=headers or {})
    assert response.status_code == 200, response
    return Reader(response)


async def rename(session_id: int, name: str) -> None:
    def write():
        from django.db import connection

        try:
            services.session_update(
                session_id=session_id, data={"name": name}, actor=services.SYSTEM
            )
        finally:
            connection.close()

    await asyncio.to_thread(write)


def counting(monkeypatch, name: str) -> list:
    """Calls of the hub's read ``name``, as they go to its database thread."""
    calls = []
    original = getattr(hub_module, name)

    def counted(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(hub_module, name, counted)
    return calls


def test_a_change_is_read_once_for_every_open_stream_of_the_event(event, monkeypatch):
    session = f.live(event=event, name="Keynote")
    start()
    reads = counting(monkeypatch, "_advance")

    async def scenario():
        streams = [await open_stream() for _ in range(40)]
        for reader in streams:
            assert (await reader.until("retry: 1000\n\n")) == "retry: 1000\n\n"
        await asyncio.sleep(0.3)  # every stream waits on the head
        before = len(reads)
        await rename(session.pk, "Keynote, moved")
        received = [await reader.until("Keynote, moved") for reader in streams]
        read_for_it = len(reads) - before
        for reader in streams:  # the clients go
            await reader.close()
        await asyncio.sleep(0.1)
        return received, read_for_it, hub.open, len(hub.topics)

    received, read_for_it, still_open, topics = run(scenario)

    assert len(received) == 40
    assert all(parse([text])[-1]["data"]["id"] == session.pk for text in received)
    # The reader polls every 0.05 s here: a few looks while the change came, not 40.
    assert read_for_it < 15
    assert (still_open, topics) == (0, 0)  # and the event's reader is stopped


def test_streams_that_start_from_the_same_cursor_share_one_catch_up(event, monkeypatch):
    session = f.live(event=event)
    seen = start()
    services.session_update(session_id=session.pk, data={"name": "Missed"}, actor=services.SYSTEM)
    catch_ups = counting(monkeypatch, "_catch_up")

    async def scenario():
        streams = [await open_stream({"Last-Event-ID": str(seen)}) for _ in range(25)]
        received = [await reader.until("Missed") for reader in streams]
        for reader in streams:
            await reader.close()
        return received

    received = run(scenario)

    assert all("Missed" in text for text in received)
    assert len(catch_ups) == 1


def test_a_stream_beyond_what_the_process_holds_is_refused_before_the_database(
    event, settings, monkeypatch
):
    settings.AGENDA_STREAM_MAX_OPEN = 2
    f.live(event=event)

    async def scenario():
        first = await open_stream()
        second = await open_stream()
        for reader in (first, second):
            await reader.until("retry")

        async def no_database(*args):
            raise AssertionError("a refused stream read the database")

        monkeypatch.setattr(hub.database, "run", no_database)
        refused = await AsyncClient().get(URL)
        monkeypatch.undo()
        for reader in (first, second):
            await reader.close()
        return refused

    refused = run(scenario)

    assert refused.status_code == 503
    assert 2 <= int(refused["Retry-After"]) <= 10
    assert refused["Cache-Control"] == "no-store"


def test_a_client_that_does_not_read_is_cut_off_when_its_queue_fills(event, settings):
    settings.AGENDA_STREAM_QUEUE = 3
    settings.AGENDA_STREAM_HEARTBEAT_SECONDS = 0.05

    async def scenario():
        response = await AsyncClient().get(URL)
        chunks = aiter(response.streaming_content)
        writer = asyncio.ensure_future(anext(chunks))  # the retry line, then no more reads:
        await writer  # as a server's task stuck writing to a client that vanished
        (topic,) = hub.topics.values()
        (stream,) = topic.streams
        stuck = asyncio.ensure_future(asyncio.sleep(3600))
        stream.task = stuck
        await asyncio.sleep(0.5)  # heartbeats pile up: 3 fit, the 4th cuts it off
        return stream.cut, stuck.cancelled()

    cut, cancelled = run(scenario)

    assert cut and cancelled


def test_a_server_going_down_sends_every_stream_away_with_a_spread_retry(event, settings):
    settings.AGENDA_STREAM_RETRY_SPREAD_SECONDS = 10

    async def scenario():
        streams = [await open_stream() for _ in range(20)]
        for reader in streams:
            await reader.until("retry")
        await asyncio.sleep(0.2)
        sent = hub.send_everyone_away()
        endings = [(await reader.rest()).split("retry: 1000\n\n", 1)[1] for reader in streams]
        refused = await AsyncClient().get(URL)
        return sent, endings, refused.status_code

    sent, endings, refused = run(scenario)

    assert sent == 20
    retries = [int(text.split("retry: ")[1].split()[0]) for text in endings]
    assert all(1000 <= ms <= 11000 for ms in retries)
    assert len(set(retries)) > 10  # spread, not all at once
    assert refused == 503


def test_under_asgi_a_stream_with_a_cursor_it_cannot_read_starts_now(event):
    session = f.live(event=event)
    start()

    async def scenario():
        reader = await open_stream({"Last-Event-ID": "not a cursor"})
        await reader.until("retry: 1000\n\n")
        await asyncio.sleep(0.3)
        await rename(session.pk, "From now")
        text = await reader.until("From now")
        await reader.close()
        return text

    (message,) = parse([run(scenario)])
    assert live.Cursor.parse(message["id"]) is not None


def test_under_asgi_an_unknown_event_is_404(event):
    async def scenario():
        return (await AsyncClient().get("/agenda/nobody/nothing/stream")).status_code

    assert run(scenario) == 404
