"""Per-caller request budgets in fixed windows, shared by every worker and app server.

Two stores, one behaviour:

- the database (the embedded default): ``ApiRateCounter`` bumped by one ``INSERT ... ON
  CONFLICT DO UPDATE ... RETURNING`` statement (SQLite 3.35+ and PostgreSQL). On PostgreSQL,
  run on its own (not inside a transaction, which is how every request charges), the
  statement's transaction commits without waiting for the disk (``synchronous_commit`` off
  for that transaction alone): a crash may forget the last moments' counts, never a write
  of the application's, and a request no longer waits for a second flush beside its own
  write's, nor holds the caller's counter row while it does. On SQLite, whose write-ahead
  log otherwise syncs at every commit, the statement commits with ``synchronous = NORMAL``
  (``_sqlite_commits_unflushed``) to the same end;
- Redis, when ``REDIS_URL`` is set: one ``INCRBY`` + ``EXPIRE`` round trip on a key per
  window, so the budget costs the database nothing.

Either way concurrent requests never lose an increment. The API budget
(``API_RATE_LIMIT``) and the token endpoint's (``TOKEN_RATE_LIMIT``) are both counted here.
"""

from __future__ import annotations

import contextlib
import functools
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from sessions_app.models import ApiRateCounter
from sessions_app.ops.client_address import client_ip


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


# The row to insert, read with the setting that lets its transaction commit unflushed
# (``set_config(..., true)``: for the current transaction only, here the statement's own).
UNFLUSHED_ROW = (
    "SELECT CAST(%s AS text), CAST(%s AS bigint), CAST(%s AS bigint) "
    "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS unflushed"
)


def _upsert_sql(*, unflushed: bool = False) -> str:
    q = connection.ops.quote_name
    table = q(ApiRateCounter._meta.db_table)
    key, start, count = q("key"), q("window_start"), q("count")
    row = UNFLUSHED_ROW if unflushed else "VALUES (%s, %s, %s)"
    # Every SET expression reads the row as it was, so the window test sees the old start.
    # Only quoted identifiers are interpolated; the values are parameters.
    return (
        f"INSERT INTO {table} ({key}, {start}, {count}) {row} "
        f"ON CONFLICT ({key}) DO UPDATE SET "
        f"{count} = CASE WHEN {table}.{start} >= excluded.{start} "
        f"THEN {table}.{count} + excluded.{count} ELSE excluded.{count} END, "
        f"{start} = CASE WHEN {table}.{start} >= excluded.{start} "
        f"THEN {table}.{start} ELSE excluded.{start} END "
        f"RETURNING {count}, {start}"
    )


@contextlib.contextmanager
def _sqlite_commits_unflushed():
    """Commit what runs inside without syncing SQLite's write-ahead log, then sync as before.

    In WAL mode, ``synchronous = NORMAL`` leaves the sync to the next commit that makes one
    (or to the checkpoint): a power loss may forget the last counts, while the file stays
    whole and every write committed before them stays. The pragmas go to the driver's
    connection, like the backend's own at connect: they are settings of this connection,
    not statements of the request's, and cost no I/O.
    """
    driver = connection.connection
    (level,) = driver.execute("PRAGMA synchronous").fetchone()
    if level <= 1:  # OFF or NORMAL already
        yield
        return
    driver.execute("PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA synchronous = {int(level)}")


def _charge_database(key: str, cost: int, window_start: int) -> tuple[int, int]:
    # Only where the statement commits on its own: in an open transaction (atomic or
    # autocommit turned off) the setting would hold for the caller's writes too.
    on_its_own = connection.get_autocommit()
    unflushed = on_its_own and connection.vendor == "postgresql"
    sqlite_unflushed = on_its_own and connection.vendor == "sqlite"
    # Entered after the cursor, which opens the connection the pragmas go to.
    unsynced = _sqlite_commits_unflushed() if sqlite_unflushed else contextlib.nullcontext()
    with connection.cursor() as cursor, unsynced:
        cursor.execute(_upsert_sql(unflushed=unflushed), [key[:100], window_start, cost])
        used, stored_start = cursor.fetchone()
    return used, stored_start


@functools.cache
def redis_client():
    """One connection pool per process, with short timeouts: a slow Redis must not hang us."""
    import redis

    timeout = settings.REDIS_TIMEOUT_SECONDS
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )


def _charge_redis(key: str, cost: int, window_start: int, window: int) -> tuple[int, int]:
    name = f"ratelimit:{key[:100]}:{window_start}"
    pipe = redis_client().pipeline(transaction=True)
    pipe.incrby(name, cost)
    # The key outlives its window a little so a late request still finds its count.
    pipe.expire(name, window + 5)
    used, _ = pipe.execute()
    return int(used), window_start


def charge(
    key: str,
    cost: int = 1,
    *,
    now: float | None = None,
    limit: int | None = None,
    window: int | None = None,
) -> RateState:
    """Add ``cost`` to ``key``'s current window and return the state after it.

    ``limit`` and ``window`` default to the API budget (``API_RATE_LIMIT``).
    """
    config = rate_settings()
    limit = config["REQUESTS"] if limit is None else limit
    window = config["WINDOW_SECONDS"] if window is None else window
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    if settings.REDIS_URL:
        used, stored_start = _charge_redis(key, cost, window_start, window)
    else:
        used, stored_start = _charge_database(key, cost, window_start)
    reset = max(int(stored_start + window - now), 0)
    return RateState(limit=limit, used=used, reset=reset)


def client_key(client_pk: int) -> str:
    return f"client:{client_pk}"


def anonymous_key(request) -> str:
    return f"ip:{client_ip(request) or 'unknown'}"
