"""The background tasks run in a test, as django-tasks' own database worker runs them."""

from django.db import transaction
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

TASKS = Worker(
    queue_names=["*"],
    interval=0,
    batch=True,
    backend_name="default",
    startup_delay=False,
    max_tasks=None,
    worker_id="test-worker",
    excluded_queue_names=[],
)


def run_due_tasks() -> None:
    """Every task that is due, each claimed and run as the worker does (claim, then
    run_task); only its loop is left out, as that closes the database connection between
    tasks, which would end the test's transaction on PostgreSQL."""
    while True:
        with transaction.atomic():
            due = DBTaskResult.objects.ready().get_locked()
            if due is None:
                return
            due.claim(TASKS.worker_id)
        TASKS.run_task(due)
