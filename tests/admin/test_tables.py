"""The session list as CSV and Excel, and CSV import through the services."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app import services
from sessions_app.admin import tables
from sessions_app.enums import CustomFieldType
from sessions_app.models import (
    ExportJob,
    ImportJob,
    Session,
    SessionChange,
    SessionSpeaker,
    SessionType,
    Speaker,
)
from sessions_app.transfer import exports, tabular
from tests import factories
from tests.admin.conftest import staff
from tests.imports import import_done
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db

LIST = "/admin/sessions_app/session/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def export(http, **params) -> list[dict[str, str]]:
    response = http.get(LIST + "export.csv", params)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="sessions-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def upload(http, event, rows: list[dict[str, str]]):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return http.post(
        LIST + "import/",
        {
            "event": event.pk,
            "file": SimpleUploadedFile("s.csv", out.getvalue().encode(), "text/csv"),
        },
    )


@pytest.fixture
def rich(acme):
    """Acme's keynote with a speaker and custom values of several types."""
    level = factories.custom_field(
        event=acme.event,
        field_type=CustomFieldType.DROPDOWN,
        label="Level",
        choices=["Beginner", "Expert"],
    )
    audience = factories.custom_field(
        event=acme.event,
        field_type=CustomFieldType.MULTISELECT,
        label="Audience",
        choices=["Devs", "Ops"],
    )
    factories.custom_field(event=acme.event, field_type=CustomFieldType.NUMBER, label="Seats")
    ada = Speaker.objects.create(event=acme.event, first_name="Ada", last_name="Lovelace")
    choices = {c.label: c.pk for f in (level, audience) for c in f.choices.all()}
    services.session_update(
        session_id=acme.held.pk,
        data={
            "speaker_ids": [ada.pk],
            "description": "=cmd|' /C calc'!A0",  # what a spreadsheet would run
            "custom_fields": {
                level.key: [{"id": choices["Expert"]}],
                audience.key: [{"id": choices["Devs"]}, {"id": choices["Ops"]}],
            },
        },
        actor=services.SYSTEM,
    )
    return acme, ada, level, audience


def test_the_export_holds_the_filtered_list_with_wire_values(rich, globex):
    acme, ada, level, audience = rich
    http = logged_in(acme.organiser)

    rows = export(http)
    only_held = export(http, session_status__exact="approved")

    assert {row["name"] for row in rows} == {"Acme keynote", "Acme proposal"}  # no Globex
    assert [row["name"] for row in only_held] == ["Acme keynote"]
    keynote = only_held[0]
    assert keynote["id"] == str(acme.held.pk)
    assert keynote["start_time"] == "10:00:00"
    assert keynote["speaker_ids"] == str(ada.pk)
    assert keynote["speakers"] == "Ada Lovelace"
    assert keynote["location"] == "Acme Hall"
    assert keynote["use_event_timezone"] == "1"
    assert keynote[level.key] == str(level.choices.get(label="Expert").pk)
    assert keynote[audience.key].split() == [
        str(c.pk) for c in audience.choices.order_by("sort_order", "id")
    ]
    assert keynote["description"] == "'=cmd|' /C calc'!A0"  # defused for spreadsheets


def test_the_excel_export_has_the_same_table(rich):
    acme, *_ = rich
    response = logged_in(acme.organiser).get(LIST + "export.xlsx", {"q": "keynote"})

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    (row,) = rows
    record = dict(zip(header, row, strict=True))
    assert record["name"] == "Acme keynote"
    assert record["speakers"] == "Ada Lovelace"
    assert record["description"] == "=cmd|' /C calc'!A0"
    cell = sheet.cell(row=2, column=header.index("description") + 1)
    assert cell.data_type == "s"  # text, not a formula


def test_an_exported_file_imports_back_unchanged(rich):
    acme, *_ = rich
    http = logged_in(acme.organiser)
    rows = export(http)
    versions = dict(Session.objects.values_list("pk", "version"))
    changes = SessionChange.objects.count()

    response = import_done(http, upload(http, acme.event, rows))

    job = response.context["job"]
    report = job.report
    assert (job.total, report["unchanged"], report["updated"], report["refused"]) == (2, 2, 0, [])
    assert dict(Session.objects.values_list("pk", "version")) == versions
    assert SessionChange.objects.count() == changes
    assert export(http) == rows


def test_an_import_updates_creates_and_reports_bad_rows(rich, globex):
    acme, _, level, _ = rich
    http = logged_in(acme.organiser)
    keynote, proposal = sorted(export(http), key=lambda row: row["name"])
    keynote = {**keynote, "name": "Acme keynote (updated)", "end_time": "11:30"}
    clash = {**proposal, "start_time": "10:30", "end_time": "11:30", "session_status": "approved"}
    clash.pop("id")
    bad_time = {**proposal, "end_time": "09:00"}
    new = dict.fromkeys(keynote, "") | {"name": "Brand new", "event_id": "", "id": ""}
    new[level.key] = str(level.choices.first().pk)
    theirs = {**proposal, "id": str(globex.held.pk)}

    response = import_done(http, upload(http, acme.event, [keynote, bad_time, new, theirs, clash]))

    report = response.context["job"].report
    assert (report["updated"], report["created"], report["unchanged"]) == (1, 1, 0)
    refused = {row["row"]: row["why"] for row in report["refused"]}
    assert set(refused) == {3, 5, 6}
    assert refused[3] == ["end_time: End time must be after start time."]
    assert refused[5] == [f"id: Acme Summit has no session #{globex.held.pk}."]
    assert refused[6] == [
        "location: This location is already booked at this time by "
        f'"Acme keynote (updated)" (#{acme.held.pk}).'
    ]
    html = response.content.decode()
    assert "End time must be after start time." in html
    held = Session.objects.get(pk=acme.held.pk)
    assert (held.name, held.end_time.isoformat()) == ("Acme keynote (updated)", "11:30:00")
    assert SessionChange.objects.filter(session_id=held.pk).latest("id").note == "CSV import"
    assert Session.objects.get(pk=acme.proposal.pk).end_time.isoformat() == "13:00:00"
    created = Session.objects.get(name="Brand new")
    assert created.event == acme.event
    assert created.changes.filter(action="session.create").exists()
    assert not Session.objects.filter(name="Acme proposal", start_time="10:30").exists()


def test_a_file_with_unknown_columns_is_refused_whole(acme):
    http = logged_in(acme.organiser)

    response = upload(http, acme.event, [{"id": str(acme.held.pk), "colour": "red"}])

    assert response.status_code == 200
    assert response.context["job"] is None
    assert not ImportJob.objects.exists()
    assert response.context["form"].errors["file"] == [
        "Unknown column(s): colour. Export a list to see the columns."
    ]


def test_reviewers_export_but_do_not_import(acme):
    http = logged_in(acme.reviewer)

    assert http.get(LIST + "export.csv").status_code == 200
    assert http.get(LIST + "import/").status_code == 403


def test_the_export_query_count_does_not_grow(acme, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    http = logged_in(acme.organiser)
    export(http)  # warm the session and the caches
    with CaptureQueriesContext(connection) as at_two:
        export(http)
    for n in range(40):
        session = factories.session(event=acme.event, name=f"Extra {n}")
        speaker = Speaker.objects.create(event=acme.event, first_name=f"S{n}")
        Session.objects.filter(pk=session.pk).update(speaker_ids=[speaker.pk])
        SessionSpeaker.objects.create(session=session, speaker=speaker)

    with django_assert_num_queries(len(at_two)):
        rows = export(http)
    assert len(rows) == 42


def file_rows(fmt: str, content: bytes) -> list[list]:
    """A CSV's or a workbook's rows, as lists of cell values (as text)."""
    if fmt == "csv":
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_list_longer_than_a_request_writes_is_exported_by_the_worker(rich, monkeypatch, fmt):
    acme, *_ = rich
    http = logged_in(acme.organiser)
    # Both, by name descending (column 1: the tick box is column 0).
    at_once = http.get(f"{LIST}export.{fmt}", {"q": "acme", "o": "-1"})
    monkeypatch.setitem(tables.EXPORT_MAX_ROWS, fmt, 1)

    offer = http.get(f"{LIST}export.{fmt}", {"q": "acme", "o": "-1"})
    narrowed = http.get(f"{LIST}export.{fmt}", {"session_status__exact": "approved"})

    assert offer.status_code == 200
    html = offer.content.decode()
    assert "The list holds 2 sessions, more than one download writes at once (1 as" in html
    assert '<form method="post" id="export-offer">' in html
    assert narrowed["Content-Disposition"].endswith(f'.{fmt}"')  # one session: at once
    assert not ExportJob.objects.exists()  # a GET queues nothing

    queued = http.post(f"{LIST}export.{fmt}?q=acme&o=-1")

    job = ExportJob.objects.get()
    assert queued["Location"] == f"{LIST}export/{job.pk}/"
    assert (job.created_by, job.file_format, job.total, job.state) == (
        acme.organiser,
        fmt,
        2,
        "queued",
    )
    assert job.session_ids == [acme.proposal.pk, acme.held.pk]  # the list's order
    waiting = http.get(queued["Location"]).content.decode()
    assert "0 of 2 sessions written: waiting for the background worker" in waiting
    assert 'job_progress.js" data-refresh="2"' in waiting
    assert http.get(f"{LIST}export/{job.pk}/file").status_code == 404  # not yet

    run_due_tasks()

    ready = http.get(queued["Location"]).content.decode()
    assert f'href="{LIST}export/{job.pk}/file"' in ready
    assert "The file is kept for 24 hours after it was written." in ready
    assert "data-refresh" not in ready
    download = http.get(f"{LIST}export/{job.pk}/file")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{job.filename}"'
    assert download["Content-Type"] == tables.CONTENT_TYPES[fmt]
    direct = b"".join(at_once.streaming_content) if fmt == "csv" else at_once.content
    assert file_rows(fmt, download.content) == file_rows(fmt, direct)  # the same table
    names = [row[2] for row in file_rows(fmt, download.content)[1:]]
    assert names == ["Acme proposal", "Acme keynote"]
    job.refresh_from_db()
    assert (job.state, job.processed, job.session_ids) == ("done", 2, [])


def test_a_background_export_is_its_users_alone(acme, globex, superuser, monkeypatch):
    monkeypatch.setitem(tables.EXPORT_MAX_ROWS, "csv", 1)
    colleague = staff(acme.event.organisation, "organiser", username="colleague")
    logged_in(acme.organiser).post(f"{LIST}export.csv")
    job = ExportJob.objects.get()
    run_due_tasks()

    for other in (colleague, globex.organiser, superuser):
        http = logged_in(other)
        assert http.get(f"{LIST}export/{job.pk}/").status_code == 404
        assert http.get(f"{LIST}export/{job.pk}/file").status_code == 404
    assert job.event_ids == [acme.event.pk]
    owner = logged_in(acme.organiser)
    assert owner.get(f"{LIST}export/{job.pk}/file").status_code == 200
    # Once they have left the organisation (for another), not even its author gets the file.
    membership = acme.organiser.memberships.get()
    membership.organisation = globex.event.organisation
    membership.save()
    assert owner.get(LIST).status_code == 200  # they still work here, for Globex
    assert owner.get(f"{LIST}export/{job.pk}/").status_code == 404
    assert owner.get(f"{LIST}export/{job.pk}/file").status_code == 404


def queued_csv(org, session_ids):
    """A CSV export of these sessions of ``org``'s event, queued by its organiser."""
    return exports.queue_export(
        user=org.organiser,
        file_format="csv",
        session_ids=session_ids,
        event_ids=[org.event.pk],
        filename="sessions.csv",
    )


def test_the_worker_writes_an_export_in_chunks_and_leaves_out_deleted_sessions(
    acme, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(tabular, "EXPORT_CHUNK", 10)
    small = queued_csv(acme, [acme.held.pk])
    with CaptureQueriesContext(connection) as one_chunk:
        exports.run_export_job(small.pk)
    extra = [factories.session(event=acme.event, name=f"Extra {n}").pk for n in range(8)]
    gone = factories.session(event=acme.event, name="Deleted meanwhile")
    ids = [acme.held.pk, *extra, gone.pk]  # ten: one chunk
    job = queued_csv(acme, ids)
    Session.objects.filter(pk=gone.pk).delete()

    with django_assert_num_queries(len(one_chunk)):
        exports.run_export_job(job.pk)

    job.refresh_from_db()
    names = [row[2] for row in file_rows("csv", bytes(job.content))[1:]]
    assert names == ["Acme keynote", *(f"Extra {n}" for n in range(8))]


def test_a_list_too_long_even_for_the_worker_is_refused_with_advice(acme, monkeypatch):
    monkeypatch.setitem(tables.EXPORT_MAX_ROWS, "csv", 0)
    monkeypatch.setattr(tables, "BACKGROUND_MAX_ROWS", 1)
    http = logged_in(acme.organiser)

    refused = http.post(f"{LIST}export.csv?q=acme", follow=True)

    assert refused.redirect_chain == [(f"{LIST}?q=acme", 302)]  # the list, as it was
    [message] = [str(m) for m in refused.context["messages"]]
    assert message.startswith("The list holds more than 1 sessions, the most one export takes.")
    assert not ExportJob.objects.exists()


def test_an_export_whose_worker_stopped_beating_is_failed_by_the_sweep(acme):
    job = queued_csv(acme, [acme.held.pk])
    ExportJob.objects.filter(pk=job.pk).update(
        state="running", heartbeat_at=timezone.now() - dt.timedelta(minutes=6)
    )

    assert exports.fail_abandoned_exports() == 1

    page = logged_in(acme.organiser).get(f"{LIST}export/{job.pk}/").content.decode()
    assert "The export stopped: its worker stopped while writing it. Export the list again." in page
    assert exports.run_export_job(job.pk) == "not queued"


def test_an_import_carries_session_types_and_lengths(acme):
    workshop = SessionType.objects.create(event=acme.event, name="Workshop", default_minutes=90)
    http = logged_in(acme.organiser)
    keynote, proposal = sorted(export(http), key=lambda row: row["name"])
    assert (keynote["duration_minutes"], keynote["session_type_id"]) == ("60", "")
    new = dict.fromkeys(keynote, "") | {"name": "Hands on", "session_type_id": str(workshop.pk)}
    own = new | {"name": "Short one", "duration_minutes": "20"}
    disagrees = {**proposal, "end_time": "12:30", "duration_minutes": "45"}

    response = import_done(http, upload(http, acme.event, [new, own, disagrees]))

    report = response.context["job"].report
    assert (report["created"], [row["row"] for row in report["refused"]]) == (2, [4])
    assert report["refused"][0]["why"][0].startswith("duration_minutes: The session runs 30")
    made = dict(
        Session.objects.filter(name__in=["Hands on", "Short one"]).values_list(
            "name", "duration_minutes"
        )
    )
    assert made == {"Hands on": 90, "Short one": 20}
    exported = {row["name"]: row for row in export(http)}
    assert (exported["Hands on"]["session_type"], exported["Hands on"]["duration_minutes"]) == (
        "Workshop",
        "90",
    )
