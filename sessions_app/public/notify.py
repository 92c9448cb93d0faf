"""Wake the open agenda streams of an event the moment it changes, on any app server.

On PostgreSQL a trigger on the history table (migration 0015) sends
``NOTIFY agenda_changes, '<event id>'`` for every row inserted; PostgreSQL delivers it
when the writing transaction commits, and never for one that rolls back, so it is as
transactional as the outbox row itself and costs the request no statement. Each ASGI
server process keeps one connection that LISTENs and wakes the streams of that event,
which then read the outbox as before. While the listener is (re)connecting, and on
SQLite, streams poll every ``AGENDA_STREAM_POLL_SECONDS`` instead; with it, they still
look every ``AGENDA_STREAM_FALLBACK_SECONDS`` in case a notification was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator

from django.db import connections

# Named as before the move by concern: log filters and alerts key on it.
logger = logging.getLogger("sessions_app.notify")

CHANNEL = "agenda_changes"
# "<event id>:<version>" for every new agenda version (migration 0026), on commit.
VERSIONS = "agenda_versions"
_RECONNECT_SECONDS = 2.0


class Bell:
    """One process's listener, and the streams waiting on it, by event id."""

    def __init__(self) -> None:
        self.waiting: dict[int, set[asyncio.Event]] = defaultdict(set)
        self.listening = False
        # The newest agenda version notified per event, while listening; ``generation``
        # grows at every (re)connection, when everything notified before is forgotten.
        self.versions: dict[int, int] = {}
        self.generation = 0
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def ensure_listening(self) -> None:
        """Start this process's listener on the running loop, if it is not running."""
        self._ensure_listening()

    def _ensure_listening(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self.listening = False
            self._task = loop.create_task(self._listen(), name="agenda-listener")

    @contextlib.contextmanager
    def subscribe(self, event_id: int) -> Iterator[asyncio.Event]:
        """An ``asyncio.Event`` set whenever the event changes, for as long as it is held."""
        self._ensure_listening()
        rung = asyncio.Event()
        self.waiting[event_id].add(rung)
        try:
            yield rung
        finally:
            self.waiting[event_id].discard(rung)
            if not self.waiting[event_id]:
                del self.waiting[event_id]

    def _ring(self, payload: str) -> None:
        if payload.isdigit():
            for rung in self.waiting.get(int(payload), ()):
                rung.set()

    def _versioned(self, payload: str) -> None:
        event_id, _, version = payload.partition(":")
        if event_id.isdigit() and version.isdigit():
            self.note_version(int(event_id), int(version))

    def note_version(self, event_id: int, version: int) -> None:
        """What this process knows of ``event_id``'s agenda version: only grows."""
        if version > self.versions.get(event_id, -1):
            self.versions[event_id] = version

    def _ring_all(self) -> None:
        for waiting in self.waiting.values():
            for rung in waiting:
                rung.set()

    async def _listen(self) -> None:
        import psycopg

        params = connections["default"].get_connection_params()
        for name in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(name, None)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    **params, autocommit=True
                ) as listener:
                    await listener.execute(f"LISTEN {CHANNEL}")
                    await listener.execute(f"LISTEN {VERSIONS}")
                    self.versions = {}
                    self.generation += 1
                    self.listening = True
                    self._ring_all()  # whatever happened while we were away
                    async for note in listener.notifies():
                        if note.channel == VERSIONS:
                            self._versioned(note.payload)
                        else:
                            self._ring(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: poll meanwhile, come back
                logger.warning("agenda listener: %s; polling until it is back", exc)
            finally:
                self.listening = False
                self.versions = {}
            await asyncio.sleep(_RECONNECT_SECONDS)


_bell: Bell | None = None


def bell() -> Bell | None:
    """This process's listener, or None where the database cannot notify (SQLite)."""
    global _bell
    if connections["default"].vendor != "postgresql":
        return None
    if _bell is None:
        _bell = Bell()
    return _bell
