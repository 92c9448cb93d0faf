"""The agenda's pages for a crowd, answered in front of Django under ASGI on PostgreSQL.

When a keynote ends, thousands load the same agenda page, mostly with the page already in
their browser. Django answers each of them after its whole middleware chain, in a thread of
its own, and a query for the agenda version. This front answers them from memory instead,
when it can be sure the answer is current:

- every new agenda version is notified by PostgreSQL on commit (``agenda_versions``,
  migration 0026) to this process's listener (``sessions_app.public.notify``), which keeps
  the newest version of each event while it is connected;
- a page Django made (agenda, session page, ``.ics``, ``schedule.json``; GET, without a
  cookie, answered 200 without setting one) is kept here with the headers Django gave it
  and the version it was made at (``X-Agenda-Version``, taken off before it goes out);
- a request for the same host, path and query, without a cookie, is answered from here
  when the listener has been connected since that page was made and the event's version is
  still the one it was made at: 304 when the client has its ``ETag``, else the page.

Anything else goes to Django as before: on SQLite, while the listener reconnects, with a
cookie (a signed-in organiser, whose pages may differ), for a page not kept yet. The window
in which a change is committed but not yet notified is the time a notification takes, far
inside the few seconds of ``max-age`` the pages already allow any cache in front.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings

from sessions_app.ops.request_log import log_request, request_id_for
from sessions_app.public import notify
from sessions_app.public.agenda import VERSION_HEADER

PATH = re.compile(
    r"^/agenda/[-a-zA-Z0-9_]+/[-a-zA-Z0-9_]+"
    r"(?:/|\.ics|/schedule\.json|/sessions/[0-9]{1,18}/)$"
)
_VERSION = VERSION_HEADER.lower().encode()
# 304s carry what RFC 9110 asks a 304 to repeat; the page's other headers are its own.
_KEPT_ON_304 = {b"etag", b"cache-control", b"vary", b"content-location", b"expires"}


@dataclass(frozen=True)
class Kept:
    event_id: int
    version: int
    generation: int
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    etag: bytes
    body: bytes


class Pages:
    """The pages kept, most recently used last, up to ``AGENDA_LOCAL_CACHE_BYTES``."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple, Kept] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Kept | None:
        with self._lock:
            kept = self._items.get(key)
            if kept is not None:
                self._items.move_to_end(key)
            return kept

    def put(self, key: tuple, kept: Kept) -> None:
        limit = settings.AGENDA_LOCAL_CACHE_BYTES
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old.body)
            if len(kept.body) > limit:
                return
            self._items[key] = kept
            self._size += len(kept.body)
            while self._size > limit:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped.body)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


pages = Pages()


def handles(scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] in ("GET", "HEAD")
        and PATH.match(scope["path"]) is not None
    )


def _key(scope, headers: dict[bytes, bytes]) -> tuple | None:
    if b"cookie" in headers:
        return None
    return (
        scope.get("scheme", "http"),
        headers.get(b"x-forwarded-proto", b""),
        headers.get(b"host", b""),
        scope["path"],
        scope.get("query_string", b""),
    )


def _current(kept: Kept, listener) -> bool:
    return (
        listener.listening
        and listener.generation == kept.generation
        and listener.versions.get(kept.event_id) == kept.version
    )


async def app(scope, receive, send, django_application) -> None:
    listener = notify.bell()
    if listener is None:
        await django_application(scope, receive, send)
        return
    listener.ensure_listening()
    headers = dict(scope["headers"])
    key = _key(scope, headers)
    kept = pages.get(key) if key is not None else None
    if kept is not None and _current(kept, listener):
        await _answer(scope, send, kept, headers)
        return
    await django_application(scope, receive, _keeping(scope, send, key, listener))


async def _answer(scope, send, kept: Kept, headers: dict[bytes, bytes]) -> None:
    started = time.perf_counter()
    incoming = headers.get(b"x-request-id", b"").decode("latin-1")
    request_id = request_id_for(incoming)
    matches = kept.etag in [t.strip() for t in headers.get(b"if-none-match", b"").split(b",")]
    if matches:
        status = 304
        out = [(k, v) for k, v in kept.headers if k in _KEPT_ON_304]
        body = b""
    else:
        status = kept.status
        out = list(kept.headers)
        body = b"" if scope["method"] == "HEAD" else kept.body
    out.append((b"x-request-id", request_id.encode()))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})
    log_request(
        scope["method"],
        scope["path"],
        status,
        started,
        request_id=request_id,
        served_by="agenda front",
    )


def _keeping(scope, send, key: tuple | None, listener):
    """Django's ``send``, which keeps a page that may be kept and takes the version header
    off every answer."""
    generation = listener.generation if listener.listening else None
    state: dict = {}

    async def keeping_send(message) -> None:
        if message["type"] == "http.response.start":
            headers = []
            for name, value in message["headers"]:
                lowered = name.lower()
                if lowered == _VERSION:
                    event_id, _, version = value.partition(b":")
                    state["version"] = (int(event_id), int(version))
                    continue
                if lowered == b"set-cookie" or (lowered == b"vary" and b"cookie" in value.lower()):
                    state["private"] = True
                if lowered == b"etag":
                    state["etag"] = value
                if lowered != b"x-request-id":
                    headers.append((lowered, value))
            state["status"] = message["status"]
            state["headers"] = tuple(headers)
            state["body"] = []
            message = {**message, "headers": [
                (n, v) for n, v in message["headers"] if n.lower() != _VERSION
            ]}  # fmt: skip
        elif message["type"] == "http.response.body" and "body" in state:
            state["body"].append(message.get("body", b""))
            if not message.get("more_body", False):
                _keep(scope, key, listener, generation, state)
        await send(message)

    return keeping_send


def _keep(scope, key, listener, generation, state) -> None:
    if (
        key is None
        or scope["method"] != "GET"
        or state.get("status") != 200
        or state.get("private")
        or "version" not in state
        or "etag" not in state
        or generation is None
        or listener.generation != generation
        or not listener.listening
    ):
        return
    event_id, version = state["version"]
    # What Django read is at least as new as anything notified before the request; a
    # version notified since is newer, and then this page is not kept as current.
    listener.note_version(event_id, version)
    pages.put(
        key,
        Kept(
            event_id=event_id,
            version=version,
            generation=generation,
            status=200,
            headers=state["headers"],
            etag=state["etag"],
            body=b"".join(state["body"]),
        ),
    )
