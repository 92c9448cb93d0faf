"""``run_worker``'s loop around django-tasks' worker: it rides out a database error, but
not a stop it was told to make.

django-tasks' own worker stands in for nothing here but its ``run()``, whose two ways of
ending are what the loop decides on; the worker as a process is in tests/test_worker.py.
"""

import pytest
from django.core.management import call_command
from django.db import DatabaseError

from sessions_app.management.commands import run_worker


class Runs:
    """``Worker.run()`` as scripted: each step sets ``running`` and may raise."""

    script: list = []

    def __init__(self, **kwargs):
        self.running = True
        self.runs = 0

    def configure_signals(self):
        pass

    def run(self):
        self.runs += 1
        Runs.made.append(self)
        running, error = Runs.script.pop(0)
        self.running = running
        if error is not None:
            raise error


@pytest.fixture
def scripted(monkeypatch):
    monkeypatch.setattr(run_worker, "Worker", Runs)
    # The outbox thread is the other half of the worker, not what these tests are about.
    monkeypatch.setattr(run_worker, "_outbox_loop", lambda stop, poll: None)
    monkeypatch.setattr(run_worker.time, "sleep", lambda seconds: None)
    Runs.made = []
    return Runs


def test_a_database_error_while_running_is_ridden_out(scripted):
    scripted.script = [(True, DatabaseError("the server closed the connection")), (False, None)]

    call_command("run_worker", "--interval", "0.05")

    (worker,) = set(scripted.made)
    assert worker.runs == 2  # tried again, then stopped as told
    assert worker.running is False


def test_a_stop_that_surfaces_as_a_database_error_stops_the_worker(scripted):
    # SIGTERM during a query: the handler set running to False and raised SystemExit in the
    # middle of it, and Django's cleanup of the connection raised a DatabaseError instead.
    scripted.script = [(False, DatabaseError("can't change 'autocommit' now")), (True, None)]

    call_command("run_worker", "--interval", "0.05")

    (worker,) = set(scripted.made)
    assert worker.runs == 1  # not tried again: before the fix it ran on, ignoring the stop
