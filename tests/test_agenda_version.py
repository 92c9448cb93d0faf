"""The agenda version (migration 0026) moves with every write that changes what the public
agenda shows, through every door, and with nothing else. The tests commit (transaction=True)
so that PostgreSQL's triggers run at the commit, as they do in production."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from sessions_app import services
from sessions_app.enums import SessionStatus
from sessions_app.models import AgendaVersion, Event, Organisation, Session, Speaker
from sessions_app.services.clients import api_client_create
from tests import factories
from tests.admin.conftest import make_org
from tests.api.conftest import request_token
from tests.browser.conftest import role_groups
from tests.imports import import_done

pytestmark = pytest.mark.django_db(transaction=True)


def version(event) -> int:
    row = AgendaVersion.objects.filter(event_id=event.pk).first()
    return 0 if row is None else row.version


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


@pytest.fixture
def acme():
    role_groups()  # a committing test's flush took them
    org = make_org("Acme")
    # The held session goes live (through the service, as reviewers do), with a speaker.
    services.session_update(
        session_id=org.held.pk,
        data={"session_status": SessionStatus.LIVE, "capacity": 10},
        actor=services.SYSTEM,
    )
    org.held.refresh_from_db()
    org.speaker = Speaker.objects.create(event=org.event, first_name="Ada", last_name="Lovelace")
    services.session_update(
        session_id=org.held.pk, data={"speaker_ids": [org.speaker.pk]}, actor=services.SYSTEM
    )
    org.held.refresh_from_db()
    return org


def bearer(organisation) -> dict:
    api_client, secret = api_client_create(
        organisation=organisation, name="Integration", scopes=["sessions:read", "sessions:write"]
    )
    token = request_token(Client(), api_client.client_id, secret).json()["access_token"]
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def api_patch(acme):
    response = Client().patch(
        f"/api/v1/sessions/{acme.held.pk}",
        json.dumps({"name": "Renamed through the API"}),
        content_type="application/json",
        **bearer(acme.event.organisation),
    )
    assert response.status_code == 200, response.content


def admin_publish(acme):
    """A reviewer publishes the proposal from the session list (an admin action)."""
    services.session_update(
        session_id=acme.proposal.pk,
        data={"session_status": SessionStatus.APPROVED},
        actor=services.SYSTEM,
    )
    response = logged_in(acme.reviewer).post(
        "/admin/sessions_app/session/",
        {"action": "publish_selected", "_selected_action": [acme.proposal.pk]},
    )
    assert response.status_code == 302, response.content[:500]
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.LIVE


def grid_move(acme):
    response = logged_in(acme.organiser).post(
        "/admin/sessions_app/session/schedule/move/",
        json.dumps(
            {
                "id": acme.held.pk,
                "version": acme.held.version,
                "date": acme.held.date.isoformat(),
                "start_time": "16:00",
                "end_time": "17:00",
                "location_id": acme.other_room.pk,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def csv_import(acme):
    http = logged_in(acme.organiser)
    csv_text = f"id,name\n{acme.held.pk},Renamed by import\n"
    response = http.post(
        "/admin/sessions_app/session/import/",
        {"event": acme.event.pk, "file": SimpleUploadedFile("s.csv", csv_text.encode())},
    )
    assert "<strong>1</strong> updated" in import_done(http, response).content.decode()


def selection(acme):
    registrant = factories.registrant(event=acme.event)
    result = services.selection_add(
        registrant_id=registrant.pk, session_id=acme.held.pk, actor=services.SYSTEM
    )
    assert Session.objects.get(pk=acme.held.pk).seats_taken == 1, result


def speaker_edit(acme):
    response = Client().patch(
        f"/api/v1/speakers/{acme.speaker.pk}",
        json.dumps({"first_name": "Augusta"}),
        content_type="application/json",
        **bearer(acme.event.organisation),
    )
    assert response.status_code == 200, response.content


def room_rename(acme):
    response = logged_in(acme.organiser).get(f"/admin/sessions_app/location/{acme.room.pk}/change/")
    assert response.status_code == 200
    acme.room.name = "Great Hall"
    acme.room.save()


def event_move(acme):
    Event.objects.filter(pk=acme.event.pk).update(timezone="America/New_York")


def organisation_rename(acme):
    Organisation.objects.filter(pk=acme.event.organisation_id).update(name="Acme Worldwide")


@pytest.mark.parametrize(
    "write",
    [
        api_patch,
        admin_publish,
        grid_move,
        csv_import,
        selection,
        speaker_edit,
        room_rename,
        event_move,
        organisation_rename,
    ],
)
def test_every_write_that_changes_the_agenda_moves_its_version_and_the_page(acme, write):
    other = make_org("Globex")
    agenda = f"/agenda/{acme.event.organisation.slug}/{acme.event.slug}/"
    page = Client().get(agenda)
    before, others_before = version(acme.event), version(other.event)

    write(acme)

    after = version(acme.event)
    assert after > before
    assert version(other.event) == others_before  # another organisation's agenda is not told
    again = Client().get(agenda, HTTP_IF_NONE_MATCH=page["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != page["ETag"]


def test_writes_the_agenda_does_not_show_leave_its_version(acme):
    """A proposal's edits, a room's session that is not live: nothing attendees see."""
    before = version(acme.event)
    services.session_update(
        session_id=acme.proposal.pk, data={"name": "Still a proposal"}, actor=services.SYSTEM
    )
    factories.session(event=acme.event, name="Another proposal")

    assert version(acme.event) == before


def test_a_write_rolled_back_leaves_the_version(acme):
    before = version(acme.event)
    with pytest.raises(RuntimeError), transaction.atomic():
        Session.objects.filter(pk=acme.held.pk).update(name="Never seen")
        raise RuntimeError

    assert version(acme.event) == before


def test_deleting_an_event_with_live_sessions_is_not_stopped_by_its_version():
    """Its sessions' triggers run while the event goes; no row may stop the delete."""
    event = factories.event()
    factories.live(event=event)
    with transaction.atomic():
        Session.objects.filter(event=event).delete()
        Event.objects.filter(pk=event.pk).delete()

    assert not Event.objects.filter(pk=event.pk).exists()
