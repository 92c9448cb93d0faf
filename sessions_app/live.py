"""The live agenda: Server-Sent Events at ``/agenda/<organisation>/<event>/stream``.

Every write leaves its history row (``SessionChange``) in the same transaction, so the
history is the outbox the stream reads: after the last change id it sent, it polls the
event's new changes and sends each changed session as the agenda renders it (``session``)
or its removal when it is no longer live (``remove``). The event id of each message is the
change id, so a client that reconnects with ``Last-Event-ID`` (browsers do it by
themselves) gets what it missed. It works whichever app server made the change, on
SQLite and PostgreSQL alike, because it reads the shared database.

Under an ASGI server a stream is a coroutine that stays open (up to
``AGENDA_STREAM_MAX_SECONDS``) and holds no thread; on PostgreSQL it sleeps until the
database notifies that its event changed (``sessions_app.notify``), elsewhere it polls.
Under WSGI (gunicorn's sync workers in ``make serve``, ``runserver``) an open stream would
hold a whole worker, so there it sends what is new and ends (``AGENDA_STREAM_WSGI_SECONDS``,
default 0: one look); the browser's EventSource comes back after the ``retry`` of 1 s with
``Last-Event-ID``, so a change still shows within about a second, at the cost of one short
request per second per open agenda.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import zoneinfo
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string

from . import notify, selectors
from .models import Event, SessionChange

BATCH = 200


def _settings(*, held: bool) -> tuple[float, float, float]:
    lifetime = (
        getattr(settings, "AGENDA_STREAM_MAX_SECONDS", 300.0)
        if held
        else getattr(settings, "AGENDA_STREAM_WSGI_SECONDS", 0.0)
    )
    return (
        getattr(settings, "AGENDA_STREAM_POLL_SECONDS", 0.5),
        getattr(settings, "AGENDA_STREAM_HEARTBEAT_SECONDS", 15.0),
        lifetime,
    )


def _message(event: str, data: dict, *, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines += [f"event: {event}", f"data: {json.dumps(data, separators=(',', ':'))}"]
    return "\n".join(lines) + "\n\n"


def latest_change_id(event_id: int) -> int:
    last = (
        SessionChange.objects.filter(event_id=event_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return last or 0


def changes_since(event: Event, cursor: int) -> tuple[int, list[str]]:
    """The messages for the event's changes after ``cursor``, and the new cursor (2 queries,
    1 when nothing changed)."""
    rows = list(
        SessionChange.objects.filter(event_id=event.pk, id__gt=cursor)
        .order_by("id")
        .values_list("id", "session_id")[:BATCH]
    )
    if not rows:
        return cursor, []
    last_change = {}
    for change_id, session_id in rows:
        last_change[session_id] = change_id
    live = {
        session.pk: session
        for session in selectors.agenda_sessions(event).filter(pk__in=list(last_change))
    }
    messages = []
    for session_id, change_id in sorted(last_change.items(), key=lambda item: item[1]):
        session = live.get(session_id)
        if session is None or session.starts_at is None:
            messages.append(_message("remove", {"id": session_id}, event_id=change_id))
            continue
        html = render_to_string("agenda/_session.html", {"session": session, "event": event})
        day = session.starts_at.astimezone(zoneinfo.ZoneInfo(event.timezone))
        messages.append(
            _message(
                "session",
                {
                    "id": session_id,
                    "html": html,
                    "date": day.date().isoformat(),
                    "starts_at": session.starts_at.isoformat(),
                },
                event_id=change_id,
            )
        )
    return rows[-1][0], messages


def _start_cursor(request, event: Event) -> int:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_id") or ""
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return latest_change_id(event.pk)


def _sync_stream(event: Event, cursor: int) -> Iterator[str]:
    poll, heartbeat, lifetime = _settings(held=False)
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


async def _async_stream(event: Event, cursor: int) -> AsyncIterator[str]:
    poll, heartbeat, lifetime = _settings(held=True)
    fallback = getattr(settings, "AGENDA_STREAM_FALLBACK_SECONDS", 5.0)
    started = last_sent = time.monotonic()
    read = sync_to_async(changes_since)
    listener = notify.bell()
    with listener.subscribe(event.pk) if listener is not None else contextlib.nullcontext() as rung:
        yield "retry: 1000\n\n"
        while time.monotonic() - started < lifetime:
            if rung is not None:
                rung.clear()  # before the read: a change during it rings again
            cursor, messages = await read(event, cursor)
            if messages:
                yield "".join(messages)
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= heartbeat:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            if rung is None:
                await asyncio.sleep(poll)
                continue
            # Until the listener is in, poll; it rings everyone once it is.
            wait = min(
                fallback if listener.listening else poll,
                heartbeat,
                max(lifetime - (time.monotonic() - started), 0),
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rung.wait(), timeout=wait)


def agenda_stream(request, organisation_slug: str, event_slug: str):
    event = get_object_or_404(
        Event.objects.select_related("organisation"),
        organisation__slug=organisation_slug,
        slug=event_slug,
    )
    cursor = _start_cursor(request, event)
    if isinstance(request, ASGIRequest):
        content = _async_stream(event, cursor)
    else:
        content = _sync_stream(event, cursor)
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each message on at once
    return response
