"""Housekeeping: delete what piles up once it has been kept long enough.

- the webhook delivery log: delivered and failed deliveries, with their attempts (pending
  ones stay, whatever their age);
- finished CSV imports, with their reports (queued and running ones stay);
- finished background exports, with their files, after ``EXPORTS["KEEP_HOURS"]`` (a day);
- the task queue's finished results (django-tasks), and those left "running" by a worker
  that was killed;
- expired OAuth tokens (django-oauth-toolkit's ``clear_expired``: a client-credentials
  token lasts 30 minutes, and a client takes a new one as often as it likes);
- expired admin logins (the session engine's ``clear_expired``, as ``clearsessions``);
- rate-limit counters whose window has ended (one row per caller, and the token endpoint
  counts every client id it is sent, real or not);
- staff sign-ins and refused attempts (django-axes' logs) older than
  ``ACCESS_LOG["KEEP_DAYS"]`` (90), and finished personal data requests (the audit of
  exports and erasures) older than ``ACCESS_LOG["REQUESTS_KEEP_DAYS"]`` (three years);
- and, for each organisation with a retention, the registrants of its events that ended
  long enough ago (``privacy.retention``: erased, not deleted; seats and counts stay).

The worker runs ``run()`` when it starts and then every ``HOUSEKEEPING["EVERY_SECONDS"]``,
one worker of the pool each period (``run_worker``); the ``prune_*`` commands and
``housekeeping`` do the same by hand. Deletes go in batches, so no single statement holds
its locks for long.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from importlib import import_module

from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from oauth2_provider.models import clear_expired

from sessions_app.enums import ImportState, JobState
from sessions_app.models import (
    ApiRateCounter,
    DeliveryState,
    ExportJob,
    ImportJob,
    PrivacyRequest,
    WebhookDelivery,
)
from sessions_app.privacy import retention

# Named as before the move by concern: log filters and alerts key on it.
logger = logging.getLogger("sessions_app.housekeeping")

BATCH_SIZE = 1000


def delete_in_batches(queryset: QuerySet) -> int:
    """Delete ``queryset`` (with what cascades from it) ``BATCH_SIZE`` rows at a time; how many
    of its rows went."""
    deleted = 0
    while pks := list(queryset.order_by().values_list("pk", flat=True)[:BATCH_SIZE]):
        queryset.model.objects.filter(pk__in=pks).delete()
        deleted += len(pks)
    return deleted


def old_webhook_deliveries(cutoff: dt.datetime) -> QuerySet:
    return WebhookDelivery.objects.filter(
        created_at__lt=cutoff, state__in=[DeliveryState.DELIVERED, DeliveryState.FAILED]
    )


def old_imports(cutoff: dt.datetime) -> QuerySet:
    return ImportJob.objects.filter(
        finished_at__lt=cutoff, state__in=[ImportState.DONE, ImportState.FAILED]
    )


def old_exports(now: dt.datetime) -> QuerySet:
    cutoff = now - dt.timedelta(hours=settings.EXPORTS["KEEP_HOURS"])
    return ExportJob.objects.filter(
        finished_at__lt=cutoff, state__in=[JobState.DONE, JobState.FAILED]
    )


def old_task_results(cutoff: dt.datetime) -> QuerySet:
    """Finished before ``cutoff``, or still "running" since before it: a worker killed
    outright (SIGKILL, a lost machine) never reports its task's end, and no task here runs
    for days (a killed worker's import is queued again by the sweep within minutes)."""
    finished = [TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED]
    return DBTaskResult.objects.filter(
        Q(status__in=finished, finished_at__lt=cutoff)
        | Q(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    )


def stale_rate_counters(now: float) -> QuerySet:
    """Counters whose window ended: the next request would start a new one anyway."""
    longest = max(
        settings.API_RATE_LIMIT["WINDOW_SECONDS"], settings.TOKEN_RATE_LIMIT["WINDOW_SECONDS"]
    )
    return ApiRateCounter.objects.filter(window_start__lt=int(now) - longest)


def old_sign_ins(now: dt.datetime) -> list[QuerySet]:
    """The staff sign-ins and refused attempts (django-axes' logs) past
    ``ACCESS_LOG["KEEP_DAYS"]``."""
    cutoff = now - dt.timedelta(days=settings.ACCESS_LOG["KEEP_DAYS"])
    return [
        AccessLog.objects.filter(attempt_time__lt=cutoff),
        AccessFailureLog.objects.filter(attempt_time__lt=cutoff),
    ]


def old_privacy_requests(now: dt.datetime) -> QuerySet:
    """Finished entries of the personal data requests' audit past
    ``ACCESS_LOG["REQUESTS_KEEP_DAYS"]`` (a queued erasure stays, whatever its age)."""
    cutoff = now - dt.timedelta(days=settings.ACCESS_LOG["REQUESTS_KEEP_DAYS"])
    return PrivacyRequest.objects.filter(
        created_at__lt=cutoff, state__in=[JobState.DONE, JobState.FAILED]
    )


def run(*, keep_days: int | None = None) -> dict[str, int]:
    """Delete everything above that is old enough; how many rows of each went (the tokens'
    and logins' own cleaners log their counts themselves)."""
    days = settings.HOUSEKEEPING["KEEP_DAYS"] if keep_days is None else keep_days
    now = timezone.now()
    cutoff = now - dt.timedelta(days=days)
    deleted = {
        "webhook deliveries": delete_in_batches(old_webhook_deliveries(cutoff)),
        "imports": delete_in_batches(old_imports(cutoff)),
        "exports": delete_in_batches(old_exports(now)),
        "task results": delete_in_batches(old_task_results(cutoff)),
        "rate counters": delete_in_batches(stale_rate_counters(time.time())),
        "sign-in records": sum(delete_in_batches(found) for found in old_sign_ins(now)),
        "personal data requests": delete_in_batches(old_privacy_requests(now)),
    }
    # Each organisation's retention: registrants of events that ended long enough ago.
    deleted.update(retention.run())
    clear_expired()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    logger.info(
        "housekeeping: deleted %s (kept %d days), expired tokens and logins",
        ", ".join(f"{what} {n}" for what, n in deleted.items()),
        days,
    )
    return deleted
