"""Session types and session lengths through the API (API.md "From call to agenda")."""

import pytest

from sessions_app.models import Session, SessionChange, SessionType
from tests import factories as f

TYPES = "/api/v1/session-types"


@pytest.fixture
def talk(event):
    return SessionType.objects.create(event=event, name="Talk", default_minutes=30)


def test_session_type_create_list_update_delete(api, event):
    created = api.post(TYPES, {"event_id": event.pk, "name": " Workshop ", "default_minutes": 90})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "event_id": event.pk,
        "name": "Workshop",
        "default_minutes": 90,
    }
    assert created["Location"].endswith(f"/api/v1/session-types/{body['id']}")

    listed = api.get(TYPES, {"event_id": event.pk}).json()
    assert listed["items"] == [body]

    changed = api.patch(f"{TYPES}/{body['id']}", {"default_minutes": 120})
    assert changed.status_code == 200
    assert changed.json() == {**body, "default_minutes": 120}

    assert api.delete(f"{TYPES}/{body['id']}").status_code == 204
    assert not SessionType.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "Talk", "default_minutes": 0}, "default_minutes", "min_value"),
        ({"name": "Talk", "default_minutes": 1441}, "default_minutes", "max_value"),
        ({"name": "Talk", "default_minutes": "ten"}, "default_minutes", "invalid_type"),
        ({"name": "Two\nlines", "default_minutes": 10}, "name", "control_characters"),
        ({"name": "", "default_minutes": 10}, "name", "blank"),
        ({"name": "Talk"}, "default_minutes", "required"),
        ({"name": "Talk", "default_minutes": 5, "colour": "red"}, "colour", "unknown_field"),
    ],
    ids=["zero", "over_a_day", "not_a_number", "two_lines", "blank", "missing", "unknown"],
)
def test_session_type_bad_input_is_422_and_saves_nothing(api, event, body, field, code):
    response = api.post(TYPES, {"event_id": event.pk, **body})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert (errors[0]["field"], errors[0]["code"]) == (field, code)
    assert not SessionType.objects.exists()


def test_session_type_name_is_unique_in_its_event(api, event, talk):
    response = api.post(TYPES, {"event_id": event.pk, "name": "Talk", "default_minutes": 45})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "duplicate"
    assert SessionType.objects.count() == 1


def test_session_type_in_use_is_409_and_kept(api, event, talk):
    session = f.session(event=event, session_type=talk)
    response = api.delete(f"{TYPES}/{talk.pk}")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "type_in_use"
    assert str(session.pk) in response.json()["detail"]
    assert SessionType.objects.filter(pk=talk.pk).exists()


def test_session_types_of_another_organisation_are_404(api, reader):
    elsewhere = f.event()
    other = SessionType.objects.create(event=elsewhere, name="Talk", default_minutes=30)
    assert api.get(f"{TYPES}/{other.pk}").status_code == 404
    assert api.patch(f"{TYPES}/{other.pk}", {"name": "Mine"}).status_code == 404
    assert api.delete(f"{TYPES}/{other.pk}").status_code == 404
    assert api.get(TYPES).json()["items"] == []
    created = api.post(TYPES, {"event_id": elsewhere.pk, "name": "X", "default_minutes": 5})
    assert created.json()["errors"][0]["code"] == "does_not_exist"
    assert reader.post(TYPES, {"event_id": elsewhere.pk, "name": "X"}).status_code == 403
    assert SessionType.objects.get(pk=other.pk).name == "Talk"


def test_session_takes_its_types_length_before_it_has_times(api, event, talk):
    response = api.post(
        "/api/v1/sessions", {"event_id": event.pk, "name": "Lightning", "session_type_id": talk.pk}
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["session_type_id"], response.json()["duration_minutes"]) == (
        talk.pk,
        30,
    )
    session_id = response.json()["id"]
    # Its own length, until another type is given while it has no times.
    own = api.patch(f"/api/v1/sessions/{session_id}", {"duration_minutes": 45})
    assert own.json()["duration_minutes"] == 45
    workshop = SessionType.objects.create(event=event, name="Workshop", default_minutes=90)
    retyped = api.patch(f"/api/v1/sessions/{session_id}", {"session_type_id": workshop.pk})
    assert retyped.json()["duration_minutes"] == 90
    entry = SessionChange.objects.filter(session_id=session_id).latest("id")
    assert entry.changes == {
        "session_type_id": {"old": talk.pk, "new": workshop.pk},
        "duration_minutes": {"old": 45, "new": 90},
    }


def test_session_created_with_times_runs_their_length(api, event, talk):
    response = api.post(
        "/api/v1/sessions",
        {
            "event_id": event.pk,
            "name": "Placed",
            "session_type_id": talk.pk,
            "date": event.start_date.isoformat(),
            "start_time": "10:00",
            "end_time": "10:50",
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["duration_minutes"] == 50


def test_placed_session_length_that_disagrees_with_its_times_is_422(api, event):
    session = f.scheduled(event=event, start="10:00", end="11:00")
    before = api.get(f"/api/v1/sessions/{session.pk}").json()
    response = api.patch(f"/api/v1/sessions/{session.pk}", {"duration_minutes": 45})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "duration_minutes",
            "code": "duration_mismatch",
            "message": "The session runs 60 minutes from 10:00 to 11:00 but its length is 45 "
            "minutes: change its length or its end time.",
        }
    ]
    both = api.patch(
        f"/api/v1/sessions/{session.pk}", {"duration_minutes": 45, "end_time": "10:30"}
    )
    assert both.status_code == 422
    assert api.get(f"/api/v1/sessions/{session.pk}").json() == before
    assert not SessionChange.objects.filter(session_id=session.pk).exists()
    agreed = api.patch(
        f"/api/v1/sessions/{session.pk}", {"duration_minutes": 45, "end_time": "10:45"}
    )
    assert agreed.status_code == 200
    assert Session.objects.get(pk=session.pk).duration_minutes == 45


@pytest.mark.parametrize(
    ("value", "code"),
    [(0, "min_value"), (1441, "max_value"), (None, "invalid_type"), ("1h", "invalid_type")],
    ids=["zero", "over_a_day", "null", "text"],
)
def test_session_length_out_of_range_is_422(api, event, value, code):
    session = f.session(event=event)
    response = api.patch(f"/api/v1/sessions/{session.pk}", {"duration_minutes": value})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == code
    assert Session.objects.get(pk=session.pk).duration_minutes == 60


def test_session_type_of_another_event_is_does_not_exist(api, event):
    other = SessionType.objects.create(
        event=f.event(organisation=event.organisation), name="Talk", default_minutes=30
    )
    session = f.session(event=event)
    response = api.patch(f"/api/v1/sessions/{session.pk}", {"session_type_id": other.pk})
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "session_type_id",
        "code": "does_not_exist",
        "message": "There is no session type with this id in the session's event.",
    }
