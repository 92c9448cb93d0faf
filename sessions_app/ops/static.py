"""The static files (the agenda's and the admin's CSS and scripts, the API docs' assets),
served in front of Django by ServeStatic from the collected directory.

`collectstatic` writes every file under a name with its content's hash (Django's manifest
storage, with ServeStatic's compression beside it: `.gz` and `.br`). Those names never
change meaning, so they go out with a year's `Cache-Control: immutable`; a browser asks for
them once. The files are looked up in a dictionary built when the worker starts, answered
without Django's middleware or a thread of Django's, compressed as the client accepts, and
logged on the request log like every other request.

Under ASGI (`make serve`) `config.asgi` puts this in front of the application; under WSGI
(GUNICORN_WORKER_CLASS=sync) `config.wsgi` does. With DEBUG on, or where nothing was
collected (runserver, the tests' own clients), Django's staticfiles app serves them as
before.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from django.conf import settings
from servestatic import ServeStatic, ServeStaticASGI
from servestatic.utils import parse_accept_encoding

from sessions_app.ops.request_log import log_request

# Django's manifest storage: "name.<12 hex digits>.ext" (and ServeStatic's .gz/.br beside it).
HASHED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
# Names without a hash (kept by collectstatic too) may change with a deploy: a short cache.
UNHASHED_MAX_AGE = 60


def _options() -> dict | None:
    """ServeStatic's options, or None where nothing was collected (or in DEBUG)."""
    root = settings.STATIC_ROOT
    if settings.DEBUG or not root or not Path(root).is_dir():
        return None
    return {
        "root": str(root),
        "prefix": settings.STATIC_URL,
        "max_age": UNHASHED_MAX_AGE,
        "immutable_file_test": lambda path, url: bool(HASHED.search(url)),
        # Scripts and styles of our own origin only: no other site reads them.
        "allow_all_origins": False,
        "add_headers_function": _headers,
    }


def _headers(headers, path: str, url: str) -> None:
    # What Django's SecurityMiddleware adds to its own answers: no type sniffing.
    headers["X-Content-Type-Options"] = "nosniff"


# Under ASGI the answers to plain GETs are kept in memory as ServeStatic gave them, by path
# and the compressed copies the client takes (as ServeStatic chooses among them: whatever a
# client sends, four keys a file at most), up to KEEP_BYTES in all: ServeStatic reads each
# file in a thread of its own, and a page's stylesheet is asked for as often as the page. A
# file never changes while the process runs (they are read as it starts), so nothing kept
# is ever stale.
KEEP_BYTES = 32 * 1024 * 1024
KEEP_LARGEST = 2 * 1024 * 1024
# A request with any of these is answered by ServeStatic itself (304s, ranges).
_CONDITIONAL = {b"if-none-match", b"if-modified-since", b"range", b"if-range"}


def _takes(accept_encoding: bytes) -> tuple[bool, bool]:
    """Whether a client takes Brotli and gzip, as ServeStatic reads its Accept-Encoding."""
    text = accept_encoding.decode("latin-1")
    accepted = parse_accept_encoding("" if text == "*" else text)
    return "br" in accepted, "gzip" in accepted


class Kept:
    """The static answers kept: (path, what the client takes) to (status, headers, body)."""

    def __init__(self, limit: int = KEEP_BYTES) -> None:
        self.limit = limit
        self.size = 0
        self.answers: dict[tuple[str, tuple[bool, bool]], tuple[int, list, bytes]] = {}

    def get(self, key):
        return self.answers.get(key)

    def keep(self, key, status: int, headers: list, body: bytes) -> None:
        if key in self.answers or len(body) > KEEP_LARGEST or self.size + len(body) > self.limit:
            return
        self.answers[key] = (status, headers, body)
        self.size += len(body)


def asgi(application):
    """``application`` with the collected static files answered in front of it."""
    options = _options()
    if options is None:
        return application
    static = ServeStaticASGI(None, **options)
    files = static.files
    kept = Kept()

    async def front(scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in files:
            await application(scope, receive, send)
            return
        started = time.perf_counter()
        encoding = b""
        plain = scope["method"] == "GET"
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                encoding = value
            elif name in _CONDITIONAL:
                plain = False
        key = (scope["path"], _takes(encoding))
        answer = kept.get(key) if plain else None
        if answer is not None:
            status, headers, body = answer
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            log_request(scope["method"], scope["path"], status, started, static=True)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def keeping_send(message):
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await static(scope, receive, keeping_send)
        status = start.get("status", 0)
        if plain and status == 200:
            kept.keep(key, status, list(start["headers"]), b"".join(chunks))
        log_request(scope["method"], scope["path"], status, started, static=True)

    return front


def wsgi(application):
    """The same for the WSGI application (sync workers)."""
    options = _options()
    if options is None:
        return application
    return ServeStatic(application, **options)
