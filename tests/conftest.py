import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

# A real SMTP server on loopback, for every test that reads the mail sent.
from tests.notices.conftest import smtp  # noqa: F401  (the fixture)


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def _has_redis() -> bool:
    return bool(settings.REDIS_URL)


def _chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    return path if shutil.which(path) else None


def pytest_collection_modifyitems(config, items):
    """Deselect (never skip) what this run cannot do: a skip must not count as a pass.

    PostgreSQL-only tests run in the PostgreSQL pass of ``make test`` (SQLite-only ones in
    the other), Redis tests where REDIS_URL is set (that pass too); browser tests need
    Chromium, and ``REQUIRE_BROWSER=1`` turns its absence into an error.
    """
    keep, dropped = [], []
    no_browser = _chromium_path() is None
    wants_browser = any(item.get_closest_marker("browser") for item in items)
    if no_browser and wants_browser and os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError("REQUIRE_BROWSER=1 but Chromium was not found.")
    for item in items:
        if (
            (item.get_closest_marker("postgres") and not _on_postgres())
            or (item.get_closest_marker("sqlite") and _on_postgres())
            or (item.get_closest_marker("browser") and no_browser)
            or (item.get_closest_marker("redis") and not _has_redis())
        ):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_report_header(config):
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    cache = "redis" if _has_redis() else "database"
    return [
        f"database: {engine}",
        f"cache and rate limits: {cache}",
        f"chromium: {_chromium_path() or 'not found'}",
    ]


@pytest.fixture(autouse=True)
def _fresh_redis():
    """Redis outlives a test's rolled-back transaction: start each test with it empty."""
    if _has_redis():
        from django.core.cache import cache

        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _agenda_versions_at_each_write(request):
    """Agenda versions (migration 0026) are bumped by triggers that PostgreSQL defers to the
    commit, and a test in a transaction never commits: there they fire at each write
    instead, as SQLite's do. Tests with transactions of their own see the commit-time bump.
    The bodies a process keeps by version are forgotten with the rows of the test."""
    from sessions_app.public.agenda import local_bodies

    local_bodies.clear()
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    committing = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in names for name in ("transactional_db", "live_server")
    )
    if not committing and (marker is not None or "db" in names):
        request.getfixturevalue("db")
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS agenda_version IMMEDIATE")
    yield


@pytest.fixture(autouse=True)
def _agenda_database_thread_released(request):
    """The live agenda's database thread keeps its connection while it listens: after a
    test that committed, it lets go, so the next test's flush and the run's drop of the
    test database are not kept waiting."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        from sessions_app.public import notify

        notify.database.release()


@pytest.fixture
def unreachable_redis(tmp_path) -> dict:
    """A Redis cache's settings for a socket nobody listens on."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"unix://{tmp_path / 'nobody.sock'}",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
