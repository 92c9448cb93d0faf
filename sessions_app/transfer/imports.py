"""CSV imports, run by the background worker (``sessions_app.models.imports``).

The upload checks the file (its size, header and rows) and queues an ``ImportJob`` with the
rows; ``run_import_job`` (the task ``run_import``) puts the rows through the services as the
user who uploaded it (sessions one row to a transaction, registrants a batch of rows), counts
its progress on the job, and writes the report. A run broken off goes on, when the job runs
again, with the first row it had not written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django_tasks import task

from sessions_app import services
from sessions_app.enums import ImportKind, ImportOutcome, ImportState
from sessions_app.models import Event, ImportJob, ImportRowOutcome
from sessions_app.transfer import tabular

# Named as before the move by concern: log filters and alerts key on it.
logger = logging.getLogger("sessions_app.imports")

# The job's progress (and heartbeat) is written after every this many rows, and at least
# this often in seconds, as a share of the silence after which the sweep takes the run for
# lost: slow rows (a slow machine, an event of many included sessions) still beat in time.
PROGRESS_EVERY = 25
BEATS_PER_SILENCE = 4


def _beat_every() -> float:
    return settings.IMPORTS["ABANDONED_AFTER_SECONDS"] / BEATS_PER_SILENCE


REGISTRANT_COLUMNS = ("first_name", "last_name", "email")


def queue_import(*, kind: str, event: Event, rows: list[dict[str, str]], user) -> ImportJob:
    """The job of importing ``rows`` into ``event``, and its task, in one transaction."""
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind, event=event, rows=rows, total=len(rows), created_by=user
        )
        run_import.enqueue(job.pk)
    return job


def validation_sentences(exc: ValidationError) -> str:
    """A refusal as one line: ``field: message`` for each message."""
    return " ".join(tabular.refusal_reasons(exc))


# An importer takes rows (number, row) and answers each one's (number, outcome, refusal).
Importer = Callable[[list[tuple[int, dict]]], list[tuple[int, str, dict | None]]]


def registrant_importer(*, event: Event, actor: services.Actor) -> Importer:
    """Rows of a CSV of ``event``'s registrants, through ``registrants_create_many``: many
    rows checked together and written in one insert (where the event seats nobody as they
    register), refused rows reported as ``registrant_create`` would refuse them."""

    def import_rows(numbered: list[tuple[int, dict]]) -> list[tuple[int, str, dict | None]]:
        data = [
            {name: (row.get(name) or "").strip() for name in REGISTRANT_COLUMNS}
            for _, row in numbered
        ]
        created = services.registrants_create_many(event_id=event.pk, rows=data, actor=actor)
        outcomes = []
        for (number, _), fields, result in zip(numbered, data, created, strict=True):
            if isinstance(result, ValidationError):
                why = validation_sentences(result)
                refusal = {"row": number, "email": fields["email"], "why": why}
                outcomes.append((number, ImportOutcome.REFUSED, refusal))
            else:
                outcomes.append((number, ImportOutcome.CREATED, None))
        return outcomes

    return import_rows


def one_row_at_a_time(row_importer) -> Callable[..., Importer]:
    """An importer of one row at a time (``import_row(number, row)`` answers the outcome or
    raises ``tabular.RowRefused``), as ``Importer``."""

    def make(*, event: Event, actor: services.Actor) -> Importer:
        import_row = row_importer(event=event, actor=actor)

        def import_rows(numbered: list[tuple[int, dict]]) -> list[tuple[int, str, dict | None]]:
            outcomes = []
            for number, row in numbered:
                try:  # each service is atomic: a row it refuses leaves nothing behind
                    outcomes.append((number, import_row(number, row), None))
                except tabular.RowRefused as exc:
                    outcomes.append((number, ImportOutcome.REFUSED, exc.refusal))
            return outcomes

        return import_rows

    return make


# Per kind: the importer, how many rows it takes to a transaction, what its report counts.
IMPORTERS: dict[str, Callable[..., Importer]] = {
    ImportKind.SESSIONS: one_row_at_a_time(tabular.session_row_importer),
    ImportKind.REGISTRANTS: registrant_importer,
}


def _batch_rows(kind: str) -> int:
    if kind == ImportKind.REGISTRANTS:
        return max(1, settings.IMPORTS["REGISTRANT_BATCH_ROWS"])
    return 1


REPORTED: dict[str, tuple[str, ...]] = {
    ImportKind.SESSIONS: (ImportOutcome.CREATED, ImportOutcome.UPDATED, ImportOutcome.UNCHANGED),
    ImportKind.REGISTRANTS: (ImportOutcome.CREATED,),
}


class _Superseded(Exception):
    """The job is no longer this run's: the sweep took it for abandoned and queued it again."""


def run_import_job(job_id: int) -> str:
    """Import a queued job's rows and write its report. A job that is not queued (another
    worker took it, or it ran already) is left alone.

    Each row is written in one transaction with its ``ImportRowOutcome``, so a run that is
    broken off (the worker stopped, killed or cut off from the database) goes on where it
    was when the job runs again: a stopped worker queues it again at once, the sweep
    (``recover_abandoned_jobs``) a killed one's, up to ``IMPORTS["MAX_RUNS"]`` runs; an
    unexpected error fails it, and the organiser may resume it from its page."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportState.QUEUED).update(
        state=ImportState.RUNNING, heartbeat_at=timezone.now(), runs=F("runs") + 1
    )
    if not claimed:
        return "not queued"
    job = ImportJob.objects.select_related("event", "created_by").get(pk=job_id)
    mine = ImportJob.objects.filter(pk=job_id, state=ImportState.RUNNING, runs=job.runs)
    done = set(job.outcomes.values_list("row", flat=True))
    number = None
    beat_every, beaten_at = _beat_every(), time.monotonic()
    try:
        actor = services.Actor(user=job.created_by)
        import_rows = IMPORTERS[job.kind](event=job.event, actor=actor)
        pending = [(n, row) for n, row in enumerate(job.rows, start=2) if n not in done]
        batch = _batch_rows(job.kind)  # row 1 is the header
        reported = len(done)
        for start in range(0, len(pending), batch):
            numbered = pending[start : start + batch]
            number = numbered[0][0]
            with transaction.atomic():
                # The job's row locked: the sweep cannot give it to another run in the middle
                # of a batch, and a run it was given away from stops before writing one.
                if not mine.select_for_update().exists():
                    raise _Superseded
                outcomes = import_rows(numbered)
                ImportRowOutcome.objects.bulk_create(
                    ImportRowOutcome(job=job, row=row, outcome=outcome, refusal=refusal)
                    for row, outcome, refusal in outcomes
                )
            done.update(row for row, _, _ in outcomes)
            due = (
                len(done) - reported >= PROGRESS_EVERY or time.monotonic() - beaten_at >= beat_every
            )
            if due:
                if not mine.update(processed=len(done), heartbeat_at=timezone.now()):
                    raise _Superseded
                reported, beaten_at = len(done), time.monotonic()
    except _Superseded:
        logger.warning("import %s: taken over by another worker after row %s", job_id, number)
        return "superseded"
    except BaseException as exc:
        _broken_off(job, mine, len(done), exc)
        raise
    with transaction.atomic():
        report = _report(job)
        finished = mine.update(
            state=ImportState.DONE,
            processed=job.total,
            report=report,
            rows=[],
            error="",
            finished_at=timezone.now(),
        )
        if finished:
            job.outcomes.all().delete()  # folded into the report
    return "done" if finished else "superseded"


def _report(job: ImportJob) -> dict[str, Any]:
    counts = dict(
        job.outcomes.values("outcome").annotate(n=Count("pk")).values_list("outcome", "n")
    )
    report: dict[str, Any] = {kind: counts.get(kind, 0) for kind in REPORTED[job.kind]}
    report["refused"] = list(
        job.outcomes.filter(outcome=ImportOutcome.REFUSED)
        .order_by("row")
        .values_list("refusal", flat=True)
    )
    return report


# Broken off by these, the job is queued again to go on: the worker was told to stop at
# once, or lost the database (an outage, a restart), which is worth another try later.
_STOPPED = (SystemExit, KeyboardInterrupt)
_CUT_OFF = (OperationalError, InterfaceError)


def _broken_off(job: ImportJob, mine, done: int, exc: BaseException) -> None:
    """Queue the job again to go on, or fail it saying how far it got."""
    logger.exception("import %s stopped after %s of %s rows", job.pk, done, job.total)
    if isinstance(exc, _STOPPED + _CUT_OFF) and job.runs < settings.IMPORTS["MAX_RUNS"]:
        delay = 0 if isinstance(exc, _STOPPED) else settings.IMPORTS["RETRY_SECONDS"]
        with contextlib.suppress(DatabaseError):
            if _queue_again(mine, job.pk, processed=done, delay=delay):
                logger.warning("import %s: queued again, to go on in %g s", job.pk, delay)
        return  # if the database is away, the sweep queues it once it is back
    why = (
        "the worker was stopped"
        if isinstance(exc, _STOPPED)
        else "the database could not be reached"
        if isinstance(exc, _CUT_OFF)
        else f"an unexpected error ({type(exc).__name__}; the server's log has the details)"
    )
    with contextlib.suppress(DatabaseError):
        mine.update(
            state=ImportState.FAILED,
            processed=done,
            error=f"The import stopped after {done} of {job.total} rows: {why}. " + RESUMABLE,
            finished_at=timezone.now(),
        )


RESUMABLE = (
    "The rows before that point were saved, except those the rules refused; resuming "
    "the import goes on with the next row."
)


def _queue_again(jobs, job_id: int, *, processed: int | None = None, delay: float = 0) -> bool:
    """Queue ``jobs`` (the one job, as filtered by who may requeue it) to go on where it
    was; False if the filter no longer matched (someone else moved it first)."""
    changes: dict[str, Any] = {"state": ImportState.QUEUED, "error": "", "finished_at": None}
    if processed is not None:
        changes["processed"] = processed
    with transaction.atomic():
        if not jobs.update(**changes):
            return False
        task = run_import
        if delay:
            task = task.using(run_after=timezone.now() + dt.timedelta(seconds=delay))
        task.enqueue(job_id)
    return True


def resume_import(job: ImportJob) -> bool:
    """The organiser's resume of a failed import: queued again, to go on after the last
    row it wrote. False if it is not failed (resumed already, or running)."""
    failed = ImportJob.objects.filter(pk=job.pk, state=ImportState.FAILED)
    return _queue_again(failed, job.pk)


def recover_abandoned_jobs(*, now: dt.datetime | None = None) -> int:
    """Queue again the running jobs whose worker stopped beating (killed outright, its
    machine lost) for ``IMPORTS["ABANDONED_AFTER_SECONDS"]``, to go on where they were;
    fail those that have had ``IMPORTS["MAX_RUNS"]`` runs. A worker's loop calls this.
    Returns how many jobs it moved."""
    now = now or timezone.now()
    silent_for = dt.timedelta(seconds=settings.IMPORTS["ABANDONED_AFTER_SECONDS"])
    abandoned = ImportJob.objects.filter(
        state=ImportState.RUNNING, heartbeat_at__lt=now - silent_for
    )
    moved = 0
    for job in abandoned.only("pk", "total", "runs"):
        # Only as the sweep saw it: a run that beat meanwhile keeps it.
        same = abandoned.filter(pk=job.pk, runs=job.runs)
        done = job.outcomes.count()
        if job.runs < settings.IMPORTS["MAX_RUNS"]:
            if _queue_again(same, job.pk, processed=done):
                logger.warning("import %s: its worker stopped beating; queued again", job.pk)
                moved += 1
            continue
        moved += same.update(
            state=ImportState.FAILED,
            processed=done,
            error=f"The import stopped after {done} of {job.total} rows: its worker stopped "
            f"during run {job.runs} of the import. " + RESUMABLE,
            finished_at=now,
        )
    return moved


@task()
def run_import(job_id: int) -> str:
    """A CSV import: its rows through the services, then the report.

    Queued by ``queue_import``, run by the worker."""
    return run_import_job(job_id)
