"""Malformed query strings and POSTs get an answer a person can act on, never a 500.

NUL characters only fail on PostgreSQL (its text cannot hold them); non-ASCII digits such as
"²" pass ``str.isdigit()`` but not ``int()``.
"""

import json

import pytest
from django.contrib.messages import get_messages

from sessions_app.enums import SessionStatus
from sessions_app.models import Session, SessionChange
from tests.admin.conftest import change_url


@pytest.mark.parametrize(
    "url",
    [
        "/admin/sessions_app/session/?session_status__exact=%00",
        "/admin/sessions_app/session/review/?q=x%00",
        "/admin/sessions_app/customfield/?field_type__exact=%00",
        "/admin/sessions_app/track/?name=%00",
    ],
    ids=["status_filter", "review_search", "field_type_filter", "raw_lookup"],
)
def test_changelist_nul_in_query_is_an_invalid_lookup(client, acme, url):
    client.force_login(acme.organiser)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_autocomplete_nul_in_term_finds_nothing(client, acme):
    client.force_login(acme.organiser)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "sessions_app", "model_name": "session", "field_name": "track", "term": "\0"},
    )
    assert response.status_code == 200
    assert json.loads(response.content)["results"] == []


def test_session_add_with_non_ascii_digit_event_is_not_found(client, acme):
    client.force_login(acme.organiser)
    assert client.get("/admin/sessions_app/session/add/", {"event": "²"}).status_code == 404


@pytest.mark.parametrize(
    "post",
    [
        {"status": "approved", "version": "²"},
        {"status": "approved", "version": "1", "note": "a\0b"},
        {"status": "approved", "version": "1", "note": "x" * 2001},
    ],
    ids=["non_ascii_version", "nul_in_note", "note_too_long"],
)
def test_status_move_malformed_post_is_refused_with_message(client, acme, post):
    client.force_login(acme.reviewer)
    response = client.post(f"/admin/sessions_app/session/{acme.proposal.pk}/status/", post)
    assert response.status_code == 302
    assert response["Location"] == change_url(acme.proposal)
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "error"
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.SUBMITTED
    assert not SessionChange.objects.exists()


# --- review #45, finding 8: each input that was a 500 ------------------------------------------


@pytest.mark.parametrize(
    "day", ["9999-12-31", "0001-01-01", "²"], ids=["year_9999", "year_1", "digit"]
)
def test_grid_state_with_a_day_outside_the_calendar_is_400(client, acme, day):
    client.force_login(acme.organiser)
    response = client.get(
        "/admin/sessions_app/session/schedule/state/", {"event": acme.event.pk, "day": day}
    )
    assert response.status_code == 400
    assert response.json() == {"message": "Send the day as YYYY-MM-DD."}


def test_grid_with_a_non_ascii_proposal_id_shows_no_suggestion(client, acme):
    client.force_login(acme.organiser)
    response = client.get(
        "/admin/sessions_app/session/schedule/", {"event": acme.event.pk, "proposal": "²"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("event", ["²", "\u0661", "1_0", " 1"])
def test_suggest_with_a_malformed_event_is_404(client, acme, event):
    client.force_login(acme.organiser)
    response = client.post("/admin/sessions_app/session/schedule/suggest/", {"event": event})
    assert response.status_code == 404
    from sessions_app.models import ScheduleProposal

    assert not ScheduleProposal.objects.exists()


def test_a_custom_fields_help_text_is_shown_as_text(client, acme):
    """An organiser's help text is shown to everyone who opens a session of the event, so
    its HTML is text, not markup."""
    from tests import factories

    factories.custom_field(
        event=acme.event,
        label="Level",
        help_text='<meta http-equiv="refresh" content="0;url=https://evil.example/">'
        '<a href="https://evil.example/">Session expired, sign in again</a>',
    )
    bodies = []
    for user in (acme.organiser, acme.reviewer):
        client.force_login(user)
        bodies.append(client.get(change_url(acme.held)).content.decode())
    for body in bodies:
        assert "<meta http-equiv" not in body and '<a href="https://evil.example/">' not in body
    assert "&lt;meta http-equiv=&quot;refresh&quot;" in bodies[0]  # the organiser's form


def test_a_csv_header_longer_than_a_csv_field_is_refused_with_a_message(client, acme):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(acme.organiser)
    header = "name," + "x" * 140_000 + "\n"
    response = client.post(
        "/admin/sessions_app/session/import/",
        {
            "event": acme.event.pk,
            "file": SimpleUploadedFile("s.csv", header.encode(), content_type="text/csv"),
        },
    )
    assert response.status_code == 200
    assert "header row is not valid CSV" in response.content.decode()


def test_a_non_ascii_digit_in_an_imported_dropdown_refuses_the_row_only(acme):
    from sessions_app.models import ImportJob
    from sessions_app.transfer import imports
    from tests import factories
    from tests.tasks import run_due_tasks

    field = factories.custom_field(
        event=acme.event, field_type="dropdown", label="Level", choices=["Easy", "Hard"]
    )
    rows = [
        {"name": "Superscript", f"c_{field.pk}": "²"},
        {"name": "Fine", f"c_{field.pk}": ""},
    ]
    job = imports.queue_import(kind="sessions", event=acme.event, rows=rows, user=acme.organiser)
    run_due_tasks()
    job = ImportJob.objects.get(pk=job.pk)
    assert job.state == "done", job.error
    assert (job.report["created"], len(job.report["refused"])) == (1, 1)
