"""*Personal data requests* in the staff UI: an organiser downloads what is held about a
person, or has it erased; the list is the audit trail, and never says whom."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from sessions_app import services
from sessions_app.models import PrivacyRequest, Registrant, Selection
from sessions_app.notices import compose
from tests import factories
from tests.tasks import run_due_tasks

ADD = "/admin/sessions_app/privacyrequest/add/"
LIST = "/admin/sessions_app/privacyrequest/"


@pytest.fixture
def person(acme):
    session = factories.live(event=acme.event, capacity=3, name="Acme workshop")
    return services.registrant_create(
        event_id=acme.event.pk,
        data={"first_name": "Linus", "last_name": "Brightwater", "email": "linus@example.org"},
        actor=services.SYSTEM,
        session_ids=[session.pk],
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_organiser_downloads_everything_held_about_a_person(acme, person):
    organiser = signed_in(acme.organiser)
    response = organiser.post(
        ADD,
        {
            "organisation": acme.event.organisation_id,
            "address": "LINUS@example.org",
            "kind": "export",
        },
    )
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Disposition"].startswith('attachment; filename="personal-data-')
    data = json.loads(response.content)
    [row] = data["registrants"]
    assert (row["first_name"], row["selections"][0]["session"]) == ("Linus", "Acme workshop")
    audit = PrivacyRequest.objects.get()
    assert (audit.kind, audit.state, audit.email, audit.requested_by) == (
        "export", "done", "", "acme-organiser",
    )  # fmt: skip
    page = organiser.get(LIST).content.decode()
    assert "1 registrants" in page and "linus" not in page.lower()


def test_an_erasure_needs_the_confirmation_then_the_worker_erases(acme, person):
    organiser = signed_in(acme.organiser)
    data = {"organisation": acme.event.organisation_id, "address": "linus@example.org"}
    refused = organiser.post(ADD, {**data, "kind": "erasure"})
    assert refused.status_code == 200 and b"cannot be undone" in refused.content
    # A retention is housekeeping's: not a kind anyone asks for.
    by_hand = organiser.post(ADD, {**data, "kind": "retention", "confirm": "on"})
    assert by_hand.status_code == 200 and b"Select a valid choice" in by_hand.content
    assert not PrivacyRequest.objects.exists()

    queued = organiser.post(ADD, {**data, "kind": "erasure", "confirm": "on"})
    assert queued.status_code == 302 and queued["Location"] == LIST
    compose.compose()
    run_due_tasks()
    erased = Registrant.objects.get(pk=person.pk)
    assert (erased.first_name, erased.email) == ("Erased", f"erased-{person.pk}@erased.invalid")
    assert Selection.objects.filter(registrant=person).count() == 1  # the seat stays
    audit = PrivacyRequest.objects.get()
    assert (audit.state, audit.email, audit.counts["registrants"]) == ("done", "", 1)
    assert "Brightwater" not in organiser.get(LIST).content.decode()


def test_another_organisation_cannot_ask_about_ours_and_reviewers_not_at_all(acme, globex, person):
    other = signed_in(globex.organiser)
    response = other.post(
        ADD,
        {
            "organisation": acme.event.organisation_id,
            "address": "linus@example.org",
            "kind": "export",
        },
    )
    assert response.status_code == 200 and b"Select a valid choice" in response.content
    assert not PrivacyRequest.objects.exists()
    assert signed_in(acme.reviewer).get(ADD).status_code == 403
    assert signed_in(acme.reviewer).get(LIST).status_code == 403
