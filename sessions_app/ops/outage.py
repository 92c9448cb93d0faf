"""A database (or Redis) that cannot be reached is a 503 with ``Retry-After``, never a 500.

Wherever the error is raised (a view, a middleware, the session save on the way out),
Django turns it into a call of ``handler500`` while the exception is being handled;
``server_error`` looks at it and answers 503 for an outage: ``application/problem+json``
under the API, a plain page elsewhere. Django closes an unusable connection at the end of
the request and the next one connects again, so service resumes without a restart.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.views import defaults

from sessions_app.wire.problems import DEFAULT_DETAILS, is_api_path, plain_problem_response

try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    _REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover - redis is a dependency
    _REDIS_ERRORS = ()

# OperationalError covers a refused or dropped connection, a server shutting down and a
# statement cancelled by a timeout; InterfaceError a connection already closed under us.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    *_REDIS_ERRORS,
)


def is_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, UNAVAILABLE_ERRORS)


def retry_after() -> str:
    return str(settings.UNAVAILABLE_RETRY_AFTER_SECONDS)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 in the format of the part of the site that was asked."""
    if is_api_path(request.path):
        response = plain_problem_response(
            503,
            "The service is briefly unavailable (its database cannot be reached). "
            f"Try again in {retry_after()} seconds.",
        )
    else:
        # No request context: a context processor must not reach for the database.
        html = loader.get_template("503.html").render({"retry_after": retry_after()})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = retry_after()
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 for an outage, else Django's 500 (a problem under the API)."""
    exc = sys.exc_info()[1]
    if is_unavailable(exc):
        return unavailable_response(request)
    if is_api_path(request.path):
        return plain_problem_response(500, DEFAULT_DETAILS[500])
    try:
        return defaults.server_error(request)
    except Exception:  # the 500 template itself failed: answer something plain
        return HttpResponseServerError("Server error", content_type="text/plain")
