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


def test_a_suggestion_for_chosen_sessions_places_only_those(acme, make_caller, settings):  # noqa: F811
    settings.SCHEDULE_SUGGESTION_SECONDS = 2
    chosen = factories.create_via_service(event=acme.event, name="Chosen")
    factories.create_via_service(event=acme.event, name="Left alone")
    api = make_caller(acme.event.organisation, scopes=["schedule:write"])
    url = f"/api/v1/events/{acme.event.pk}/schedule-proposals"

    asked = api.post(url, {"session_ids": [chosen.pk, chosen.pk]})

    assert asked.status_code == 202, asked.content
    assert asked.json()["session_ids"] == [chosen.pk]
    run_due_tasks()
    done = api.get(f"/api/v1/schedule-proposals/{asked.json()['id']}").json()
    assert [move["session_id"] for move in done["moves"]] == [chosen.pk]
    assert done["progress"] == ""


def test_chosen_sessions_must_be_the_events_and_sent_as_a_list(acme, globex, make_caller):  # noqa: F811
    api = make_caller(acme.event.organisation, scopes=["schedule:write"])
    url = f"/api/v1/events/{acme.event.pk}/schedule-proposals"
    cases = {
        "does_not_exist": {"session_ids": [globex.held.pk]},  # another organisation's
        "invalid_type": {"session_ids": "1,2"},
    }
    for code, body in cases.items():
        refused = api.post(url, body)
        assert refused.status_code == 422, refused.content
        [error] = refused.json()["errors"]
        assert (error["field"], error["code"]) == ("session_ids", code)
    as_form = api.post(url, {"session_ids": "1"}, form=True)  # a form body cannot carry a list
    assert as_form.status_code == 422
    assert as_form.json()["errors"][0]["code"] == "invalid_type"


def test_a_session_is_pinned_and_unpinned_through_the_api(acme, make_caller):  # noqa: F811
    api = make_caller(acme.event.organisation)
    pinned = api.patch(f"/api/v1/sessions/{acme.held.pk}", {"pinned": "true"}, form=True)
    assert pinned.status_code == 200, pinned.content
    assert pinned.json()["pinned"] == 1
    assert api.get(f"/api/v1/sessions/{acme.held.pk}").json()["pinned"] == 1
    refused = api.patch(f"/api/v1/sessions/{acme.held.pk}", {"pinned": "maybe"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "invalid_boolean"
    assert api.patch(f"/api/v1/sessions/{acme.held.pk}", {"pinned": 0}).json()["pinned"] == 0


def test_an_event_with_nothing_to_place_says_so_and_has_no_after(
    acme,
    make_caller,  # noqa: F811
    settings,
):
    """Every session stays where it is: an answer, not an error, and no score of zeros that
    would read as "no clashes"."""
    settings.SCHEDULE_SUGGESTION_SECONDS = 2
    api = make_caller(acme.event.organisation, scopes=["schedule:write"])
    asked = api.post(f"/api/v1/events/{acme.event.pk}/schedule-proposals", {"move_placed": 0})
    assert asked.status_code == 202, asked.content
    assert "after" not in asked.json()  # not made yet
    run_due_tasks()
    done = api.get(f"/api/v1/schedule-proposals/{asked.json()['id']}").json()
    assert (done["state"], done["status"], done["moves"], done["reasons"]) == (
        "done",
        "nothing_to_place",
        [],
        {},
    )
    assert "after" not in done and "before" in done
