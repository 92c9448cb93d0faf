"""One process's open agenda streams under ASGI, and the one reader that feeds them.

An open stream costs no database connection and never queries on its own. Per event with
open streams, the process keeps a ``Topic``: its head (a ``Cursor`` into the history), and
a reader task that wakes when the database notifies that the event changed
(``sessions_app.public.notify``; on SQLite, or while the listener reconnects, it polls),
reads the changes after the head once, renders each changed session once, and puts the
same text in the queue of every open stream of the event. Every read goes through one
thread of the process (``notify.DatabaseThread``), which listens on the same connection
between reads: the process's streams hold that one connection in all, however many are
open.

A stream that arrives with a cursor behind the head (its page was read before the last
changes, or it reconnects with ``Last-Event-ID``) is caught up from the history once per
distinct cursor: the thousands that loaded the same page share one read. It subscribes
before it reads, so a change that commits meanwhile reaches it live, maybe twice, never
not at all (the page takes a session's message as often as it comes).

Limits: a process holds ``AGENDA_STREAM_MAX_OPEN`` streams and answers the next one 503
with a jittered ``Retry-After`` before anything else; a stream whose queue fills (the client
reads slower than the agenda changes, or vanished without a word and the heartbeats pile
up) is cut off; a stream ends after ``AGENDA_STREAM_MAX_SECONDS`` (jittered) and when the
server shuts down (``Hub.send_everyone_away``), each time with a ``retry`` hint spread
over ``AGENDA_STREAM_RETRY_SPREAD_SECONDS``, so that they do not all come back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from sessions_app.models import Event
from sessions_app.public import notify
from sessions_app.public.stream import Cursor, changes_since, start_cursor

logger = logging.getLogger("sessions_app.stream")

GOODBYE = object()


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def retry_hint() -> str:
    """An SSE ``retry`` field spread over the configured window: a crowd sent away at once
    comes back over seconds, not in the same millisecond."""
    spread = _setting("AGENDA_STREAM_RETRY_SPREAD_SECONDS", 10.0)
    return f"retry: {int(1000 + random.random() * spread * 1000)}\n\n"  # noqa: S311


@dataclass(eq=False)
class Stream:
    """One open stream: what is still to be written to it, and the task writing it."""

    queue: asyncio.Queue
    task: asyncio.Task | None
    cut: bool = False

    def offer(self, text: Any) -> bool:
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        return True


@dataclass(eq=False)
class Topic:
    """One event's open streams in this process, and where its reader is in the history."""

    event: Event
    head: Cursor | None = None
    streams: set[Stream] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task | None = None
    catch_ups: dict[str, asyncio.Future] = field(default_factory=dict)


def _catch_up(event: Event, cursor: Cursor) -> list[str]:
    """Every message of the event's changes after ``cursor``, as far as the history has
    settled (1 query when there are none)."""
    messages: list[str] = []
    while True:
        after, batch = changes_since(event, cursor)
        messages += batch
        if not batch or after == cursor:
            return messages
        cursor = after


def _advance(event_id: int, head: Cursor) -> tuple[Event | None, Cursor, list[str]]:
    """The event as it is now and the messages of its changes after ``head``."""
    event = Event.objects.select_related("organisation").filter(pk=event_id).first()
    if event is None:
        return None, head, []
    head, messages = changes_since(event, head)
    return event, head, messages


def _find_event(organisation_slug: str, event_slug: str) -> Event | None:
    return (
        Event.objects.select_related("organisation")
        .filter(organisation__slug=organisation_slug, slug=event_slug)
        .first()
    )


class Hub:
    def __init__(self) -> None:
        self.topics: dict[int, Topic] = {}
        self.open = 0
        self.closing = False
        self.database = notify.database
        self._events: dict[tuple[str, str], tuple[float, asyncio.Future]] = {}
        self._heartbeat: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- admission ---------------------------------------------------------------------

    def full(self) -> bool:
        return self.closing or self.open >= int(_setting("AGENDA_STREAM_MAX_OPEN", 5000))

    async def event(self, organisation_slug: str, event_slug: str) -> Event | None:
        """The event of a stream URL, read once per ``EVENT_TTL`` for the whole crowd."""
        self._ensure_loop()
        key = (organisation_slug, event_slug)
        now = time.monotonic()
        known = self._events.get(key)
        failed = (
            known is not None
            and known[1].done()
            and (known[1].cancelled() or known[1].exception() is not None)
        )
        if known is None or known[0] < now or failed:
            future = asyncio.ensure_future(self.database.run(_find_event, *key))
            ttl = _setting("AGENDA_STREAM_EVENT_TTL_SECONDS", 30.0)
            self._events[key] = known = (now + ttl, future)
            if len(self._events) > 10_000:  # slugs nobody has: forget them all now and then
                self._events = {key: known}
        return await asyncio.shield(known[1])

    # --- streams -----------------------------------------------------------------------

    def _ensure_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): nothing of the old one holds
            self._loop = loop
            self.topics = {}
            self.open = 0
            self._events = {}
            self._heartbeat = None
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = loop.create_task(self._beat(), name="agenda-heartbeat")

    async def stream(self, event: Event, cursor: Cursor | None) -> AsyncIterator[str]:
        """The text of one open stream of ``event`` from ``cursor`` (None: from now)."""
        self._ensure_loop()
        topic = self.topics.get(event.pk)
        if topic is None:
            topic = self.topics[event.pk] = Topic(event=event)
            topic.reader = asyncio.get_running_loop().create_task(
                self._read(topic), name=f"agenda-reader-{event.pk}"
            )
        me = Stream(
            queue=asyncio.Queue(maxsize=int(_setting("AGENDA_STREAM_QUEUE", 32))),
            task=asyncio.current_task(),
        )
        topic.streams.add(me)
        self.open += 1
        jitter = 0.9 + 0.2 * random.random()  # noqa: S311  (spread, not a secret)
        lifetime = _setting("AGENDA_STREAM_MAX_SECONDS", 300.0) * jitter
        deadline = time.monotonic() + lifetime
        try:
            yield "retry: 1000\n\n"
            await topic.ready.wait()
            if cursor is not None and cursor != topic.head:
                messages = await self._caught_up(topic, cursor)
                if messages:
                    yield "".join(messages)
            while not me.cut:
                left = deadline - time.monotonic()
                if left <= 0:
                    yield retry_hint()
                    return
                try:
                    item = await asyncio.wait_for(me.queue.get(), timeout=left)
                except TimeoutError:
                    continue
                if item is GOODBYE:
                    yield retry_hint()
                    return
                yield item
        finally:
            topic.streams.discard(me)
            self.open -= 1
            if not topic.streams and self.topics.get(event.pk) is topic:
                del self.topics[event.pk]
                if topic.reader is not None:
                    topic.reader.cancel()

    async def _caught_up(self, topic: Topic, cursor: Cursor) -> list[str]:
        key = str(cursor)
        future = topic.catch_ups.get(key)
        if future is None:
            if len(topic.catch_ups) > 1000:
                topic.catch_ups.clear()
            future = asyncio.ensure_future(self.database.run(_catch_up, topic.event, cursor))
            topic.catch_ups[key] = future
        try:
            return await asyncio.shield(future)
        except Exception:
            topic.catch_ups.pop(key, None)
            raise

    def _fan_out(self, topic: Topic, text: Any) -> None:
        for stream in list(topic.streams):
            if not stream.offer(text):
                self._cut(stream, "it reads slower than the agenda changes")

    def _cut(self, stream: Stream, why: str) -> None:
        if stream.cut:
            return
        stream.cut = True
        logger.info("agenda stream cut off: %s", why)
        if stream.task is not None:
            stream.task.cancel()

    async def _read(self, topic: Topic) -> None:
        """The event's reader: after each notification (or poll), one read for every stream."""
        poll = _setting("AGENDA_STREAM_POLL_SECONDS", 0.5)
        fallback = _setting("AGENDA_STREAM_FALLBACK_SECONDS", 5.0)
        coalesce = _setting("AGENDA_STREAM_COALESCE_SECONDS", 0.05)
        listener = notify.bell()
        with listener.subscribe(topic.event.pk) if listener else contextlib.nullcontext() as rung:
            while True:
                try:
                    if topic.head is None:
                        topic.head = await self.database.run(start_cursor)
                        topic.ready.set()
                    if rung is not None:
                        rung.clear()  # before the read: a change during it rings again
                    event, head, messages = await self.database.run(
                        _advance, topic.event.pk, topic.head
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database is away: try again, keep the streams
                    logger.warning("agenda reader: %s", exc)
                    await asyncio.sleep(poll * 4)
                    continue
                if event is not None:
                    topic.event = event
                if head != topic.head or messages:
                    topic.catch_ups.clear()
                topic.head = head
                if messages:
                    self._fan_out(topic, "".join(messages))
                listening = rung is not None and listener.listening
                # A change may still commit below the head (head.sent): look again soon.
                wait = fallback if listening and not head.sent else poll
                if rung is None:
                    await asyncio.sleep(wait)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(rung.wait(), wait)
                # A moment before the read: the writes of one burst (a grid drag, an import)
                # come in one read, and the writer has given its connection back to the pool.
                await asyncio.sleep(coalesce)

    async def _beat(self) -> None:
        """Every heartbeat, a comment to every stream: proxies keep the connection, and a
        client that vanished without a word has its queue fill up and is cut off."""
        while True:
            await asyncio.sleep(_setting("AGENDA_STREAM_HEARTBEAT_SECONDS", 15.0))
            for topic in list(self.topics.values()):
                self._fan_out(topic, ": keep-alive\n\n")

    def send_everyone_away(self) -> int:
        """The server is going down: every open stream ends with a spread-out ``retry``, and
        no new one is taken. Returns how many were open."""
        self.closing = True
        count = 0
        for topic in list(self.topics.values()):
            for stream in list(topic.streams):
                count += 1
                with contextlib.suppress(asyncio.QueueFull):
                    while stream.queue.full():  # what it had not read yet gives way
                        stream.queue.get_nowait()
                    stream.queue.put_nowait(GOODBYE)
        return count


hub = Hub()
