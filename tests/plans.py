"""EXPLAIN on PostgreSQL, for the tests that check which index answers a query."""

from __future__ import annotations

import re

from django.db import connection
from psycopg.sql import Literal as sql_literal


def plan(sql: str, params, *, generic: bool, off: tuple[str, ...] = ("enable_seqscan",)) -> str:
    """EXPLAIN of ``sql`` with the planner settings ``off`` turned off (by default sequential
    scans, so the plan shows whether an index can answer it at all: on a few rows a scan is
    cheaper and would be chosen anyway). ``generic``: as a prepared statement's generic plan,
    the parameters unknown, which is how a connection runs a statement it has prepared."""
    with connection.cursor() as cursor:
        for setting in off:
            cursor.execute(f"SET {setting} = off")
        try:
            if not generic:
                cursor.execute("EXPLAIN " + sql, params)
                return "\n".join(row[0] for row in cursor.fetchall())
            numbered = iter(range(1, len(params) + 1))
            statement = re.sub(r"%s", lambda _: f"${next(numbered)}", sql)
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute(f"PREPARE plan_under_test AS {statement}")
            raw = connection.connection  # EXECUTE takes literals, not bound parameters
            literals = ", ".join(sql_literal(p).as_string(raw) for p in params)
            cursor.execute(f"EXPLAIN EXECUTE plan_under_test({literals})")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE ALL")
            cursor.execute("RESET plan_cache_mode")
            for setting in off:
                cursor.execute(f"RESET {setting}")
