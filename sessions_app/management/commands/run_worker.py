"""The background worker: the outbox read into webhook deliveries and messages to people,
and the task queue run (webhook attempts, messages, CSV imports, long exports); it also
queues again the imports of a worker that was killed, to go on where they were, fails its
exports, sends again the messages of one killed mid-send, and keeps house
(sessions_app.ops.housekeeping) when it starts and then daily, one worker of the pool each
time."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from sessions_app import services
from sessions_app.notices import compose as notices
from sessions_app.notices import delivery as notice_delivery
from sessions_app.ops import housekeeping
from sessions_app.planning import search
from sessions_app.transfer import exports, imports
from sessions_app.webhooks import outbox

logger = logging.getLogger("sessions_app.worker")


def _outbox_loop(stop: threading.Event, poll: float) -> None:
    swept_at = float("-inf")
    while not stop.is_set():
        try:
            close_old_connections()
            # Imports whose worker was killed outright go on (sessions_app.transfer.imports).
            if time.monotonic() - swept_at >= settings.IMPORTS["SWEEP_SECONDS"]:
                imports.recover_abandoned_jobs()
                exports.fail_abandoned_exports()
                # Proposals made outside the call get their reviewers here.
                services.reviews.assign_waiting_proposals()
                swept_at = time.monotonic()
            outbox.recover_lost_attempts()
            while outbox.fan_out():
                pass  # a full batch may have more behind it
            notice_delivery.recover_lost_sends()
            while notices.compose():
                pass
        except DatabaseError as exc:
            # The database is away (an outage, a restart): keep trying, lose nothing.
            logger.warning("worker: outbox not read (%s); trying again", exc)
            connections.close_all()
            stop.wait(max(poll, 2.0))
        except Exception:
            logger.exception("worker: reading the outbox failed; trying again")
            stop.wait(max(poll, 2.0))
        stop.wait(poll)


# One worker of the pool keeps house each period: the first to take this claim in the cache
# that every worker and app server shares (the database's, or Redis). The claim lapses a
# minute before the period ends, so that the next period's first look takes it again, and
# with it a killed worker's claim.
HOUSEKEEPING_CLAIM = "worker:housekeeping-claimed"


def _housekeeping_loop(stop: threading.Event, every: float) -> None:
    while not stop.is_set():
        claimed = False
        try:
            close_old_connections()
            claimed = cache.add(HOUSEKEEPING_CLAIM, True, timeout=max(every - 60, 1))
            if claimed:
                housekeeping.run()
            else:
                logger.info("worker: housekeeping done by another worker this period")
            wait = every
        except Exception:
            # The database away: not worth a day's wait, nor a busy loop. The claim goes, so
            # that the next try (this worker's or another's) runs.
            if claimed:
                with contextlib.suppress(Exception):
                    cache.delete(HOUSEKEEPING_CLAIM)
            logger.exception("worker: housekeeping failed; trying again in 5 minutes")
            wait = min(every, 300.0)
        finally:
            connections.close_all()  # this thread's own: idle until the next run
        stop.wait(wait)


class Command(BaseCommand):
    help = (
        "Run the background worker: read the outbox (the history every change writes) into "
        "webhook deliveries and run the queued tasks (each webhook attempt, with its retries, "
        "the CSV imports uploaded in the admin and its exports too long for a request), and "
        "delete what piles up (the delivery log, finished imports and task results, "
        "exports' files after a day, expired tokens and logins) when it starts "
        "and every DJANGO_HOUSEKEEPING_EVERY seconds (a day; 0: never), one worker of the "
        "pool each time. "
        "Run one or more beside the app servers; they share the work through the database. "
        "SIGTERM or Ctrl-C stops it after the task it is running (an import runs to its "
        "end); a second one stops it at once, and the import it was running is queued to go "
        "on with its next row. An import whose worker was killed outright goes on the same "
        "way once a worker finds it silent for DJANGO_IMPORT_ABANDONED_AFTER seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.WEBHOOKS["POLL_SECONDS"],
            help="Seconds between looks at the outbox and the task queue (default: %(default)s).",
        )
        parser.add_argument(
            "--worker-id",
            default=None,
            help="A name for this worker in the task results, unique in the pool "
            "(default: made up).",
        )

    def handle(self, *args, interval: float, worker_id: str | None, **options):
        worker_id = (worker_id or f"worker-{get_random_string(12)}")[:64]
        stop = threading.Event()
        reader = threading.Thread(
            target=_outbox_loop, args=(stop, interval), name="outbox", daemon=True
        )
        reader.start()
        every = settings.HOUSEKEEPING["EVERY_SECONDS"]
        if every > 0:
            threading.Thread(
                target=_housekeeping_loop, args=(stop, every), name="housekeeping", daemon=True
            ).start()
        # The schedule search compiled (or loaded from its cache) before a suggestion needs it.
        threading.Thread(target=search.warm, name="warm-search", daemon=True).start()
        kept = f"every {every:g} s" if every > 0 else "off"
        self.stdout.write(
            f"Worker {worker_id}: outbox every {interval:g} s, queues *, housekeeping {kept}"
        )
        tasks = Worker(
            queue_names=["*"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        tasks.configure_signals()
        try:
            while True:
                try:
                    tasks.run()
                    return
                except DatabaseError as exc:
                    if not tasks.running:
                        # Told to stop while it queried: the SystemExit of the signal handler
                        # broke off the query, and Django's cleanup of the connection raised
                        # this instead. Stopping is what was asked.
                        return
                    logger.warning("worker: task queue not read (%s); trying again", exc)
                    connections.close_all()
                    time.sleep(2.0)
                    tasks.running = True
        finally:
            stop.set()
