"""config.sqlite3: the embedded default's database file is in write-ahead-log mode.

Real connections on a file, made from the settings ``DATABASE_URL`` gives (not the test
settings, which turn ``synchronous`` off for speed).
"""

import sqlite3

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from config.settings.base import database_config


@pytest.fixture(autouse=True)
def _unblocked(django_db_blocker):
    """These connections are not the test database's: pytest-django's guard does not apply."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def connections(tmp_path):
    """Two of the project's connections to one new file, and the file's path."""
    path = tmp_path / "db.sqlite3"
    config = database_config(f"sqlite:///{path}")
    config["OPTIONS"]["timeout"] = 0.5  # a writer shut out fails fast instead of in 20 s
    handler = ConnectionHandler({"default": config, "two": {**config}})
    yield handler["default"], handler["two"], path
    handler.close_all()


def _value(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT v FROM t")
        return cursor.fetchone()[0]


def test_a_database_file_is_in_write_ahead_log_mode_and_commits_durably(connections):
    one, _, path = connections
    with one.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone() == ("wal",)
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone() == (2,)  # FULL: a commit is on disk when it returns
    # The mode is kept in the file: any program opening it later writes the log too.
    with sqlite3.connect(path) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_write_commits_while_a_reader_is_in_the_middle_of_reading(connections):
    """A rollback journal makes the commit wait for every reader to leave the file (and
    fail after the busy timeout); the log lets it commit, and the reader keeps its view."""
    writer, _, path = connections
    with writer.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v INTEGER)")
        cursor.execute("INSERT INTO t VALUES (1)")
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT v FROM t").fetchone() == (1,)  # holds its read

        with writer.cursor() as cursor:
            cursor.execute("UPDATE t SET v = 2")  # autocommit: committed here

        assert reader.execute("SELECT v FROM t").fetchone() == (1,)
        reader.execute("COMMIT")
        assert reader.execute("SELECT v FROM t").fetchone() == (2,)
    finally:
        reader.close()


def test_readers_read_while_a_write_is_open(connections):
    writer, other, _ = connections
    with writer.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v INTEGER)")
        cursor.execute("INSERT INTO t VALUES (1)")
    writer.set_autocommit(False)
    try:
        with writer.cursor() as cursor:
            cursor.execute("UPDATE t SET v = 2")  # BEGIN IMMEDIATE: the write lock
        assert _value(other) == 1
        # The one writer is still one at a time.
        with pytest.raises(OperationalError, match="locked"), other.cursor() as cursor:
            cursor.execute("UPDATE t SET v = 3")
        writer.commit()
    finally:
        writer.set_autocommit(True)
    assert _value(other) == 2


def test_an_in_memory_database_is_left_as_it_is():
    handler = ConnectionHandler({"default": database_config("sqlite://:memory:")})
    try:
        with handler["default"].cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone() == ("memory",)
    finally:
        handler.close_all()
