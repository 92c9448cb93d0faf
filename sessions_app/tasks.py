"""Background tasks (django-tasks, queued in the database by default).

The worker that runs them is ``manage.py run_worker``.
"""

from django_tasks import task

from .services import webhooks


@task()
def run_import(job_id: int) -> str:
    """A CSV import (``sessions_app.imports``): the rows through the services, then the report."""
    from . import imports

    return imports.run_import_job(job_id)


@task()
def run_export(job_id: int) -> str:
    """A session export too long for a request (``sessions_app.exports``)."""
    from . import exports

    return exports.run_export_job(job_id)


@task(queue_name="webhooks")
def deliver_webhook(delivery_id: int) -> str:
    """One attempt of a webhook delivery (it re-queues itself after a failure)."""
    return webhooks.delivery_attempt(delivery_id=delivery_id)
