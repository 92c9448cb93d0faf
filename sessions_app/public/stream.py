"""The live agenda: Server-Sent Events at ``/agenda/<organisation>/<event>/stream``.

Every write leaves its history row (``SessionChange``) in the same transaction, so the
history is the outbox the stream reads: it polls the changes after its ``Cursor`` and sends
each changed session of its event as the agenda renders it (``session``) or its removal
when it is no longer live (``remove``). The event id of each message is the cursor after
it, so a client that reconnects with ``Last-Event-ID`` (browsers do it by themselves) gets
what it missed. It works whichever app server made the change, on SQLite and PostgreSQL
alike, because it reads the shared database.

Ids are handed out when a row is inserted, not when it commits, so on PostgreSQL a slow
write's row can become visible after a quicker write's higher one, and a stream that had
moved past the higher id would never send it. A cursor is therefore the last id up to which
nothing more can appear, with the ids after it of this event's changes that were sent
already. A missing id holds it until the id appears or a row after it is
``GAP_GRACE_SECONDS`` old (then it was rolled back), as the webhooks' outbox does; the
event's changes past it are sent once all the same.

Under an ASGI server (``make serve``) the streams stay open and a process reads each change
once for all of them (``sessions_app.public.hub``). Under WSGI (``runserver``, gunicorn's
sync workers) an open stream would hold a whole worker, so there it sends what is new and
ends (``sync_stream``: ``AGENDA_STREAM_WSGI_SECONDS``, default 0: one look); the browser's
EventSource comes back after the ``retry`` of 1 s with ``Last-Event-ID``, so a change still
shows within about a second, at the cost of one short request, and a few queries, per
second per open agenda.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections
from django.template.loader import render_to_string
from django.utils import timezone

from sessions_app import selectors
from sessions_app.models import Event, SessionChange
from sessions_app.selectors import newest_settled_id, settled_now

BATCH = 200
# Ids of changes sent past the cursor that a message's id carries at most; with more (a
# missing id and a burst of this event's changes after it), a reconnect may send a few
# sessions again, which the page takes as it takes any change.
CARRIED = 50
CURSOR_PATTERN = re.compile(
    rf"([0-9]{{1,18}})(?::([0-9]{{1,18}}(?:,[0-9]{{1,18}}){{0,{CARRIED - 1}}}))?"
)


def _settings() -> tuple[float, float, float]:
    return (
        getattr(settings, "AGENDA_STREAM_POLL_SECONDS", 0.5),
        getattr(settings, "AGENDA_STREAM_HEARTBEAT_SECONDS", 15.0),
        getattr(settings, "AGENDA_STREAM_WSGI_SECONDS", 0.0),
    )


def _message(event: str, data: dict, *, event_id: str | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines += [f"event: {event}", f"data: {json.dumps(data, separators=(',', ':'))}"]
    return "\n".join(lines) + "\n\n"


@dataclass(frozen=True)
class Cursor:
    """Where a stream is in the history: every change up to ``settled`` was sent (or was
    another event's) and none can still appear there; ``sent`` are the ids after it whose
    changes were sent too."""

    settled: int
    sent: frozenset[int] = frozenset()

    def __str__(self) -> str:
        if not self.sent or len(self.sent) > CARRIED:
            return str(self.settled)
        return f"{self.settled}:{','.join(map(str, sorted(self.sent)))}"

    @classmethod
    def parse(cls, raw: str) -> Cursor | None:
        """A cursor from a message id (``Last-Event-ID``); None for anything else."""
        match = CURSOR_PATTERN.fullmatch(raw) if raw.isascii() else None
        if match is None:
            return None
        settled, sent = match.groups()
        ids = frozenset(int(i) for i in sent.split(",")) if sent else frozenset()
        return cls(int(settled), frozenset(i for i in ids if i > int(settled)))


def start_cursor() -> Cursor:
    """A cursor for a stream that starts now: after every change committed so far, before
    any that may still commit (1 query)."""
    return Cursor(settled_now())


def page_cursor(event: Event) -> Cursor:
    """The cursor of an agenda page read after this: the event's last change, or before it
    when a change may still commit. It stays the same while the event does not change, so
    the page keeps its ETag (2 queries)."""
    latest = (
        SessionChange.objects.filter(event_id=event.pk)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    now = start_cursor()
    return now if latest is None else Cursor(min(now.settled, latest))


def _settle(settled: int, high: int, now: dt.datetime) -> int:
    """How far a cursor at ``settled`` may move towards ``high``, a change it has read:
    past every id handed out before the grace, then all the way if no id after that is
    missing (2 queries; the count reads only the changes of the grace)."""
    if high <= settled:
        return settled
    settled = max(settled, min(newest_settled_id(now) or 0, high))
    if settled == high:
        return high
    present = SessionChange.objects.filter(id__gt=settled, id__lte=high).count()
    return high if present == high - settled else settled


def changes_since(event: Event, cursor: Cursor) -> tuple[Cursor, list[str]]:
    """The messages for the event's changes after ``cursor``, and the new cursor (1 query
    when nothing changed, 4 when the event did)."""
    rows = list(
        SessionChange.objects.filter(event_id=event.pk, id__gt=cursor.settled)
        .exclude(id__in=cursor.sent)
        .order_by("id")
        .values_list("id", "session_id")[:BATCH]
    )
    if not rows and not cursor.sent:
        return cursor, []
    settled = _settle(
        cursor.settled, max([*cursor.sent, *(row[0] for row in rows)]), timezone.now()
    )
    if not rows:
        return Cursor(settled, frozenset(i for i in cursor.sent if i > settled)), []
    by_session: dict[int, list[int]] = {}
    for change_id, session_id in rows:
        by_session.setdefault(session_id, []).append(change_id)
    live = {
        session.pk: session
        for session in selectors.agenda_sessions(event).filter(pk__in=list(by_session))
    }
    # A session's message goes at its last change, with the cursor as it is once the
    # client has it: before the first change still to be sent, whatever the batch holds.
    pending = [row[0] for row in rows]
    sent = set(cursor.sent)
    messages = []
    after = cursor
    for session_id, change_ids in sorted(by_session.items(), key=lambda item: item[1][-1]):
        sent.update(change_ids)
        pending = [i for i in pending if i not in sent]
        at = min(settled, pending[0] - 1) if pending else settled
        after = Cursor(at, frozenset(i for i in sent if i > at))
        messages.append(_session_message(event, session_id, live.get(session_id), after))
    return after, messages


def _session_message(event: Event, session_id: int, session, cursor: Cursor) -> str:
    if session is None or session.starts_at is None:
        return _message("remove", {"id": session_id}, event_id=str(cursor))
    html = render_to_string("agenda/_session.html", {"session": session, "event": event})
    day = session.starts_at.astimezone(zoneinfo.ZoneInfo(event.timezone))
    return _message(
        "session",
        {
            "id": session_id,
            "html": html,
            "date": day.date().isoformat(),
            "starts_at": session.starts_at.isoformat(),
        },
        event_id=str(cursor),
    )


def requested_cursor(request) -> Cursor | None:
    """The cursor a stream request names (``Last-Event-ID``, or ``last_id`` from the page),
    or None: then the stream starts now."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_id") or ""
    return Cursor.parse(raw)


def sync_stream(event: Event, cursor: Cursor) -> Iterator[str]:
    """A stream under WSGI: what is new, then the end (the browser comes back)."""
    poll, heartbeat, lifetime = _settings()
    started = last_sent = time.monotonic()
    yield "retry: 1000\n\n"
    try:
        while True:
            cursor, messages = changes_since(event, cursor)
            if messages:
                yield "".join(messages)
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= heartbeat:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            if time.monotonic() - started >= lifetime:
                break
            time.sleep(poll)
    finally:
        close_old_connections()
