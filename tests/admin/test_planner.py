"""The endpoints the schedule grid's planner calls: one session service call per drop."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sessions_app.models import Location, Session, SessionChange
from tests import factories

pytestmark = pytest.mark.django_db

MOVE = "/admin/sessions_app/session/schedule/move/"
STATE = "/admin/sessions_app/session/schedule/state/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(http, body):
    return http.post(MOVE, json.dumps(body), content_type="application/json")


def drop(session, **changes):
    return {
        "id": session.pk,
        "version": session.version,
        "date": session.date.isoformat(),
        "start_time": "16:00",
        "end_time": "17:00",
        "location_id": session.location_id,
        **changes,
    }


def test_a_drop_moves_the_session_through_the_service(acme):
    http = logged_in(acme.organiser)

    response = post(http, drop(acme.held, location_id=acme.other_room.pk))

    assert response.status_code == 200, response.content
    held = Session.objects.get(pk=acme.held.pk)
    assert response.json() == {
        "id": held.pk,
        "version": 2,
        "location_id": acme.other_room.pk,
        "date": held.date.isoformat(),
        "start_time": "16:00",
        "end_time": "17:00",
        "pinned": False,
    }
    assert (held.location, held.start_time.isoformat(), held.version) == (
        acme.other_room,
        "16:00:00",
        2,
    )
    (change,) = SessionChange.objects.filter(session_id=held.pk)
    assert (change.action, change.note, change.actor_user) == (
        "session.update",
        "Schedule grid",
        acme.organiser,
    )
    assert set(change.changes) == {"location_id", "start_time", "end_time"}


def test_a_drop_on_a_held_slot_is_409_and_changes_nothing(acme):
    Session.objects.filter(pk=acme.proposal.pk).update(session_status="approved")
    proposal = Session.objects.get(pk=acme.proposal.pk)

    response = post(
        logged_in(acme.organiser),
        drop(proposal, start_time="10:30", end_time="11:30", location_id=acme.room.pk),
    )

    assert response.status_code == 409
    assert response.json()["message"] == (
        f'This location is already booked at this time by "Acme keynote" (#{acme.held.pk}).'
    )
    proposal.refresh_from_db()
    assert (proposal.start_time.isoformat(), proposal.version) == ("12:00:00", 1)
    assert not SessionChange.objects.exists()


def test_a_drop_on_a_stale_grid_is_412(acme):
    http = logged_in(acme.organiser)
    assert post(http, drop(acme.held)).status_code == 200

    response = post(http, drop(acme.held, start_time="08:00", end_time="09:00"))  # version 1

    assert response.status_code == 412
    assert response.json()["version"] == 2
    assert "Someone else changed this session" in response.json()["message"]
    assert Session.objects.get(pk=acme.held.pk).start_time.isoformat() == "16:00:00"


def test_unscheduling_and_its_refusal_for_a_live_session(acme):
    http = logged_in(acme.organiser)

    response = post(http, {"id": acme.proposal.pk, "version": 1, "unschedule": True})
    assert response.status_code == 200
    proposal = Session.objects.get(pk=acme.proposal.pk)
    assert (proposal.date, proposal.start_time, proposal.starts_at) == (None, None, None)

    Session.objects.filter(pk=acme.held.pk).update(session_status="live")
    response = post(http, {"id": acme.held.pk, "version": 1, "unschedule": True})
    assert response.status_code == 422
    assert "live" in response.json()["message"].lower()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        [1],
        {"id": "5", "version": 1},
        {"id": "ID"},
        {"date": "2030-13-01"},
        {"start_time": "25:00", "end_time": "26:00"},
        {"location_id": "x"},
        {"date": None},
    ],
    ids=[
        "not-json",
        "not-object",
        "id-text",
        "no-version",
        "bad-date",
        "bad-time",
        "bad-room",
        "no-date",
    ],
)
def test_malformed_drops_are_400(acme, body):
    if isinstance(body, dict):
        body = {**drop(acme.held), **body} if "id" not in body else body
        body = {key: acme.held.pk if value == "ID" else value for key, value in body.items()}
    text = body if isinstance(body, str) else json.dumps(body)

    response = logged_in(acme.organiser).post(MOVE, text, content_type="application/json")

    assert response.status_code == 400, response.content
    assert Session.objects.get(pk=acme.held.pk).version == 1


def test_another_organisations_session_is_404_and_a_reviewer_403(acme, globex):
    assert post(logged_in(acme.organiser), drop(globex.held)).status_code == 404
    assert post(logged_in(acme.reviewer), drop(acme.held)).status_code == 403
    assert Session.objects.get(pk=globex.held.pk).version == 1
    assert Session.objects.get(pk=acme.held.pk).version == 1


def test_the_grid_state_has_an_etag_that_moves_with_the_sessions(acme):
    http = logged_in(acme.organiser)
    params = {"event": acme.event.pk, "day": acme.event.start_date.isoformat()}

    first = http.get(STATE, params)
    again = http.get(STATE, params, HTTP_IF_NONE_MATCH=first["ETag"])
    post(http, drop(acme.held))
    changed = http.get(STATE, params, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200 and again.status_code == 304
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert logged_in(acme.organiser).get(STATE, {"event": 999999, "day": "x"}).status_code == 404


def test_the_grid_state_moves_when_a_room_is_renamed(acme):
    """The rooms are the grid's columns: someone else renaming one redraws it."""
    http = logged_in(acme.organiser)
    params = {"event": acme.event.pk, "day": acme.event.start_date.isoformat()}
    first = http.get(STATE, params)

    Location.objects.filter(pk=acme.other_room.pk).update(name="Renamed room")
    renamed = http.get(STATE, params, HTTP_IF_NONE_MATCH=first["ETag"])

    assert renamed.status_code == 200 and renamed["ETag"] != first["ETag"]


def _move_queries(http, session) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = post(http, drop(session, start_time="18:00", end_time="18:30"))
    assert response.status_code == 200, response.content
    return len(captured)


def test_a_drop_costs_the_same_however_full_the_day(acme):
    http = logged_in(acme.organiser)
    post(http, drop(acme.proposal, start_time="17:00", end_time="17:30"))  # warm up
    acme.proposal.refresh_from_db()
    few = _move_queries(http, acme.proposal)
    for n in range(30):
        factories.scheduled(
            event=acme.event,
            location=acme.other_room,
            session_status="approved",
            start=f"{8 + n // 4:02d}:{(n % 4) * 15:02d}",
            end=f"{8 + n // 4:02d}:{(n % 4) * 15 + 10:02d}",
        )
    acme.proposal.refresh_from_db()
    Session.objects.filter(pk=acme.proposal.pk).update(start_time="17:00", end_time="17:30")
    acme.proposal.refresh_from_db()

    assert _move_queries(http, acme.proposal) == few


@pytest.mark.parametrize(
    "body",
    [{"location_id": 2**64}, {"version": 2**40}],
    ids=["huge-room", "huge-version"],
)
def test_out_of_range_numbers_are_400_not_a_database_error(acme, body):
    response = post(logged_in(acme.organiser), {**drop(acme.held), **body})

    assert response.status_code == 400
    state = logged_in(acme.organiser).get(STATE, {"event": "9" * 30, "day": "2030-06-10"})
    assert state.status_code == 404


def test_the_pin_key_pins_and_unpins_a_session_through_the_service(acme):
    http = logged_in(acme.organiser)

    pinned = post(http, {"id": acme.held.pk, "version": acme.held.version, "pinned": True})

    assert pinned.status_code == 200, pinned.content
    assert pinned.json()["pinned"] is True
    held = Session.objects.get(pk=acme.held.pk)
    assert held.pinned and held.version == acme.held.version + 1
    entry = SessionChange.objects.filter(session=held).latest("pk")
    assert entry.changes == {"pinned": {"old": False, "new": True}}
    assert entry.note == "Schedule grid"
    # The old version is refused (the grid is stale), a non-boolean is a bad request.
    stale = post(http, {"id": held.pk, "version": acme.held.version, "pinned": False})
    assert stale.status_code == 412
    bad = post(http, {"id": held.pk, "version": held.version, "pinned": "yes"})
    assert bad.status_code == 400
    unpinned = post(http, {"id": held.pk, "version": held.version, "pinned": False})
    assert unpinned.status_code == 200 and not Session.objects.get(pk=held.pk).pinned
