"""Session exports too long for a request, written by the background worker
(``sessions_app.models.exports``).

The admin's export of a list over ``admin.tables.EXPORT_MAX_ROWS`` offers this instead:
``queue_export`` keeps the list's session ids (its filters, search and order, as its user
saw it) and queues the task ``run_export``; ``run_export_job`` writes the file with
the same columns as a download (``tabular``), counting its progress on the job; the job's
page offers the file, to its user only, until housekeeping deletes it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from sessions_app import selectors
from sessions_app.enums import JobState
from sessions_app.models import ExportJob
from sessions_app.transfer import tabular

# Named as before the move by concern: log filters and alerts key on it.
logger = logging.getLogger("sessions_app.exports")


def queue_export(
    *, user, file_format: str, session_ids: list[int], event_ids: list[int], filename: str
) -> ExportJob:
    """The job of writing these sessions' file (of these events), and its task, in one
    transaction."""
    with transaction.atomic():
        job = ExportJob.objects.create(
            created_by=user,
            file_format=file_format,
            session_ids=session_ids,
            event_ids=sorted(event_ids),
            total=len(session_ids),
            filename=filename,
        )
        run_export.enqueue(job.pk)
    return job


def run_export_job(job_id: int) -> str:
    """Write a queued export's file. A job that is not queued is left alone."""
    claimed = ExportJob.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, heartbeat_at=timezone.now()
    )
    if not claimed:
        return "not queued"
    job = ExportJob.objects.get(pk=job_id)
    mine = ExportJob.objects.filter(pk=job_id, state=JobState.RUNNING)

    def progress(done: int) -> None:
        mine.update(processed=done, heartbeat_at=timezone.now())

    try:
        definitions = tabular.custom_columns(job.event_ids)
        sessions = tabular.hide_speakers(
            tabular.sessions_in_order(job.session_ids, progress),
            selectors.blind_event_ids(job.created_by),
        )
        content = tabular.export_bytes(job.file_format, sessions, definitions)
    except BaseException as exc:
        logger.exception("export %s stopped", job_id)
        why = (
            "the worker was stopped"
            if isinstance(exc, SystemExit | KeyboardInterrupt)
            else f"an unexpected error ({type(exc).__name__}; the server's log has the details)"
        )
        mine.update(
            state=JobState.FAILED,
            error=f"The export stopped: {why}. Export the list again.",
            session_ids=[],
            finished_at=timezone.now(),
        )
        raise
    mine.update(
        state=JobState.DONE,
        processed=job.total,
        content=content,
        session_ids=[],
        finished_at=timezone.now(),
    )
    return "done"


def fail_abandoned_exports(*, now: dt.datetime | None = None) -> int:
    """Fail the running exports whose worker stopped beating (killed outright) for
    ``IMPORTS["ABANDONED_AFTER_SECONDS"]``. A worker's loop calls this. Returns how many."""
    now = now or timezone.now()
    silent_for = dt.timedelta(seconds=settings.IMPORTS["ABANDONED_AFTER_SECONDS"])
    return ExportJob.objects.filter(
        state=JobState.RUNNING, heartbeat_at__lt=now - silent_for
    ).update(
        state=JobState.FAILED,
        error="The export stopped: its worker stopped while writing it. Export the list again.",
        session_ids=[],
        finished_at=now,
    )


@task()
def run_export(job_id: int) -> str:
    """A session export too long for a request.

    Queued by ``queue_export``, run by the worker."""
    return run_export_job(job_id)
