"""A CSV import on PostgreSQL, its runner and the sweep each on their own connection.

The sweep takes a run whose heartbeat it finds silent for lost and queues the job again.
A run that is only slow may still be in a row then: the job's row, locked for each row of
the import, makes the sweep wait for that row's commit, and the run stops before its next
one. Each row is imported once, by one run or the other.
"""

import datetime as dt
import threading

import pytest
from django.db import connections
from django.utils import timezone

from sessions_app.enums import ImportKind
from sessions_app.models import ImportJob, Registrant
from sessions_app.transfer import imports
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_sweep_waits_for_a_slow_runs_row_and_the_run_stops_before_its_next(
    monkeypatch, settings
):
    settings.IMPORTS = {**settings.IMPORTS, "REGISTRANT_BATCH_ROWS": 1}  # a row a transaction
    event = f.event()
    rows = [
        {"first_name": f"P{n}", "last_name": "X", "email": f"p{n}@example.org"} for n in range(4)
    ]
    job = imports.queue_import(
        kind=ImportKind.REGISTRANTS, event=event, rows=rows, user=f.user(is_superuser=True)
    )
    in_row_3, go_on = threading.Event(), threading.Event()
    real = imports.IMPORTERS[ImportKind.REGISTRANTS]

    def slow_at_row_3(**kwargs):
        import_rows = real(**kwargs)

        def rows(numbered):
            if numbered[0][0] == 3 and threading.current_thread().name == "slow run":
                in_row_3.set()
                assert go_on.wait(timeout=30)
            return import_rows(numbered)

        return rows

    monkeypatch.setitem(imports.IMPORTERS, ImportKind.REGISTRANTS, slow_at_row_3)
    outcome = {}

    def in_thread(name, call):
        def run():
            try:
                outcome[name] = call()
            except BaseException as exc:  # the assertion below shows it
                outcome[name] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=run, name=name)
        thread.start()
        return thread

    slow = in_thread("slow run", lambda: imports.run_import_job(job.pk))
    assert in_row_3.wait(timeout=30)
    later = timezone.now() + dt.timedelta(hours=1)  # every heartbeat silent by then
    sweep = in_thread("sweep", lambda: imports.recover_abandoned_jobs(now=later))
    sweep.join(timeout=1.0)
    assert sweep.is_alive()  # waiting for the row the slow run is in

    go_on.set()
    for thread in (slow, sweep):
        thread.join(timeout=30)

    assert outcome == {"slow run": "superseded", "sweep": 1}
    assert ImportJob.objects.get(pk=job.pk).state == "queued"
    # Rows 2 and 3 by the slow run; row 4 too when, as row 3 committed, the slow run's lock
    # on the job came before the waiting sweep's (PostgreSQL does not queue a row's lockers
    # strictly in order). Either way it stopped at the next row after the sweep's.
    slow_rows = sorted(Registrant.objects.values_list("email", flat=True))
    assert slow_rows in (
        ["p0@example.org", "p1@example.org"],
        ["p0@example.org", "p1@example.org", "p2@example.org"],
    )

    assert imports.run_import_job(job.pk) == "done"  # the next run: the rest, once each
    job.refresh_from_db()
    assert (job.runs, job.report) == (2, {"created": 4, "refused": []})
    assert Registrant.objects.filter(event=event).count() == 4
