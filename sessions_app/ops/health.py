"""``/healthz`` and ``/readyz`` for load balancers.

Answered by a middleware placed before the host check and the HTTPS redirect: a balancer
probes with its own Host header (often a bare address) over plain HTTP, and neither may
turn a healthy server into a 400 or a 301. Never rate limited, never authenticated.

- ``/healthz``: the process answers (200), touching nothing else.
- ``/readyz``: the database and the cache answer within short timeouts (200), else 503.

Both answer GET and HEAD; OPTIONS says so (204 with ``Allow``), and any other method is 405
with the same ``Allow``.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from sessions_app.ops.outage import UNAVAILABLE_ERRORS, retry_after
from sessions_app.wire.problems import DEFAULT_DETAILS, plain_problem_response

# Named as before the move by concern: log filters and alerts key on it.
logger = logging.getLogger("sessions_app.health")

HEALTH_PATHS = {"/healthz", "/healthz/", "/readyz", "/readyz/"}
ALLOW = "GET, HEAD, OPTIONS"


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                timeout_ms = int(settings.READINESS_TIMEOUT_SECONDS * 1000)
                # set_config() rather than SET, which takes no bound parameter.
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, false)", [f"{timeout_ms}ms"]
                )
                cursor.execute("SELECT 1")
                cursor.execute("RESET statement_timeout")
            else:
                cursor.execute("SELECT 1")
    except UNAVAILABLE_ERRORS as exc:
        # A dead connection is closed now so that the next probe connects afresh.
        connection.close_if_unusable_or_obsolete()
        return _reason(exc)
    return None


def _check_cache() -> str | None:
    key = f"readyz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=5)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except UNAVAILABLE_ERRORS as exc:
        connection.close_if_unusable_or_obsolete()
        return _reason(exc)
    return None if ok else "the cache did not keep a value"


def readiness() -> dict[str, str]:
    """``{"database": "ok" | reason, "cache": "ok" | reason}``."""
    checks = {"database": _check_database(), "cache": _check_cache()}
    return {name: problem or "ok" for name, problem in checks.items()}


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path not in HEALTH_PATHS:
            return self.get_response(request)
        if request.method == "OPTIONS":
            return HttpResponse(status=204, headers={"Allow": ALLOW})
        if request.method not in ("GET", "HEAD"):
            response = plain_problem_response(405, DEFAULT_DETAILS[405])
            response["Allow"] = ALLOW
            return response
        if request.path.startswith("/healthz"):
            return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})
        checks = readiness()
        ready = all(value == "ok" for value in checks.values())
        response = JsonResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status=200 if ready else 503,
            headers={"Cache-Control": "no-store"},
        )
        if not ready:
            logger.warning("Not ready: %s", checks)
            response["Retry-After"] = retry_after()
        return response
