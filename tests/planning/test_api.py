"""Schedule suggestions through the API (scope schedule:write)."""

from __future__ import annotations

from tests import factories
from tests.api.conftest import make_caller  # noqa: F401  (the fixture)
from tests.tasks import run_due_tasks


def test_ask_for_a_suggestion_and_read_it_when_the_worker_has_made_it(
    acme,
    make_caller,  # noqa: F811
    settings,
):
    settings.SCHEDULE_SUGGESTION_SECONDS = 2
    talk = factories.create_via_service(event=acme.event, name="Unplaced")
    api = make_caller(acme.event.organisation, scopes=["schedule:write"])
    asked = api.post(f"/api/v1/events/{acme.event.pk}/schedule-proposals", {"move_placed": 0})
    assert asked.status_code == 202, asked.content
    body = asked.json()
    assert body["state"] == "queued" and body["moves"] == [] and body["day"] is None
    location = asked["Location"]
    assert location.endswith(f"/api/v1/schedule-proposals/{body['id']}")

    run_due_tasks()
    done = api.get(f"/api/v1/schedule-proposals/{body['id']}").json()
    assert done["state"] == "done" and done["status"] in ("optimal", "feasible")
    [move] = done["moves"]
    assert move["session_id"] == talk.pk and move["was"] == "not scheduled"
    assert set(done["before"]) == {"attendee_clashes", "seats_short", "moved", "track_rooms"}
    # Applying the move is a session write with the version it was made from.
    applied = make_caller(acme.event.organisation).patch(
        f"/api/v1/sessions/{talk.pk}",
        {k: move[k] for k in ("location_id", "date", "start_time", "end_time")},
        HTTP_IF_MATCH=f'"{talk.pk}-{move["version"]}"',
    )
    assert applied.status_code == 200, applied.content


def test_bad_requests_are_refused_and_scoped(acme, globex, make_caller):  # noqa: F811
    api = make_caller(acme.event.organisation, scopes=["schedule:write"])
    url = f"/api/v1/events/{acme.event.pk}/schedule-proposals"
    unknown = api.post(url, {"rooms": 3})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == "unknown_field"
    outside = api.post(url, {"day": "1999-01-01"})
    assert outside.status_code == 422 and outside.json()["errors"][0]["code"] == "outside_event"
    assert api.post(f"/api/v1/events/{globex.event.pk}/schedule-proposals", {}).status_code == 404
    reader = make_caller(acme.event.organisation, scopes=["sessions:read", "sessions:write"])
    assert reader.post(url, {}).status_code == 403
    assert api.get("/api/v1/schedule-proposals/999999").status_code == 404
