"""CSV imports, run by the background worker (``sessions_app.models.imports``).

The upload checks the file (its size, header and rows) and queues an ``ImportJob`` with the
rows; ``run_import_job`` (the task ``tasks.run_import``) puts each row through the services
as the user who uploaded it, counts its progress on the job, and writes the report.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import services, tabular
from .enums import ImportKind, ImportState
from .models import Event, ImportJob

logger = logging.getLogger(__name__)

# The job's progress (and heartbeat) is written after every this many rows.
PROGRESS_EVERY = 25

REGISTRANT_COLUMNS = ("first_name", "last_name", "email")


def queue_import(*, kind: str, event: Event, rows: list[dict[str, str]], user) -> ImportJob:
    """The job of importing ``rows`` into ``event``, and its task, in one transaction."""
    from . import tasks

    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind, event=event, rows=rows, total=len(rows), created_by=user
        )
        tasks.run_import.enqueue(job.pk)
    return job


def validation_sentences(exc: ValidationError) -> str:
    """A refusal as one line: ``field: message`` for each message."""
    return " ".join(tabular.refusal_reasons(exc))


def import_registrant_rows(
    *,
    event: Event,
    rows: list[dict[str, str]],
    actor: services.Actor,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Each row through ``registrant_create``; a refused row is reported, not saved.
    ``progress(n)`` is told, before each row, how many rows are done."""
    created, refused = 0, []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        if progress is not None:
            progress(number - 2)
        data = {name: (row.get(name) or "").strip() for name in REGISTRANT_COLUMNS}
        try:
            services.registrant_create(event_id=event.pk, data=data, actor=actor)
        except ValidationError as exc:
            refused.append(
                {"row": number, "email": data["email"], "why": validation_sentences(exc)}
            )
        else:
            created += 1
    return {"created": created, "refused": refused}


def _import_sessions(*, event, rows, actor, progress) -> dict[str, Any]:
    report = tabular.import_rows(event=event, rows=rows, actor=actor, progress=progress)
    return {key: value for key, value in asdict(report).items() if key not in ("event", "total")}


IMPORTERS: dict[str, Callable[..., dict[str, Any]]] = {
    ImportKind.SESSIONS: _import_sessions,
    ImportKind.REGISTRANTS: import_registrant_rows,
}


def run_import_job(job_id: int) -> str:
    """Import a queued job's rows and write its report. A job that is not queued (another
    worker took it, or it ran already) is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportState.QUEUED).update(
        state=ImportState.RUNNING, heartbeat_at=timezone.now()
    )
    if not claimed:
        return "not queued"
    job = ImportJob.objects.select_related("event", "created_by").get(pk=job_id)
    actor = services.Actor(user=job.created_by)
    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done = count
        if count % PROGRESS_EVERY == 0:
            ImportJob.objects.filter(pk=job_id).update(processed=count, heartbeat_at=timezone.now())

    try:
        report = IMPORTERS[job.kind](event=job.event, rows=job.rows, actor=actor, progress=progress)
    except BaseException as exc:
        # Also when the worker is made to stop at once (a second SIGTERM or Ctrl-C).
        logger.exception("import %s stopped after %s of %s rows", job_id, done, job.total)
        why = (
            "the worker was stopped"
            if isinstance(exc, SystemExit | KeyboardInterrupt)
            else f"an unexpected error ({type(exc).__name__}; the server's log has the details)"
        )
        ImportJob.objects.filter(pk=job_id).update(
            state=ImportState.FAILED,
            processed=done,
            error=f"The import stopped after {done} of {job.total} rows: {why}. The rows "
            "before that point were saved, except those the rules refused.",
            finished_at=timezone.now(),
        )
        raise
    ImportJob.objects.filter(pk=job_id).update(
        state=ImportState.DONE,
        processed=job.total,
        report=report,
        rows=[],
        finished_at=timezone.now(),
    )
    return "done"


def fail_abandoned_jobs(*, now: dt.datetime | None = None) -> int:
    """Fail the running jobs whose worker stopped beating (killed outright, its machine
    lost) for ``IMPORTS["ABANDONED_AFTER_SECONDS"]``, saying how far each got; a worker's
    loop calls this. Returns how many."""
    now = now or timezone.now()
    silent_for = dt.timedelta(seconds=settings.IMPORTS["ABANDONED_AFTER_SECONDS"])
    abandoned = ImportJob.objects.filter(
        state=ImportState.RUNNING, heartbeat_at__lt=now - silent_for
    )
    failed = 0
    for job in abandoned.only("pk", "processed", "total"):
        failed += ImportJob.objects.filter(pk=job.pk, state=ImportState.RUNNING).update(
            state=ImportState.FAILED,
            error=f"The import stopped after about {job.processed} of {job.total} rows: its "
            "worker stopped during the import. The rows before that point were saved, "
            "except those the rules refused.",
            finished_at=now,
        )
    return failed
