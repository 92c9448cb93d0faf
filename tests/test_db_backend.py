"""config.postgresql: the health check skips a connection a request used moments ago.

Driven through the same two calls Django makes around every request
(``close_if_unusable_or_obsolete`` as it starts and as it ends), on a real connection.
"""

import pytest
from django.db import OperationalError, connection

from config.postgresql import base as backend

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def health_checks(monkeypatch):
    """Count the ``SELECT 1`` checks; ``clock`` moves the backend's monotonic time."""
    calls = []
    real_is_usable = connection.is_usable

    def is_usable():
        calls.append(1)
        return real_is_usable()

    monkeypatch.setattr(connection, "is_usable", is_usable)
    now = [1000.0]
    monkeypatch.setattr(backend.time, "monotonic", lambda: now[0])
    connection.close()
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]  # as production sets it up
    yield calls, now
    connection.close()  # leave no connection that the patched clock vouched for


def _request():
    """One request as Django's handler runs it: check at the start, one query, check at the end."""
    connection.close_if_unusable_or_obsolete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 42")
        assert cursor.fetchone() == (42,)
    connection.close_if_unusable_or_obsolete()


def test_a_busy_connection_is_not_checked(settings, health_checks):
    settings.DB_HEALTH_CHECK_DELAY = 5
    calls, now = health_checks

    _request()  # a new connection: nothing to check
    for _ in range(3):
        now[0] += 1
        _request()

    assert calls == []


def test_a_connection_idle_for_longer_than_the_delay_is_checked(settings, health_checks):
    settings.DB_HEALTH_CHECK_DELAY = 5
    calls, now = health_checks
    _request()

    now[0] += 6
    _request()

    assert len(calls) == 1


def test_delay_zero_checks_before_every_request(settings, health_checks):
    settings.DB_HEALTH_CHECK_DELAY = 0
    calls, _ = health_checks
    _request()

    _request()
    _request()

    assert len(calls) == 2


def test_a_connection_that_saw_an_error_is_checked_and_replaced(settings, health_checks):
    settings.DB_HEALTH_CHECK_DELAY = 5
    calls, _ = health_checks
    _request()
    first = connection.connection
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")  # the server drops it
    connection.close_if_unusable_or_obsolete()  # what the failed request's end does

    _request()

    assert len(calls) == 1
    assert connection.connection is not first


def test_a_busy_connection_the_server_terminated_is_checked_and_replaced(settings, health_checks):
    """A restart (or pg_terminate_backend from elsewhere) inside the delay costs no request."""
    settings.DB_HEALTH_CHECK_DELAY = 5
    calls, now = health_checks
    _request()
    first = connection.connection
    pid = first.info.backend_pid
    with connection._nodb_cursor() as other:  # a second connection does the terminating
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    import time

    time.sleep(0.2)  # the server's goodbye reaches the idle socket
    now[0] += 1

    _request()  # would raise if the dead connection were trusted

    assert len(calls) == 1
    assert connection.connection is not first


def test_the_hot_statements_are_prepared_once_per_connection():
    """Server-side binding with a prepare threshold: once a statement has run five times on
    a connection it is prepared, so PostgreSQL no longer parses and plans it on each request."""
    connection.close()
    options = connection.settings_dict["OPTIONS"]
    assert options["server_side_binding"] is True

    def run():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sessions_app_session WHERE id = %s", [7])

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall() if "sessions_app_session" in row[0]]

    for _ in range(options["prepare_threshold"]):
        run()
    assert prepared() == []
    run()
    assert prepared() == ["SELECT count(*) FROM sessions_app_session WHERE id = $1"]
    # Many shapes of list and filter do not push the hot statements out (psycopg keeps 100).
    assert connection.connection.prepared_max == backend.PREPARED_STATEMENTS_KEPT == 500
