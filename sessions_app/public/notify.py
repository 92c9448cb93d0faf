"""Wake the open agenda streams of an event the moment it changes, on any app server, and
know each event's agenda version without a query.

On PostgreSQL a trigger on the history table (migration 0015) sends
``NOTIFY agenda_changes, '<event id>'`` for every row the agenda shows, and the agenda
version's trigger (migration 0026) ``NOTIFY agenda_versions, '<event id>:<version>'``;
PostgreSQL delivers them when the writing transaction commits, and never for one that rolls
back, so they are as transactional as the rows themselves and cost the request no statement.

Each ASGI server process has one thread for the live agenda's database work
(``DatabaseThread``): it runs the reads of the process's streams and, on PostgreSQL, LISTENs
on the same connection between them, so the process's streams cost it one connection in
all. What it hears goes to the ``Bell`` on the event loop, which wakes the streams of that
event and keeps the newest version of each. While it is (re)connecting, and on SQLite,
streams poll every ``AGENDA_STREAM_POLL_SECONDS`` instead; with it, they still look every
``AGENDA_STREAM_FALLBACK_SECONDS`` in case a notification was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, connections

# Named as before the move by concern: log filters and alerts key on it.
logger = logging.getLogger("sessions_app.notify")

CHANNEL = "agenda_changes"
# "<event id>:<version>" for every new agenda version (migration 0026), on commit.
VERSIONS = "agenda_versions"
_RECONNECT_SECONDS = 2.0
# How long the thread waits for a job before it looks for notifications again.
_HEAR_EVERY_SECONDS = 0.02


class Bell:
    """What this process has heard, on its event loop: the streams waiting on each event,
    whether the listener is connected, and the newest agenda version of each event."""

    def __init__(self) -> None:
        self.waiting: dict[int, set[asyncio.Event]] = defaultdict(set)
        self.listening = False
        # The newest agenda version notified per event, while listening; ``generation``
        # grows at every (re)connection, when everything notified before is forgotten.
        self.versions: dict[int, int] = {}
        self.generation = 0

    def ensure_listening(self) -> None:
        """Have the database thread listen for this process's running event loop."""
        if database.listen(self, asyncio.get_running_loop()):
            self.disconnected()  # for this loop, nothing is heard until it LISTENs anew

    @contextlib.contextmanager
    def subscribe(self, event_id: int) -> Iterator[asyncio.Event]:
        """An ``asyncio.Event`` set whenever the event changes, for as long as it is held."""
        self.ensure_listening()
        rung = asyncio.Event()
        self.waiting[event_id].add(rung)
        try:
            yield rung
        finally:
            self.waiting[event_id].discard(rung)
            if not self.waiting[event_id]:
                del self.waiting[event_id]

    # Called on the event loop by the database thread.

    def connected(self) -> None:
        self.versions = {}
        self.generation += 1
        self.listening = True
        self._ring_all()  # whatever happened while we were away

    def disconnected(self) -> None:
        self.listening = False
        self.versions = {}

    def heard(self, channel: str, payload: str) -> None:
        if channel == VERSIONS:
            event_id, _, version = payload.partition(":")
            if event_id.isdigit() and version.isdigit():
                self.note_version(int(event_id), int(version))
        elif payload.isdigit():
            for rung in self.waiting.get(int(payload), ()):
                rung.set()

    def note_version(self, event_id: int, version: int) -> None:
        """What this process knows of ``event_id``'s agenda version: only grows."""
        if version > self.versions.get(event_id, -1):
            self.versions[event_id] = version

    def _ring_all(self) -> None:
        for waiting in self.waiting.values():
            for rung in waiting:
                rung.set()


class DatabaseThread:
    """The one thread that reads the database for this process's live agenda, and listens
    between reads where the database can notify. Listening, it keeps its connection (on
    ASGI, one of the pool's); otherwise it closes it after each read."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._bell: Bell | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listening = False
        self._relisten = False
        self._retry_at = 0.0

    def listen(self, bell: Bell, loop: asyncio.AbstractEventLoop) -> bool:
        """Listen for ``bell`` on ``loop``; True when that is new (a new loop: tests)."""
        changed = self._bell is not bell or self._loop is not loop
        if changed:
            self._bell, self._loop = bell, loop
            self._relisten = True  # tell the new loop, from a fresh LISTEN
            self._jobs.put((_nothing, (), None, None))  # wake a thread that waits for jobs
        self._start()
        return changed

    def release(self, timeout: float = 10.0) -> None:
        """Stop listening and close the thread's connection, and wait until it has (the
        tests, before their database is dropped)."""
        if self._thread is None or not self._thread.is_alive():
            return
        done = threading.Event()

        def forget() -> None:
            self._drop()
            self._bell = self._loop = None
            done.set()

        self._jobs.put((forget, (), None, None))
        done.wait(timeout)

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the thread, for the running event loop."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._start()
        self._jobs.put((fn, args, loop, future))
        return await future

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._main, name="agenda-database", daemon=True
                )
                self._thread.start()

    def _main(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=_HEAR_EVERY_SECONDS if self._bell else None)
            except queue.Empty:
                job = None
            if job is not None:
                self._do(*job)
            if self._bell is not None:
                self._hear()
            elif job is not None:
                connection.close()

    def _do(self, fn, args, loop, future) -> None:
        try:
            outcome = (True, fn(*args))
        except BaseException as exc:
            outcome = (False, exc)
            self._drop()  # whatever it was, the next job starts on a fresh connection
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # that loop has ended (a test's)
            loop.call_soon_threadsafe(_settle, future, outcome)

    def _post(self, method: Callable[..., None], *args: Any) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(method, *args)

    def _drop(self) -> None:
        if self._listening:
            self._listening = False
            if self._bell is not None:
                self._post(self._bell.disconnected)
        with contextlib.suppress(Exception):
            connection.close()

    def _hear(self) -> None:
        bell = self._bell
        if self._relisten:
            self._relisten = False
            self._drop()
            self._retry_at = 0.0
        if not self._listening:
            if time.monotonic() < self._retry_at:
                return
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"LISTEN {CHANNEL}")
                    cursor.execute(f"LISTEN {VERSIONS}")
            except Exception as exc:  # the database is away: streams poll, come back later
                logger.warning("agenda listener: %s; polling until it is back", exc)
                self._drop()
                self._retry_at = time.monotonic() + _RECONNECT_SECONDS
                return
            self._listening = True
            self._post(bell.connected)
        try:
            for note in connection.connection.notifies(timeout=0):
                self._post(bell.heard, note.channel, note.payload)
        except Exception as exc:
            logger.warning("agenda listener: %s; polling until it is back", exc)
            self._drop()
            self._retry_at = time.monotonic() + _RECONNECT_SECONDS


def _nothing() -> None:
    return None


def _settle(future: asyncio.Future, outcome: tuple[bool, Any]) -> None:
    if future.done():  # the caller went away meanwhile
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


database = DatabaseThread()
_bell: Bell | None = None


def bell() -> Bell | None:
    """This process's listener, or None where the database cannot notify (SQLite)."""
    global _bell
    if connections["default"].vendor != "postgresql":
        return None
    if _bell is None:
        _bell = Bell()
    return _bell
