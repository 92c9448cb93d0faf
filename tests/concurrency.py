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


def run_in_own_loop(coroutine_function, timeout: float = 120):
    """``asyncio.run(coroutine_function())`` on a loop of its own in a thread of its own: the
    browser tests' Playwright keeps a loop running in the test's thread, where asyncio.run
    refuses to start."""
    import asyncio
    import threading

    outcome: dict = {}

    def target():
        try:
            outcome["value"] = asyncio.run(coroutine_function())
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    runner = threading.Thread(target=target)
    runner.start()
    runner.join(timeout=timeout)
    assert not runner.is_alive(), "the coroutine did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
