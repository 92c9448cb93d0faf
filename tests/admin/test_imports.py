"""CSV imports run by the background worker: the upload queues a job, its page shows the
progress and then the report (sessions_app.imports, sessions_app.admin.imports)."""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app import imports
from sessions_app.enums import ImportState
from sessions_app.models import ImportJob, Registrant, Session
from tests.imports import import_done
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/sessions_app/session/import/"
REGISTRANTS = "/admin/sessions_app/registrant/import/"
PEOPLE = (
    b"first_name,last_name,email\nAda,Lovelace,ada@example.org\nGrace,Hopper,grace@example.org\n"
)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_people(client, event, content=PEOPLE):
    return client.post(
        REGISTRANTS, {"event": event.pk, "file": SimpleUploadedFile("people.csv", content)}
    )


def after_each_progress(monkeypatch, hook) -> None:
    """Call ``hook(done)`` after the job's own progress callback, before each row."""
    real = imports.IMPORTERS["registrants"]

    def watched(**kwargs):
        inner = kwargs["progress"]

        def progress(done):
            inner(done)
            hook(done)

        return real(**{**kwargs, "progress": progress})

    monkeypatch.setitem(imports.IMPORTERS, "registrants", watched)


def test_the_upload_queues_the_rows_and_the_page_shows_progress_until_the_worker_is_done(acme):
    client = logged_in(acme.organiser)

    response = post_people(client, acme.event)

    job = ImportJob.objects.get()
    assert response["Location"] == f"{REGISTRANTS}{job.pk}/"
    assert (job.kind, job.state, job.total, job.created_by) == (
        "registrants",
        "queued",
        2,
        acme.organiser,
    )
    assert not Registrant.objects.exists()  # nothing is imported in the request
    waiting = client.get(response["Location"])
    html = waiting.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "0 of 2 rows imported: waiting for the background worker" in html
    assert 'type="file"' not in html  # no form to lose a chosen file on the next reload

    done = import_done(client, response)

    html = done.content.decode()
    assert "http-equiv" not in html
    assert "<strong>2</strong> of 2 rows registered" in html
    assert 'type="file"' in html  # the form again, for the next file
    assert done.context["form"]["event"].value() == acme.event.pk  # into the same event
    job.refresh_from_db()
    assert (job.state, job.processed, job.rows, job.finished_at is not None) == (
        "done",
        2,
        [],
        True,
    )
    assert set(Registrant.objects.values_list("email", flat=True)) == {
        "ada@example.org",
        "grace@example.org",
    }


def test_a_job_runs_once(acme):
    post_people(logged_in(acme.organiser), acme.event)
    job = ImportJob.objects.get()
    run_due_tasks()

    assert imports.run_import_job(job.pk) == "not queued"
    assert Registrant.objects.count() == 2


def test_the_job_counts_its_progress(acme, monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    rows = "".join(f"P{n},X,p{n}@example.org\n" for n in range(5))
    post_people(
        logged_in(acme.organiser), acme.event, b"first_name,last_name,email\n" + rows.encode()
    )
    job = ImportJob.objects.get()
    seen = []
    after_each_progress(
        monkeypatch, lambda done: seen.append(ImportJob.objects.get(pk=job.pk).processed)
    )
    run_due_tasks()

    assert seen == [0, 0, 2, 2, 4]
    job.refresh_from_db()
    assert (job.state, job.processed) == ("done", 5)


def test_a_job_that_fails_says_so_on_its_page(acme, monkeypatch):
    client = logged_in(acme.organiser)
    response = post_people(client, acme.event)

    def broken(**kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setitem(imports.IMPORTERS, "registrants", broken)
    run_due_tasks()

    job = ImportJob.objects.get()
    assert job.state == ImportState.FAILED
    page = client.get(response["Location"]).content.decode()
    assert "The import stopped after 0 of 2 rows: an unexpected error (RuntimeError;" in page
    assert "http-equiv" not in page
    assert "disk is on fire" not in page  # the details are for the log, not the page


def test_a_worker_stopped_at_once_mid_import_leaves_the_job_saying_where(acme, monkeypatch):
    post_people(logged_in(acme.organiser), acme.event)
    job = ImportJob.objects.get()

    def stop_at_the_second_row(done):
        if done == 1:
            raise SystemExit(1)  # what the worker's second SIGTERM does

    after_each_progress(monkeypatch, stop_at_the_second_row)
    with pytest.raises(SystemExit):
        imports.run_import_job(job.pk)

    job.refresh_from_db()
    assert (job.state, job.processed) == ("failed", 1)
    assert job.error.startswith("The import stopped after 1 of 2 rows: the worker was stopped.")
    assert list(Registrant.objects.values_list("email", flat=True)) == ["ada@example.org"]


def test_another_organisations_job_is_not_found_and_reviewers_may_not_import(acme, globex):
    response = post_people(logged_in(acme.organiser), acme.event)

    assert logged_in(globex.organiser).get(response["Location"]).status_code == 404
    assert (
        logged_in(acme.organiser).get(f"{SESSIONS}{ImportJob.objects.get().pk}/").status_code == 404
    )
    assert logged_in(acme.reviewer).get(response["Location"]).status_code == 403
    assert post_people(logged_in(acme.reviewer), acme.event).status_code == 403
    assert ImportJob.objects.count() == 1


def test_a_session_import_is_a_job_too(acme):
    client = logged_in(acme.organiser)
    csv_text = "name,date,start_time,end_time\nWorkshop,,,\n"

    response = client.post(
        SESSIONS, {"event": acme.event.pk, "file": SimpleUploadedFile("s.csv", csv_text.encode())}
    )

    assert not Session.objects.filter(name="Workshop").exists()
    page = import_done(client, response).content.decode()
    assert "<strong>1</strong> created" in page
    assert Session.objects.get(name="Workshop").event == acme.event


def test_the_page_lists_the_latest_imports_of_the_organisation(
    acme, globex, django_assert_max_num_queries
):
    ours = logged_in(acme.organiser)
    for _ in range(3):
        post_people(ours, acme.event)
    post_people(logged_in(globex.organiser), globex.event)
    mine = list(ImportJob.objects.filter(event=acme.event).order_by("-id"))
    run_due_tasks()
    post_people(ours, acme.event)  # one still queued
    queued = ImportJob.objects.latest("id")

    # the login's session and user, the permissions (twice), the memberships, the form's
    # events, the list: not one query per import listed (four here)
    with django_assert_max_num_queries(7):
        html = ours.get(REGISTRANTS).content.decode()

    listed = re.findall(rf'href="{REGISTRANTS}(\d+)/"', html)
    assert listed == [str(queued.pk)] + [str(job.pk) for job in mine]
    assert "0 of 2" in html  # the queued one's progress
    assert html.count("<td>Done</td>") == 3
    assert f"{SESSIONS}" not in html.split('id="recent-imports"')[1]  # registrants only


def test_a_running_job_whose_worker_stopped_beating_is_failed_by_the_sweep(acme):
    client = logged_in(acme.organiser)
    for _ in range(3):
        post_people(client, acme.event)
    abandoned, beating, queued = ImportJob.objects.order_by("id")
    now = timezone.now()
    ImportJob.objects.filter(pk=abandoned.pk).update(
        state=ImportState.RUNNING, processed=1, heartbeat_at=now - dt.timedelta(minutes=6)
    )
    ImportJob.objects.filter(pk=beating.pk).update(
        state=ImportState.RUNNING, heartbeat_at=now - dt.timedelta(minutes=4)
    )

    assert imports.fail_abandoned_jobs(now=now) == 1

    states = dict(ImportJob.objects.values_list("pk", "state"))
    assert states == {abandoned.pk: "failed", beating.pk: "running", queued.pk: "queued"}
    page = client.get(f"{REGISTRANTS}{abandoned.pk}/").content.decode()
    assert "The import stopped after about 1 of 2 rows: its worker stopped" in page
    assert imports.fail_abandoned_jobs(now=now) == 0


def test_the_worker_beats_as_it_imports(acme, monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 1)
    post_people(logged_in(acme.organiser), acme.event)
    job = ImportJob.objects.get()
    beats = []
    after_each_progress(
        monkeypatch, lambda done: beats.append(ImportJob.objects.get(pk=job.pk).heartbeat_at)
    )
    run_due_tasks()

    assert len(beats) == 2
    assert None not in beats
    assert beats == sorted(beats)


def test_prune_import_jobs_keeps_the_recent_and_the_unfinished(acme):
    client = logged_in(acme.organiser)
    for _ in range(4):
        post_people(client, acme.event)
    old_done, old_failed, recent, unfinished = ImportJob.objects.order_by("id")
    long_ago = timezone.now() - dt.timedelta(days=31)
    ImportJob.objects.filter(pk=old_done.pk).update(state="done", finished_at=long_ago)
    ImportJob.objects.filter(pk=old_failed.pk).update(state="failed", finished_at=long_ago)
    ImportJob.objects.filter(pk=recent.pk).update(state="done", finished_at=timezone.now())
    ImportJob.objects.filter(pk=unfinished.pk).update(state="running", heartbeat_at=long_ago)
    out = io.StringIO()

    call_command("prune_import_jobs", "--days", "30", "--dry-run", stdout=out)
    assert ImportJob.objects.count() == 4
    call_command("prune_import_jobs", "--days", "30", stdout=out)

    assert set(ImportJob.objects.values_list("pk", flat=True)) == {recent.pk, unfinished.pk}
    assert out.getvalue().splitlines() == [
        "Would delete 2 imports finished more than 30 days ago.",
        "Deleted 2 imports finished more than 30 days ago.",
    ]
    with pytest.raises(CommandError):
        call_command("prune_import_jobs", "--days", "0")


def test_the_page_of_a_running_import_does_not_read_its_rows(acme):
    client = logged_in(acme.organiser)
    response = post_people(client, acme.event)

    with CaptureQueriesContext(connection) as captured:
        client.get(response["Location"])

    jobs = [q["sql"] for q in captured.captured_queries if "sessions_app_importjob" in q["sql"]]
    assert jobs  # the job, and the recent list
    assert not any('"sessions_app_importjob"."rows"' in sql for sql in jobs)
