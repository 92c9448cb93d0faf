"""One JSON log line per request, and a request id on every line logged while it runs.

``RequestLogMiddleware`` is the outermost middleware: it takes the balancer's
``X-Request-ID`` when it looks like one (else makes one), answers it back, and when the
response is ready logs ``method``, ``path``, ``status``, ``duration_ms`` and who called
(the user or the API client) on the ``sessions_app.request`` logger. ``RequestIdFilter``
puts the same id on every other record of the request, such as an error's traceback from
``django.request``, and ``JsonFormatter`` writes each record as one line of JSON.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

request_logger = logging.getLogger("sessions_app.request")

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_request_id", default=None
)
_INCOMING_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")
# Attributes every LogRecord has; anything else was passed as ``extra`` and is logged.
_RECORD_ATTRIBUTES = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def request_id_for(incoming: str) -> str:
    """The balancer's ``X-Request-ID`` when it looks like one, else a new id."""
    return incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex


# Paths whose segments are keys: a registrant's page link opens and changes their page.
_SECRET_PATHS = (re.compile(r"(/attend/[^/?#]*/)([^/?#]+)"),)
_SECRET_QUERY = re.compile(
    r"([?&](?:access_token|token|key|code|secret|client_secret|password|sig|signature)=)[^&#\s]*",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """The path (or any text holding one) with its secret segments and query values
    replaced: whoever reads the logs must not be able to open somebody's page."""
    for pattern in _SECRET_PATHS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


def log_request(method: str, path: str, status: int, started: float, **extra) -> None:
    """The request's one line on ``sessions_app.request``, its path redacted; ``started``
    from perf_counter."""
    path = redact(path)
    request_logger.info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            **extra,
        },
    )


def _caller(request: HttpRequest) -> dict[str, str]:
    """Who made the request, as far as it is known without another query."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        # Still lazy: nothing looked at the user, and looking now could query the database.
        user = None if user._wrapped is empty else user._wrapped
    if user is None:
        return {}
    client = getattr(user, "client", None)
    if client is not None:
        return {"client": client.client_id}
    if getattr(user, "is_authenticated", False):
        return {"user": user.get_username()}
    return {}


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = request_id_for(incoming)
        request.request_id = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            log_request(
                request.method, request.path, response.status_code, started, **_caller(request)
            )
            return response
        finally:
            current_request_id.reset(token)


class RedactFilter(logging.Filter):
    """Redacts the string arguments of a record (a server's access line names the path):
    on uvicorn's access logger under ``make serve``, and on Django's own loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record logged while a request is being answered, and
    redacts secret path segments from what Django's own loggers say of a request (an
    error's "Internal Server Error: /attend/10/<key>/")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get()
        if record.name.startswith("django"):
            RedactFilter().filter(record)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the extras, a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        # The whole line: a request object among the extras names its path too.
        return redact(json.dumps(entry, default=str))


class PlainFormatter(logging.Formatter):
    """One short line per record, for a person watching a terminal (``DJANGO_LOG_FORMAT=plain``,
    the default of ``make run``): ``14:03:07 GET /api/v1/sessions 200 12.3 ms client=demo``.

    The request line is coloured by its status (green, yellow for 4xx, red for 5xx) and other
    records by their level when the stream is a terminal, unless ``NO_COLOR`` is set.
    """

    COLOURS = {"ok": "32", "client_error": "33", "error": "31", "dim": "2"}

    def __init__(self, *args, colour: bool | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.colour = colour

    def _paint(self, text: str, tone: str) -> str:
        colour = self.colour
        if colour is None:
            colour = not os.environ.get("NO_COLOR") and sys.stderr.isatty()
        return f"\x1b[{self.COLOURS[tone]}m{text}\x1b[0m" if colour else text

    def format(self, record: logging.LogRecord) -> str:
        clock = dt.datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        status = getattr(record, "status", None)
        if record.name == request_logger.name and status is not None:
            who = [
                f"{key}={record.__dict__[key]}"
                for key in ("user", "client")
                if key in record.__dict__
            ]
            line = " ".join(
                [record.method, record.path, str(status), f"{record.duration_ms} ms", *who]
            )
            tone = "error" if status >= 500 else "client_error" if status >= 400 else "ok"
            return f"{self._paint(clock, 'dim')} {self._paint(line, tone)}"
        line = f"{record.levelname.lower()} {record.name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.levelno >= logging.ERROR:
            line = self._paint(line, "error")
        elif record.levelno >= logging.WARNING:
            line = self._paint(line, "client_error")
        return f"{self._paint(clock, 'dim')} {redact(line)}"
