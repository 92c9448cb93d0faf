"""Per-caller request budget in fixed windows, counted in the database.

The count lives in ``ApiRateCounter`` and is bumped by one ``INSERT ... ON CONFLICT DO
UPDATE ... RETURNING`` statement (SQLite 3.35+ and PostgreSQL), so all worker processes
share it and concurrent requests never lose an increment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from sessions_app.models import ApiRateCounter


@dataclass(frozen=True)
class RateState:
    limit: int
    used: int
    reset: int  # seconds until the window ends

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "X-Rate-Limit-Reset": str(self.reset),
        }


def rate_settings() -> dict[str, int]:
    return settings.API_RATE_LIMIT


def _upsert_sql() -> str:
    q = connection.ops.quote_name
    table = q(ApiRateCounter._meta.db_table)
    key, start, count = q("key"), q("window_start"), q("count")
    # Every SET expression reads the row as it was, so the window test sees the old start.
    # Only quoted identifiers are interpolated; the values are parameters.
    return (
        f"INSERT INTO {table} ({key}, {start}, {count}) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET "
        f"{count} = CASE WHEN {table}.{start} >= excluded.{start} "
        f"THEN {table}.{count} + excluded.{count} ELSE excluded.{count} END, "
        f"{start} = CASE WHEN {table}.{start} >= excluded.{start} "
        f"THEN {table}.{start} ELSE excluded.{start} END "
        f"RETURNING {count}, {start}"
    )


def charge(key: str, cost: int = 1, *, now: float | None = None) -> RateState:
    """Add ``cost`` to ``key``'s current window and return the state after it."""
    config = rate_settings()
    window = config["WINDOW_SECONDS"]
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(), [key[:100], window_start, cost])
        used, stored_start = cursor.fetchone()
    reset = max(int(stored_start + window - now), 0)
    return RateState(limit=config["REQUESTS"], used=used, reset=reset)


def client_key(client_pk: int) -> str:
    return f"client:{client_pk}"


def anonymous_key(request) -> str:
    return f"ip:{request.META.get('REMOTE_ADDR') or 'unknown'}"
