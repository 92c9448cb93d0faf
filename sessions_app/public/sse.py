"""The live agenda's streams served straight from ASGI, beside Django's handler.

Django answers each ASGI request inside a context whose sync parts (here: the
project's own middleware, which run in a thread) get a thread of their own, and that
thread lives as long as the response: for a stream, for minutes. Ten thousand open agendas
were ten thousand idle threads and about 60 KB each. ``config.asgi`` therefore sends the
stream URL here: a small ASGI application that does what the middleware would do for it
(the host check, the request id and the log line) and hands the connection to this
process's hub (``sessions_app.public.hub``), with no thread and no database connection of
its own. Under WSGI, and in Django's test client, the same URL is the view of
``sessions_app.public.live``, which answers the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from urllib.parse import parse_qs

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from sessions_app.ops.request_log import current_request_id, log_request, request_id_for
from sessions_app.public.hub import hub
from sessions_app.public.stream import Cursor

logger = logging.getLogger("sessions_app.stream")

PATH = re.compile(r"^/agenda/(?P<organisation>[-a-zA-Z0-9_]+)/(?P<event>[-a-zA-Z0-9_]+)/stream$")


def handles(scope) -> re.Match | None:
    """The match of a stream URL for an HTTP request, or None for anything else."""
    if scope["type"] != "http":
        return None
    return PATH.match(scope["path"])


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _answer(send, status: int, text: str, extra: list | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"cache-control", b"no-store"),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


async def app(scope, receive, send, match: re.Match) -> None:
    started = time.perf_counter()
    headers = _headers(scope)
    incoming = headers.get("x-request-id", "")
    request_id = request_id_for(incoming)
    token = current_request_id.set(request_id)
    status = await _serve(scope, receive, send, match, headers, request_id)
    log_request(scope["method"], scope["path"], status, started)
    current_request_id.reset(token)


async def _serve(scope, receive, send, match, headers, request_id) -> int:
    rid = [(b"x-request-id", request_id.encode())]
    domain, _ = split_domain_port(headers.get("host", ""))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        await _answer(send, 400, "Bad Request: this host is not served here.\n", rid)
        return 400
    if scope["method"] not in ("GET", "HEAD"):
        await _answer(send, 405, "Method Not Allowed\n", [(b"allow", b"GET, HEAD"), *rid])
        return 405
    if hub.full():
        retry = str(random.randint(2, 10)).encode()  # noqa: S311  (spread, not a secret)
        await _answer(
            send,
            503,
            "This server holds as many live agendas as it can; try again in a few seconds.\n",
            [(b"retry-after", retry), *rid],
        )
        return 503
    try:
        event = await hub.event(match["organisation"], match["event"])
    except Exception as exc:  # the database is away: the browser comes back later
        logger.warning("agenda stream: %s", exc)
        await _answer(send, 503, "Service unavailable; try again shortly.\n", [
            (b"retry-after", b"5"), *rid,
        ])  # fmt: skip
        return 503
    if event is None:
        await _answer(send, 404, "No such event.\n", rid)
        return 404
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    raw = headers.get("last-event-id") or (query.get("last_id") or [""])[0]
    # The sites that embed the event's agenda (public.embed) follow its stream too.
    origin = headers.get("origin", "")
    allowed = event.allows_embed(origin)
    cors = [(b"access-control-allow-origin", origin.encode("latin-1"))] if allowed else []
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/event-stream"),
                (b"cache-control", b"no-cache"),
                (b"x-accel-buffering", b"no"),
                (b"x-content-type-options", b"nosniff"),
                (b"vary", b"Origin"),
                *cors,
                *rid,
            ],
        }
    )
    if scope["method"] == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return 200
    messages = hub.stream(event, Cursor.parse(raw))

    async def pump() -> None:
        try:
            async with contextlib.aclosing(messages):
                async for text in messages:
                    await send(
                        {"type": "http.response.body", "body": text.encode(), "more_body": True}
                    )
        except (asyncio.CancelledError, OSError):
            raise
        except Exception as exc:  # the database went away mid-stream: end, the browser returns
            logger.warning("agenda stream ended: %s", exc)
        await send({"type": "http.response.body", "body": b""})

    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    writer = asyncio.ensure_future(pump())
    watcher = asyncio.ensure_future(gone())
    try:
        await asyncio.wait({writer, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (writer, watcher):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await writer
    return 200
