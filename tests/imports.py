"""Helpers for the admin's CSV imports, which the background worker runs."""

from tests.tasks import run_due_tasks


def import_done(http, response):
    """The page of the import an upload queued, once the worker has run it."""
    assert response.status_code == 302, response.content.decode()[:2000]
    run_due_tasks()
    page = http.get(response["Location"])
    assert page.status_code == 200
    assert page.context["job"].state == "done", page.context["job"].error
    return page
