"""Create, retrieve (ETag), delete, and the history of a session."""

import pytest

from sessions_app import services
from sessions_app.models import Session, SessionChange
from tests import factories

pytestmark = pytest.mark.django_db


def test_create_is_201_with_location_and_etag_and_history(api, event):
    room = factories.location(event=event)

    response = api.post(
        "/api/v1/sessions",
        {
            "event_id": event.pk,
            "name": "New talk",
            "date": "2030-06-11",
            "start_time": "14:00",
            "end_time": "15:00",
            "location_id": room.pk,
            "selected_by_default": "true",
        },
    )

    assert response.status_code == 201, response.json()
    session = Session.objects.get()
    body = response.json()
    assert response["Location"] == f"http://testserver/api/v1/sessions/{session.pk}"
    assert response["ETag"] == f'"{session.pk}-1.0.0"'
    assert body == api.get(f"/api/v1/sessions/{session.pk}").json()
    assert body == {
        **body,
        "id": session.pk,
        "event_id": event.pk,
        "name": "New talk",
        "date": "2030-06-11",
        "start_time": "14:00:00",
        "end_time": "15:00:00",
        "starts_at": "2030-06-11T14:00:00+02:00",
        "ends_at": "2030-06-11T15:00:00+02:00",
        "use_event_timezone": 1,
        "timezone": None,
        "session_status": "submitted",
        "selection_control": "optional",
        "selected_by_default": 1,
        "locked_when_saved": 0,
        "prevent_session_conflicts": 0,
        "location_id": room.pk,
        "custom_fields": {},
        "version": 1,
    }
    assert len(body["secure_id"]) >= 22
    change = SessionChange.objects.get(session_id=session.pk)
    assert (change.action, change.actor_client) == ("session.create", api.api_client)
    assert change.changes["name"] == {"old": None, "new": "New talk"}


def test_create_without_event_and_name_is_422(api, event):
    response = api.post("/api/v1/sessions", {"badge_name": "x"})

    assert response.status_code == 422
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("event_id", "required"),
        ("name", "required"),
    }
    assert not Session.objects.exists()


def test_create_with_read_only_field_is_422(api, event):
    response = api.post("/api/v1/sessions", {"event_id": event.pk, "name": "x", "id": 5})

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "read_only"
    assert not Session.objects.exists()


def test_create_validate_only_creates_nothing(api, event):
    response = api.post(
        "/api/v1/sessions?validate_only=true", {"event_id": event.pk, "name": "Dry run"}
    )

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["name"]) == (None, "Dry run")
    assert "Location" not in response
    assert not Session.objects.exists()
    assert not SessionChange.objects.exists()


def test_create_form_encoded(api, event):
    response = api.post(
        "/api/v1/sessions", {"event_id": str(event.pk), "name": "Form made"}, form=True
    )

    assert response.status_code == 201
    assert Session.objects.get().name == "Form made"


def test_retrieve_with_current_etag_is_304(api, event):
    session = factories.session(event=event)
    first = api.get(f"/api/v1/sessions/{session.pk}")

    again = api.get(f"/api/v1/sessions/{session.pk}", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert "X-Rate-Limit-Remaining" in again


def test_retrieve_with_stale_etag_is_200(api, event):
    session = factories.session(event=event)
    etag = api.get(f"/api/v1/sessions/{session.pk}")["ETag"]
    api.patch(f"/api/v1/sessions/{session.pk}", {"name": "Changed"})

    response = api.get(f"/api/v1/sessions/{session.pk}", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["name"] == "Changed"
    assert response["ETag"] == f'"{session.pk}-2.0.0"'


def test_delete_is_204_and_history_stays(api, event):
    session = factories.session(event=event, name="Going")

    response = api.delete(f"/api/v1/sessions/{session.pk}")

    assert response.status_code == 204
    assert not Session.objects.filter(pk=session.pk).exists()
    change = SessionChange.objects.get(session_id=session.pk)
    assert (change.action, change.actor_client) == ("session.delete", api.api_client)
    history = api.get(f"/api/v1/sessions/{session.pk}/history").json()["items"]
    assert [item["action"] for item in history] == ["session.delete"]
    assert api.get(f"/api/v1/sessions/{session.pk}").status_code == 404


def test_delete_live_session_is_409_until_unpublished(api, event):
    session = factories.scheduled(event=event, session_status="live")

    response = api.delete(f"/api/v1/sessions/{session.pk}")

    assert response.status_code == 409
    body = response.json()
    assert body["allowed"] == ["approved"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("session_status", "live_delete")]
    assert Session.objects.filter(pk=session.pk).exists()
    assert not SessionChange.objects.exists()
    unpublish = api.patch(f"/api/v1/sessions/{session.pk}", {"session_status": "approved"})
    assert unpublish.status_code == 200
    assert api.delete(f"/api/v1/sessions/{session.pk}").status_code == 204


def test_history_is_newest_first_with_actor_and_changes(api, event):
    user = factories.user()
    session = factories.create_via_service(
        event=event, actor=services.Actor(user=user), name="Talk"
    )
    services.session_set_status(
        session_id=session.pk, status="approved", actor=services.Actor(user=user), note="Good."
    )
    api.patch(f"/api/v1/sessions/{session.pk}", {"locked_when_saved": 1})

    response = api.get(f"/api/v1/sessions/{session.pk}/history")

    items = response.json()["items"]
    assert [item["action"] for item in items] == [
        "session.update",
        "session.status.approved",
        "session.create",
    ]
    latest, status_move = items[0], items[1]
    assert latest == {
        "id": latest["id"],
        "session_id": session.pk,
        "action": "session.update",
        "action_label": "Updated",
        "actor": {
            "type": "api_client",
            "label": "API client Test client",
            "client_id": api.api_client.client_id,
        },
        "changes": {"locked_when_saved": {"old": 0, "new": 1}},
        "note": "",
        "version": 3,
        "created_at": latest["created_at"],
    }
    assert status_move["actor"] == {"type": "user", "label": user.username, "client_id": None}
    assert status_move["changes"] == {"session_status": {"old": "submitted", "new": "approved"}}
    assert status_move["note"] == "Good."
