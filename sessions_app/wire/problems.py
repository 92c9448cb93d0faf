"""Every API error as ``application/problem+json`` (RFC 9457), whatever raised it.

Domain refusals (Django ``ValidationError`` from the services) become 422, or 409 for the
codes in ``validators.CONFLICT_CODES``; DRF's own exceptions keep their status but get the
problem body; anything else is left to ``ApiProblemMiddleware`` as a 500.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from sessions_app.exceptions import StaleVersionError
from sessions_app.validators import CONFLICT_CODES

# Named as before the move by concern: log filters and alerts key on it.
logger = logging.getLogger("sessions_app.api.errors")

# Where answers are problem documents (RFC 9457) rather than pages: the API and OAuth.
API_PREFIXES = ("/api/v1/", "/api/v1", "/oauth2/")
DEFAULT_DETAILS = {
    400: "The request cannot be read (malformed body or headers).",
    404: "There is nothing at this address.",
    405: "This method is not allowed here.",
    411: "Send the body with a Content-Length header.",
    500: "Something went wrong on our side; it has been logged.",
}
PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://sessions.example/problems/"

# status -> (type slug, title)
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    411: ("length-required", "Length required"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "Validation failed"),
    429: ("rate-limited", "Too many requests"),
    500: ("server-error", "Internal server error"),
}

# Model field name -> wire name, where they differ.
WIRE_FIELD = {
    "location": "location_id",
    "track": "track_id",
    "session_type": "session_type_id",
    "event": "event_id",
}


@dataclass(frozen=True)
class FieldError:
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message}


def problem_body(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    slug, title = PROBLEMS.get(status, ("error", "Error"))
    return {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }


def problem_response(status: int, detail: str, *, headers=None, **extra: Any) -> Response:
    """A DRF response with a problem body (for use inside API views)."""
    return Response(
        problem_body(status, detail, **extra),
        status=status,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def plain_problem_response(status: int, detail: str, **extra: Any) -> JsonResponse:
    """A Django response with a problem body (for middleware and non-DRF views)."""
    return JsonResponse(
        problem_body(status, detail, **extra), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


class ApiError(drf.APIException):
    """An error answered as a problem with ``errors`` and optional extension members."""

    status_code = 400

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        if status is not None:
            self.status_code = status
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra


class PayloadInvalid(ApiError):
    """The body names unknown or read-only fields, or values of the wrong type (422)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(_count_detail(errors), status=422, errors=errors)


class QueryInvalid(ApiError):
    """A query parameter of the wrong form (400)."""

    def __init__(self, errors: list[FieldError]) -> None:
        count = len(errors)
        detail = (
            "1 query parameter is invalid."
            if count == 1
            else f"{count} query parameters are invalid."
        )
        super().__init__(detail, status=400, errors=errors)


class RequestTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than the limit of {limit} bytes.", status=413)


def _count_detail(errors: list[FieldError]) -> str:
    fields = {e.field for e in errors}
    count = len(fields)
    return "1 field is invalid." if count == 1 else f"{count} fields are invalid."


def _message(error: DjangoValidationError) -> str:
    """The error's sentence with its params filled in, as Django's forms show it.

    A message with params is a %-format (our validators escape a literal "%"), and
    Django's lazy ``ngettext`` messages even need the params to pick their form.
    """
    message = error.message
    if error.params:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            message = message % error.params
    return str(message)


def translate_validation_error(
    exc: DjangoValidationError,
) -> tuple[list[FieldError], dict[str, Any]]:
    """Wire-named field errors, plus ``conflicts``/``allowed`` gathered from their params."""
    errors: list[FieldError] = []
    extra: dict[str, Any] = {}
    error_dict = (
        exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    )
    for name, field_errors in error_dict.items():
        for error in field_errors:
            code = error.code or "invalid"
            params = error.params or {}
            field = None if name == NON_FIELD_ERRORS else WIRE_FIELD.get(name, name)
            message = _message(error)
            if name == "custom_fields" and isinstance(params, dict) and params.get("key"):
                field = f"custom_fields.{params['key']}"
            if name in ("location", "track", "session_type") and code in (
                "does_not_exist",
                "wrong_event",
            ):
                # The same answer whether the row is missing or another event's (or another
                # organisation's): nothing is revealed about rows the caller cannot see.
                code = "does_not_exist"
                message = (
                    f"There is no {name.replace('_', ' ')} with this id in the session's event."
                )
            if isinstance(params, dict):
                if "conflicts" in params:
                    extra["conflicts"] = params["conflicts"]
                if "allowed" in params:
                    extra["allowed"] = params["allowed"]
                if "sold_out_message" in params:
                    extra["sold_out_message"] = params["sold_out_message"]
            entry = FieldError(field, code, message)
            if entry not in errors:
                errors.append(entry)
    return errors, extra


def validation_error_response(exc: DjangoValidationError) -> Response:
    errors, extra = translate_validation_error(exc)
    codes = {e.code for e in errors}
    if codes and codes <= CONFLICT_CODES:
        status = 409
        detail = errors[0].message
    else:
        status = 422
        detail = _count_detail(errors)
    return problem_response(status, detail, errors=[e.as_dict() for e in errors], **extra)


def _drf_detail(exc: drf.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, str):
        return str(detail)
    if isinstance(detail, list) and detail:
        return str(detail[0])
    if isinstance(detail, dict):
        return str(detail.get("detail", next(iter(detail.values()), exc.default_detail)))
    return str(exc.default_detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: a problem response for every known error."""
    if isinstance(exc, DjangoValidationError):
        return validation_error_response(exc)
    if isinstance(exc, StaleVersionError):
        return problem_response(412, str(exc), current_version=exc.current)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return problem_response(404, str(exc) or "Not found.")
    if isinstance(exc, ApiError):
        return problem_response(
            exc.status_code,
            str(exc.detail),
            headers=exc.headers,
            **({"errors": [e.as_dict() for e in exc.errors]} if exc.errors else {}),
            **exc.extra,
        )
    if isinstance(exc, drf.ValidationError):
        # Only reached if a DRF serializer validates input: answer like the domain does.
        errors = _flatten_drf_errors(exc.detail)
        return problem_response(422, _count_detail(errors), errors=[e.as_dict() for e in errors])
    if isinstance(exc, drf.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait))
        detail = _drf_detail(exc)
        if isinstance(exc, drf.NotAuthenticated):
            detail = _unauthenticated_detail(context.get("request"))
        return problem_response(exc.status_code, detail, headers=headers)
    return None


def _unauthenticated_detail(request) -> str:
    """Why there is no client: a token was sent but is not valid, or none was sent."""
    described = getattr(request, "oauth2_error", None) or {}
    return described.get("error_description") or (
        "Send an access token as Authorization: Bearer <token>; get one at POST /oauth2/token."
    )


def _flatten_drf_errors(detail: Any, prefix: str | None = None) -> list[FieldError]:
    if isinstance(detail, dict):
        errors: list[FieldError] = []
        for key, value in detail.items():
            field = key if prefix is None else f"{prefix}.{key}"
            errors.extend(_flatten_drf_errors(value, None if key == "non_field_errors" else field))
        return errors
    if isinstance(detail, list):
        errors = []
        for item in detail:
            errors.extend(_flatten_drf_errors(item, prefix))
        return errors
    return [FieldError(prefix, getattr(detail, "code", "invalid") or "invalid", str(detail))]
