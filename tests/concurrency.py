"""Writes that race: a transaction of another connection held open while the test goes on."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def committed_after(write: Callable[[], object]) -> Iterator[None]:
    """Run ``write`` in a transaction on a connection of its own (a thread), and commit it
    only once the block has run: its rows are inserted, ids and all, but not visible yet.
    On PostgreSQL only (SQLite lets one writer in at a time)."""
    from django.db import connection, transaction

    written, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                write()
                written.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=hold)
    writer.start()
    try:
        assert written.wait(10), "the held write did not get to its commit"
        yield
    finally:
        release.set()
        writer.join()
