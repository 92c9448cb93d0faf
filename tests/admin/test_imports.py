"""CSV imports run by the background worker: the upload queues a job, its page shows the
progress and then the report (sessions_app.transfer.imports, sessions_app.admin.imports)."""

import datetime as dt
import io
import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sessions_app.enums import ImportState
from sessions_app.models import ImportJob, Registrant, Selection, Session
from sessions_app.transfer import imports
from tests import factories as f
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


@pytest.fixture(autouse=True)
def row_by_row(settings):
    """Registrants one row to a transaction, as sessions are: these tests follow a job row
    by row (the batches of many rows have tests of their own, which ask for
    ``in_batches``)."""
    settings.IMPORTS = {**settings.IMPORTS, "REGISTRANT_BATCH_ROWS": 1}


@pytest.fixture
def in_batches(settings, row_by_row):
    settings.IMPORTS = {**settings.IMPORTS, "REGISTRANT_BATCH_ROWS": 200}


def before_each_row(monkeypatch, hook, kind="registrants") -> None:
    """Call ``hook(number)`` before each row the job imports (in its batch's transaction)."""
    real = imports.IMPORTERS[kind]

    def watched(**kwargs):
        import_rows = real(**kwargs)

        def watched_rows(numbered):
            for number, _ in numbered:
                hook(number)
            return import_rows(numbered)

        return watched_rows

    monkeypatch.setitem(imports.IMPORTERS, kind, watched)


def once_at_row(number: int, exc: BaseException):
    """A ``before_each_row`` hook that raises ``exc`` at row ``number``, the first time only."""
    raised = []

    def hook(row: int) -> None:
        if row == number and not raised:
            raised.append(row)
            raise exc

    return hook


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
    assert 'job_progress.js" data-refresh="2"' in html
    assert "0 of 2 rows imported: waiting for the background worker" in html
    assert 'type="file"' not in html  # no form to lose a chosen file on the next reload

    done = import_done(client, response)

    html = done.content.decode()
    assert "data-refresh" not in html
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
    before_each_row(
        monkeypatch, lambda number: seen.append(ImportJob.objects.get(pk=job.pk).processed)
    )
    run_due_tasks()

    assert seen == [0, 0, 2, 2, 4]
    job.refresh_from_db()
    assert (job.state, job.processed) == ("done", 5)


def test_slow_rows_beat_by_the_clock_before_the_sweep_would_take_the_run_for_lost(
    acme, monkeypatch, settings
):
    """Rows slower than the sweep's silence over the row count still beat: a quarter of
    ``ABANDONED_AFTER_SECONDS`` after the last beat, whatever the count."""
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 1000)
    settings.IMPORTS = {**settings.IMPORTS, "ABANDONED_AFTER_SECONDS": 0.02}  # a beat per 5 ms
    rows = "".join(f"P{n},X,p{n}@example.org\n" for n in range(4))
    post_people(
        logged_in(acme.organiser), acme.event, b"first_name,last_name,email\n" + rows.encode()
    )
    job = ImportJob.objects.get()
    seen = []

    def slow_row(number):
        seen.append(ImportJob.objects.values_list("processed", "heartbeat_at").get(pk=job.pk))
        time.sleep(0.01)  # each row longer than a beat's interval

    before_each_row(monkeypatch, slow_row)
    run_due_tasks()

    assert [processed for processed, _ in seen] == [0, 1, 2, 3]
    beats = [beat for _, beat in seen]
    assert beats == sorted(beats) and len(set(beats)) == 4
    job.refresh_from_db()
    assert (job.state, job.processed) == ("done", 4)


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
    assert "data-refresh" not in page
    assert "disk is on fire" not in page  # the details are for the log, not the page


def test_a_worker_stopped_at_once_mid_import_queues_the_job_to_go_on_where_it_was(
    acme, monkeypatch
):
    post_people(logged_in(acme.organiser), acme.event)
    job = ImportJob.objects.get()
    # What the worker's second SIGTERM does, at the second row.
    before_each_row(monkeypatch, once_at_row(3, SystemExit(1)))
    with pytest.raises(SystemExit):
        imports.run_import_job(job.pk)

    job.refresh_from_db()
    assert (job.state, job.processed, job.runs, job.error) == ("queued", 1, 1, "")
    assert list(Registrant.objects.values_list("email", flat=True)) == ["ada@example.org"]

    run_due_tasks()  # the next worker

    job.refresh_from_db()
    assert (job.state, job.processed, job.runs) == ("done", 2, 2)
    assert job.report == {"created": 2, "refused": []}  # both runs' rows, each once
    assert sorted(Registrant.objects.values_list("email", flat=True)) == [
        "ada@example.org",
        "grace@example.org",
    ]
    assert not job.outcomes.exists()  # folded into the report


def test_a_job_stopped_as_often_as_it_may_run_is_failed(acme, monkeypatch, settings):
    settings.IMPORTS = {**settings.IMPORTS, "MAX_RUNS": 2}
    post_people(logged_in(acme.organiser), acme.event)
    job = ImportJob.objects.get()

    def stop_at_every_row(number):
        raise SystemExit(1)

    before_each_row(monkeypatch, stop_at_every_row)
    for _ in range(2):
        with pytest.raises(SystemExit):
            imports.run_import_job(job.pk)

    job.refresh_from_db()
    assert (job.state, job.runs, job.processed) == ("failed", 2, 0)
    assert job.error.startswith("The import stopped after 0 of 2 rows: the worker was stopped.")
    run_due_tasks()  # nothing queued
    assert not Registrant.objects.exists()


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


def test_a_running_job_whose_worker_stopped_beating_is_queued_again_by_the_sweep(acme, settings):
    settings.IMPORTS = {**settings.IMPORTS, "MAX_RUNS": 2}
    client = logged_in(acme.organiser)
    for _ in range(4):
        post_people(client, acme.event)
    abandoned, beating, queued, spent = ImportJob.objects.order_by("id")
    now = timezone.now()
    silent = now - dt.timedelta(minutes=6)
    ImportJob.objects.filter(pk__in=[abandoned.pk, spent.pk]).update(
        state=ImportState.RUNNING, processed=0, heartbeat_at=silent, runs=1
    )
    ImportJob.objects.filter(pk=spent.pk).update(runs=2)
    abandoned.outcomes.create(row=2, outcome="created")  # its first row was written
    ImportJob.objects.filter(pk=beating.pk).update(
        state=ImportState.RUNNING, heartbeat_at=now - dt.timedelta(minutes=4)
    )

    assert imports.recover_abandoned_jobs(now=now) == 2

    states = dict(ImportJob.objects.values_list("pk", "state"))
    assert states == {
        abandoned.pk: "queued",
        beating.pk: "running",
        queued.pk: "queued",
        spent.pk: "failed",
    }
    assert ImportJob.objects.get(pk=abandoned.pk).processed == 1  # counted from its rows
    page = client.get(f"{REGISTRANTS}{spent.pk}/").content.decode()
    assert "The import stopped after 0 of 2 rows: its worker stopped during run 2 of" in page
    assert 'name="resume"' in page
    assert imports.recover_abandoned_jobs(now=now) == 0


def test_the_worker_beats_as_it_imports(acme, monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 1)
    post_people(logged_in(acme.organiser), acme.event)
    job = ImportJob.objects.get()
    beats = []
    before_each_row(
        monkeypatch, lambda number: beats.append(ImportJob.objects.get(pk=job.pk).heartbeat_at)
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


def post_sessions(client, event, csv_text: str):
    return client.post(
        SESSIONS, {"event": event.pk, "file": SimpleUploadedFile("s.csv", csv_text.encode())}
    )


# Row 3 is refused (not a date); the others create a session each.
FOUR_SESSIONS = "name,date\nFirst,\nSecond,not-a-date\nThird,\nFourth,\n"


def imported_names(event) -> list[str]:
    """The names of FOUR_SESSIONS' sessions in ``event``, as many times as each is there."""
    names = Session.objects.filter(event=event, name__in=["First", "Second", "Third", "Fourth"])
    return sorted(names.values_list("name", flat=True))


def test_a_failed_import_resumed_goes_on_with_the_next_row_and_imports_no_row_twice(
    acme, monkeypatch
):
    client = logged_in(acme.organiser)
    response = post_sessions(client, acme.event, FOUR_SESSIONS)
    job = ImportJob.objects.get()
    broken = once_at_row(4, RuntimeError("the disk is on fire"))
    before_each_row(monkeypatch, broken, kind="sessions")
    run_due_tasks()

    job.refresh_from_db()
    assert (job.state, job.processed) == ("failed", 2)
    assert imported_names(acme.event) == ["First"]  # row 3 refused, row 4 not saved
    page = client.get(response["Location"]).content.decode()
    assert "The import stopped after 2 of 4 rows: an unexpected error (RuntimeError;" in page
    assert "resuming the import goes on with the next row" in page
    assert '<button type="submit" name="resume"' in page

    resumed = client.post(response["Location"], {"resume": "1"})

    assert resumed.status_code == 302
    assert resumed["Location"] == response["Location"]
    assert ImportJob.objects.get(pk=job.pk).state == "queued"
    page = import_done(client, resumed).content.decode()
    assert "is queued again" in page  # the message, shown on the next page
    assert imported_names(acme.event) == ["First", "Fourth", "Third"]  # each once
    report = ImportJob.objects.get(pk=job.pk).report
    assert (report["created"], report["updated"], report["unchanged"]) == (3, 0, 0)
    assert [(r["row"], r["id"]) for r in report["refused"]] == [(3, "")]  # from the first run
    assert report["refused"][0]["why"][0].startswith("date:")
    assert "<strong>3</strong> created" in page


def test_only_a_failed_import_is_resumed_and_only_by_whom_may_import(acme, globex):
    client = logged_in(acme.organiser)
    response = post_people(client, acme.event)
    job = ImportJob.objects.get()
    import_done(client, response)
    tasks_before = DBTaskResult.objects.count()

    again = client.post(response["Location"], {"resume": "1"}, follow=True)

    assert "it has been resumed already" in again.content.decode()
    assert ImportJob.objects.get(pk=job.pk).state == "done"
    assert DBTaskResult.objects.count() == tasks_before  # nothing queued
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.FAILED)
    assert (
        logged_in(globex.organiser).post(response["Location"], {"resume": "1"}).status_code == 404
    )
    assert logged_in(acme.reviewer).post(response["Location"], {"resume": "1"}).status_code == 403
    assert ImportJob.objects.get(pk=job.pk).state == "failed"
    assert DBTaskResult.objects.count() == tasks_before


def test_a_run_the_sweep_gave_away_stops_before_its_next_row(acme, monkeypatch):
    post_people(
        logged_in(acme.organiser),
        acme.event,
        PEOPLE + b"Katherine,Johnson,katherine@example.org\n",
    )
    job = ImportJob.objects.get()
    seen = []

    def swept_at_row_3(number):
        seen.append(number)
        if number == 3 and len(seen) == 2:  # the first run, at its second row
            later = timezone.now() + dt.timedelta(hours=1)
            assert imports.recover_abandoned_jobs(now=later) == 1

    before_each_row(monkeypatch, swept_at_row_3)

    assert imports.run_import_job(job.pk) == "superseded"
    assert ImportJob.objects.get(pk=job.pk).state == "queued"
    run_due_tasks()  # the run the sweep queued

    assert seen == [2, 3, 4]  # row 4 by the second run only; rows 2 and 3 once
    job.refresh_from_db()
    assert (job.state, job.runs, job.report["created"]) == ("done", 2, 3)
    assert Registrant.objects.filter(event=acme.event).count() == 3


def test_an_import_cut_off_from_the_database_is_queued_to_go_on_a_little_later(
    acme, monkeypatch, settings
):
    settings.IMPORTS = {**settings.IMPORTS, "RETRY_SECONDS": 30.0}
    post_people(logged_in(acme.organiser), acme.event)
    job = ImportJob.objects.get()
    cut_off = once_at_row(3, OperationalError("server closed the connection unexpectedly"))
    before_each_row(monkeypatch, cut_off)
    started = timezone.now()
    run_due_tasks()

    job.refresh_from_db()
    assert (job.state, job.processed) == ("queued", 1)
    waiting = DBTaskResult.objects.ready()
    assert not waiting.exists()  # not at once: the database may still be away
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.run_after >= started + dt.timedelta(seconds=30)

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())  # 30 s on
    run_due_tasks()

    job.refresh_from_db()
    assert (job.state, job.runs, job.report) == ("done", 2, {"created": 2, "refused": []})


def test_the_progress_of_a_large_import_reads_with_thousands_separators(acme):
    client = logged_in(acme.organiser)
    response = post_people(client, acme.event)
    ImportJob.objects.update(state=ImportState.RUNNING, processed=2500, total=10000)

    page = client.get(response["Location"]).content.decode()

    assert "2,500 of 10,000 rows imported." in page


def test_registrants_are_imported_in_batches_refused_rows_reported_as_one_by_one(
    acme, in_batches, django_assert_max_num_queries
):
    """Where the event seats nobody as they register, 450 rows go in three batches: each
    checked together (the emails the event has read once) and written in one insert. A
    row refused (a bad email, an email the event has, in any case, or an earlier row of the
    file has) is reported as the one-by-one import reports it, and the rest are imported."""
    f.registrant(event=acme.event, email="Taken@Example.org")
    rows = [f"P{n},X,p{n}@example.org\n" for n in range(447)]
    rows += ["Bad,Mail,not-an-email\n", "Old,One,taken@example.ORG\n", "Again,X,P0@example.org\n"]
    post_people(
        logged_in(acme.organiser),
        acme.event,
        ("first_name,last_name,email\n" + "".join(rows)).encode(),
    )
    job = ImportJob.objects.get()

    with django_assert_max_num_queries(60):  # not ten a row: 4,500
        run_due_tasks()

    job.refresh_from_db()
    assert (job.state, job.processed) == ("done", 450)
    assert job.report["created"] == 447
    refused = {r["row"]: (r["email"], r["why"]) for r in job.report["refused"]}
    assert refused == {
        449: ("not-an-email", "email: Enter a valid email address."),
        450: ("taken@example.ORG", "email: This event already has a registrant with this email."),
        451: ("P0@example.org", "email: This event already has a registrant with this email."),
    }
    assert Registrant.objects.filter(event=acme.event).count() == 448
    assert Registrant.objects.filter(event=acme.event, email="p446@example.org").exists()


def test_where_the_event_seats_registrants_as_they_register_each_row_is_seated(acme, in_batches):
    """A live session included for everyone: every imported registrant holds its seat, as
    one registered through the API would (the batch goes row by row)."""
    session = f.live(event=acme.event, selection_control="included", capacity=2)
    rows = "".join(f"P{n},X,p{n}@example.org\n" for n in range(5))
    post_people(
        logged_in(acme.organiser), acme.event, ("first_name,last_name,email\n" + rows).encode()
    )
    run_due_tasks()

    job = ImportJob.objects.get()
    assert job.report == {"created": 5, "refused": []}
    seated = Selection.objects.filter(session=session, state="selected").count()
    assert seated == 5  # included: beyond capacity
    session.refresh_from_db()
    assert session.seats_taken == 5
