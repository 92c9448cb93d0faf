"""The session list as CSV and Excel, and CSV import through the services."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sessions_app import services
from sessions_app.admin import tables
from sessions_app.enums import CustomFieldType
from sessions_app.models import ImportJob, Session, SessionChange, SessionSpeaker, Speaker
from tests import factories
from tests.imports import import_done

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


@pytest.mark.parametrize(("fmt", "advice"), [("csv", "export again."), ("xlsx", "or export CSV.")])
def test_an_export_of_more_than_a_request_can_write_is_refused_with_advice(
    acme, monkeypatch, fmt, advice
):
    monkeypatch.setitem(tables.EXPORT_MAX_ROWS, fmt, 1)
    http = logged_in(acme.organiser)

    refused = http.get(f"{LIST}export.{fmt}", {"q": "acme"}, follow=True)  # both sessions
    narrowed = http.get(f"{LIST}export.{fmt}", {"session_status__exact": "approved"})

    assert refused.redirect_chain == [(f"{LIST}?q=acme", 302)]  # the list, as it was
    [message] = [str(m) for m in refused.context["messages"]]
    assert message.startswith(f"The list holds more than 1 sessions, the most one {fmt.upper()}")
    assert message.endswith(advice)
    assert narrowed.status_code == 200  # one session: within the limit
    assert narrowed["Content-Disposition"].endswith(f'.{fmt}"')
