"""Problem answers for what happens outside the API views, under /api/ and /oauth2/.

Django's own 404 and 405 pages, a body over the limit, and any unhandled exception all
become ``application/problem+json``; under /api/v1/ the rate-limit headers are added
where no view could add them.
"""

from __future__ import annotations

import io
import logging
import re

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.handlers.wsgi import LimitedStream
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from sessions_app.api.authentication import bearer_token, load_access_token
from sessions_app.ops import ratelimit
from sessions_app.ops.outage import UNAVAILABLE_ERRORS, is_unavailable, unavailable_response
from sessions_app.wire.problems import (
    DEFAULT_DETAILS,
    PROBLEM_CONTENT_TYPE,
    is_api_path,
    plain_problem_response,
)

logger = logging.getLogger("sessions_app.api")

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Exceptions that Django's handler turns into a 4xx answer of its own.
DJANGO_ANSWERS = (Http404, PermissionDenied, MultiPartParserError, BadRequest, SuspiciousOperation)


_JSON_SUFFIX = re.compile(r"^(/api/v1/.*?)\.json/?$")
_VENDOR_TOKEN_PATHS = ("/api/v1/oauth2/token", "/api/v1/oauth2/token/")


class VendorPathMiddleware:
    """The paths the vendor's clients use, answered by the canonical endpoints.

    Every ``/api/v1/...`` path also answers with a ``.json`` suffix, and the token endpoint
    also at ``/api/v1/oauth2/token(.json)`` (API.md "Endpoints"). The request is routed as
    the canonical path; ``request.original_path`` keeps what the client sent, so the list
    links it follows keep its form.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith("/api/v1/"):
            match = _JSON_SUFFIX.match(path)
            canonical = match.group(1) if match else path
            if canonical in _VENDOR_TOKEN_PATHS:
                canonical = "/oauth2/token"
            if canonical != path:
                request.original_path = request.path
                request.path_info = canonical
                request.path = request.META.get("SCRIPT_NAME", "") + canonical
        return self.get_response(request)


class ApiProblemMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request.path):
            return self.get_response(request)
        response = self._too_large(request) or self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            (PROBLEM_CONTENT_TYPE, "application/json")
        ):
            response = self._as_problem(response)
        if (
            request.path.startswith("/api/v1")
            and "X-Rate-Limit-Limit" not in response
            and response.status_code != 503  # nothing to count with: the store is down
        ):
            self._rate_headers(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not is_api_path(request.path) or isinstance(exception, DJANGO_ANSWERS):
            # Django answers these itself (400, 403, 404); __call__ makes them problems.
            return None
        if is_unavailable(exception):
            logger.warning(
                "Service unavailable on %s %s", request.method, request.path, exc_info=True
            )
            return unavailable_response(request)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return plain_problem_response(500, DEFAULT_DETAILS[500])

    def _too_large(self, request: HttpRequest) -> HttpResponse | None:
        if request.method not in BODY_METHODS:
            return None
        limit = settings.API_MAX_BODY_BYTES
        if (
            not request.META.get("CONTENT_LENGTH")
            and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            return self._read_chunked(request, limit)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return plain_problem_response(400, "The Content-Length header is not a number.")
        if length > limit:
            return plain_problem_response(
                413, f"The request body is larger than the limit of {limit} bytes."
            )
        return None

    def _read_chunked(self, request: HttpRequest, limit: int) -> HttpResponse | None:
        """Give Django a chunked body, which it would otherwise read as empty."""
        if not request.META.get("wsgi.input_terminated"):
            # The server (e.g. runserver) cannot tell where the body ends: refuse it rather
            # than answer as if nothing had been sent.
            return plain_problem_response(
                411,
                "Send the body with a Content-Length header; this server cannot read a "
                "chunked body.",
            )
        data = request.META["wsgi.input"].read(limit + 1)
        if len(data) > limit:
            return plain_problem_response(
                413, f"The request body is larger than the limit of {limit} bytes."
            )
        request.META["CONTENT_LENGTH"] = str(len(data))
        request._stream = LimitedStream(io.BytesIO(data), len(data))
        return None

    def _as_problem(self, response: HttpResponse) -> HttpResponse:
        status = response.status_code
        problem = plain_problem_response(
            status, DEFAULT_DETAILS.get(status, response.reason_phrase or "Error.")
        )
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                problem[header] = response[header]
        return problem

    def _rate_headers(self, request: HttpRequest, response: HttpResponse) -> None:
        """Charge the caller for an answer no API view gave (e.g. a 404 for an unknown path)."""
        raw = bearer_token(request)
        try:
            token = load_access_token(raw) if raw else None
            if token is not None and token.application_id and not token.is_expired():
                key = ratelimit.client_key(token.application_id)
            else:
                key = ratelimit.anonymous_key(request)
            state = ratelimit.charge(key)
        except (DatabaseError, *UNAVAILABLE_ERRORS):  # the answer may be about a broken store
            logger.warning("Rate limit not counted for %s", request.path, exc_info=True)
            return
        for name, value in state.headers().items():
            response[name] = value
