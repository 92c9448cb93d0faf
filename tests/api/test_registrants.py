"""Registrants and their selections over the API, with real tokens (API.md "Registrants")."""

import pytest

from sessions_app import services
from sessions_app.models import Registrant, Selection, Session, SessionChange
from tests import factories as f

pytestmark = pytest.mark.django_db

ALL = ["sessions:read", "sessions:write", "registrants:read", "registrants:write"]


@pytest.fixture
def api(make_caller, organisation):
    return make_caller(organisation, scopes=ALL)


def create(api, event, **body):
    body = {"event_id": event.pk, "first_name": "Ada", "email": "ada@example.org", **body}
    return api.post("/api/v1/registrants", body)


def select(api, registrant, session, query="", **body):
    return api.post(
        f"/api/v1/registrants/{registrant.pk}/sessions{query}", {"session_id": session.pk, **body}
    )


def test_create_registrant_is_201_with_location_and_a_working_selection_url(api, event):
    response = create(api, event, last_name="Lovelace")

    assert response.status_code == 201, response.json()
    body = response.json()
    registrant = Registrant.objects.get()
    assert response["Location"] == f"http://testserver/api/v1/registrants/{registrant.pk}"
    assert body == {
        "id": registrant.pk,
        "event_id": event.pk,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
        "selection_url": f"http://testserver{registrant.get_selection_path()}",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    page = api.http.get(body["selection_url"].removeprefix("http://testserver"))
    assert page.status_code == 200
    assert "Ada Lovelace" in page.content.decode()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"email": "not-an-email"}, "email", "invalid"),
        ({"first_name": ""}, "first_name", "blank"),
        ({"first_name": 5}, "first_name", "invalid_type"),
        ({"nickname": "x"}, "nickname", "unknown_field"),
        ({"id": 7}, "id", "read_only"),
        ({"session_ids": "1,2"}, "session_ids", "invalid_type"),
    ],
    ids=["email", "blank_name", "name_type", "unknown", "read_only", "session_ids"],
)
def test_create_registrant_with_bad_input_is_422_naming_the_field(api, event, body, field, code):
    response = create(api, event, **body)

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in response.json()["errors"]
    ]
    assert not Registrant.objects.exists()


def test_duplicate_email_in_any_case_is_422(api, event):
    create(api, event, email="Ada@Example.org")

    response = create(api, event, email="ADA@example.ORG")

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "email_taken"


def test_registrants_of_another_organisation_are_404(api, make_caller):
    other_org = f.organisation()
    theirs = f.registrant(event=f.event(organisation=other_org))
    their_session = f.live(event=theirs.event)

    assert api.get(f"/api/v1/registrants/{theirs.pk}").status_code == 404
    assert api.patch(f"/api/v1/registrants/{theirs.pk}", {"first_name": "X"}).status_code == 404
    assert api.delete(f"/api/v1/registrants/{theirs.pk}").status_code == 404
    chosen = select(api, theirs, their_session)
    assert chosen.status_code == 404
    assert chosen.json()["detail"] == f"There is no registrant with id {theirs.pk}."
    # Whatever the body says: refused bodies are a 404 too, not a 422 or a 400 that would
    # tell this registrant exists.
    for body in [{"session_id": "x"}, {}, {"nope": 1}, "[1]"]:
        refused = api.post(f"/api/v1/registrants/{theirs.pk}/sessions", body)
        assert refused.status_code == 404, (body, refused.content)
    missing = api.post("/api/v1/registrants/999999999/sessions", {"session_id": "x"})
    assert missing.status_code == 404
    assert not Selection.objects.filter(registrant=theirs).exists()
    services.selection_add(
        registrant_id=theirs.pk, session_id=their_session.pk, actor=services.SYSTEM
    )
    given_up = api.delete(f"/api/v1/registrants/{theirs.pk}/sessions/{their_session.pk}")
    assert given_up.status_code == 404
    assert given_up.json()["detail"] == f"There is no registrant with id {theirs.pk}."
    assert Selection.objects.filter(registrant=theirs).count() == 1  # theirs, untouched
    assert api.get(f"/api/v1/sessions/{their_session.pk}/registrants").status_code == 404
    assert api.get("/api/v1/registrants").json()["items"] == []
    assert create(api, theirs.event).json()["errors"][0]["code"] == "does_not_exist"


def test_session_scopes_do_not_reach_registrants(make_caller, organisation, event):
    caller = make_caller(organisation, scopes=["sessions:read", "sessions:write"])
    ada = f.registrant(event=event)

    for response in (
        caller.get("/api/v1/registrants"),
        caller.get(f"/api/v1/registrants/{ada.pk}"),
        create(caller, event, email="b@example.org"),
        caller.get(f"/api/v1/sessions/{f.live(event=event).pk}/registrants"),
    ):
        assert response.status_code == 403
        assert "registrants:" in response.json()["detail"]


def test_read_scope_cannot_select(make_caller, organisation, event):
    caller = make_caller(organisation, scopes=["registrants:read"])
    ada = f.registrant(event=event)

    response = select(caller, ada, f.live(event=event))

    assert response.status_code == 403
    assert "registrants:write" in response.json()["detail"]


def test_list_search_and_event_filter(api, event):
    ada = f.registrant(event=event, first_name="Ada", email="ada@example.org")
    f.registrant(event=event, first_name="Grace", email="grace@example.org")
    other_event = f.event(organisation=event.organisation)
    f.registrant(event=other_event, first_name="Ada", email="ada@example.org")

    found = api.get("/api/v1/registrants", {"search": "ada", "event_id": event.pk}).json()

    assert [item["id"] for item in found["items"]] == [ada.pk]
    assert found["_meta"]["totalCount"] == 1


def test_list_search_ignores_case_beyond_ascii(api, event):
    emile = f.registrant(event=event, first_name="Émile", last_name="Øberg")
    f.registrant(event=event, first_name="Emile", last_name="Oberg")

    for term in ("émile", "ÉMILE", "øBERG"):
        found = api.get("/api/v1/registrants", {"search": term, "event_id": event.pk}).json()
        assert [item["id"] for item in found["items"]] == [emile.pk], term


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ada", {"first"}),
        ("LOVE", {"last"}),
        ("example.net", {"email"}),
        ("100%", {"wildcards"}),  # LIKE's wildcards are plain characters
        ("adak", set()),  # no match across two fields
        ("", {"first", "last", "email", "wildcards"}),  # no search
    ],
)
def test_list_search_looks_in_each_of_name_and_email(api, event, term, expected):
    made = {
        "first": f.registrant(event=event, first_name="Ada", last_name="K", email="a@x.org"),
        "last": f.registrant(event=event, first_name="Bo", last_name="Glover", email="b@x.org"),
        "email": f.registrant(event=event, first_name="Cy", last_name="L", email="c@example.net"),
        "wildcards": f.registrant(event=event, first_name="Di", last_name="100%", email="d@x.org"),
    }

    found = api.get("/api/v1/registrants", {"search": term, "event_id": event.pk}).json()

    assert {item["id"] for item in found["items"]} == {made[key].pk for key in expected}


def test_patch_registrant_changes_only_what_is_sent(api, event):
    ada = f.registrant(event=event, first_name="Ada", last_name="Lovelace")

    response = api.patch(f"/api/v1/registrants/{ada.pk}", {"last_name": "King"})

    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["last_name"]) == ("Ada", "King")
    moved = api.patch(f"/api/v1/registrants/{ada.pk}", {"event_id": f.event().pk})
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["code"] == "event_change"


def test_select_answers_201_then_200_and_the_session_counts_it(api, event):
    session = f.live(event=event, capacity=10)
    ada = f.registrant(event=event)

    first = select(api, ada, session)
    again = select(api, ada, session)

    assert first.status_code == 201
    assert first.json() == {
        "registrant_id": ada.pk,
        "session_id": session.pk,
        "state": "selected",
        "waitlist_position": None,
        "saved_at": first.json()["saved_at"],
    }
    assert again.status_code == 200
    body = api.get(f"/api/v1/sessions/{session.pk}").json()
    assert (body["seats_taken"], body["waitlist_count"]) == (1, 0)
    history = api.get(f"/api/v1/sessions/{session.pk}/history").json()["items"]
    assert history[0]["action"] == "selection.created"
    assert history[0]["actor"]["type"] == "api_client"


def test_sold_out_is_409_with_the_message_and_waitlist_queues(api, event):
    session = f.live(event=event, capacity=1, sold_out_message="Watch the stream")
    holder, a, b = (f.registrant(event=event) for _ in range(3))
    select(api, holder, session)

    refused = select(api, a, session)
    queued_a = select(api, a, session, waitlist=1)
    queued_b = select(api, b, session, waitlist=True)

    assert refused.status_code == 409
    body = refused.json()
    assert body["errors"][0]["code"] == "sold_out"
    assert body["sold_out_message"] == "Watch the stream"
    assert body["detail"] == "Watch the stream"
    assert (queued_a.status_code, queued_a.json()["state"]) == (201, "waitlisted")
    assert queued_a.json()["waitlist_position"] == 1
    assert queued_b.json()["waitlist_position"] == 2
    listed = api.get(f"/api/v1/sessions/{session.pk}/registrants").json()["items"]
    assert [(i["registrant_id"], i["state"], i["waitlist_position"]) for i in listed] == [
        (holder.pk, "selected", None),
        (a.pk, "waitlisted", 1),
        (b.pk, "waitlisted", 2),
    ]
    assert listed[0]["registrant"]["email"] == holder.email


def test_giving_up_promotes_the_first_waiting(api, event):
    session = f.live(event=event, capacity=1)
    holder, waiting = f.registrant(event=event), f.registrant(event=event)
    select(api, holder, session)
    select(api, waiting, session, waitlist=1)

    response = api.delete(f"/api/v1/registrants/{holder.pk}/sessions/{session.pk}")

    assert response.status_code == 204
    mine = api.get(f"/api/v1/registrants/{waiting.pk}/sessions").json()["items"]
    assert [(i["session_id"], i["state"]) for i in mine] == [(session.pk, "selected")]


@pytest.mark.parametrize(
    ("session_kwargs", "code"),
    [
        ({"session_status": "rejected"}, "not_selectable"),
        ({"capacity": 0}, "sold_out"),
    ],
    ids=["not_live", "sold_out"],
)
def test_select_refusals_are_409_and_change_nothing(api, event, session_kwargs, code):
    kwargs = {"session_status": "live", **session_kwargs}
    session = f.scheduled(event=event, **kwargs)
    ada = f.registrant(event=event)

    response = select(api, ada, session)

    assert response.status_code == 409
    assert response.json()["errors"] == [
        {"field": "session_id", "code": code, "message": response.json()["errors"][0]["message"]}
    ]
    assert not Selection.objects.exists()
    assert not SessionChange.objects.exists()


def test_selection_conflict_is_409_naming_the_other_session(api, event):
    first = f.live(event=event, start="10:00", end="11:00", prevent_session_conflicts=True)
    second = f.live(event=event, start="10:30", end="11:30")
    ada = f.registrant(event=event)
    select(api, ada, first)

    response = select(api, ada, second)

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "selection_conflict"
    assert [c["id"] for c in response.json()["conflicts"]] == [first.pk]


def test_included_and_locked_seats_are_409_unless_override_lock(api, event):
    included = f.live(event=event, selection_control="included", start="09:00", end="10:00")
    locked = f.live(event=event, locked_when_saved=True, start="11:00", end="12:00")
    ada_id = create(api, event).json()["id"]
    ada = Registrant.objects.get(pk=ada_id)
    select(api, ada, locked)

    for session, code in ((included, "included"), (locked, "locked")):
        response = api.delete(f"/api/v1/registrants/{ada.pk}/sessions/{session.pk}")
        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == code
    overridden = api.delete(f"/api/v1/registrants/{ada.pk}/sessions/{locked.pk}?override_lock=1")

    assert overridden.status_code == 204
    assert list(ada.selections.values_list("session_id", flat=True)) == [included.pk]


def test_override_capacity_and_validate_only(api, event):
    session = f.live(event=event, capacity=0)
    ada = f.registrant(event=event)

    preview = select(api, ada, session, query="?override_capacity=1&validate_only=1")
    assert (preview.status_code, preview.json()["state"]) == (200, "selected")
    assert not Selection.objects.exists()
    seated = select(api, ada, session, query="?override_capacity=1")

    assert (seated.status_code, seated.json()["state"]) == (201, "selected")
    assert Session.objects.get(pk=session.pk).seats_taken == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "required"),
        ({"session_id": "x"}, 422, "invalid_type"),
        ({"session_id": 1, "waitlist": "maybe"}, 422, "invalid_boolean"),
        ({"session_id": 1, "seat": 4}, 422, "unknown_field"),
        ({"session_id": 99999999}, 422, "does_not_exist"),
    ],
    ids=["missing", "type", "flag", "unknown", "no_session"],
)
def test_select_with_bad_body(api, event, body, status, code):
    ada = f.registrant(event=event)

    response = api.post(f"/api/v1/registrants/{ada.pk}/sessions", body)

    assert response.status_code == status
    assert code in [e["code"] for e in response.json()["errors"]]


def test_give_up_what_is_not_held_is_404(api, event):
    ada = f.registrant(event=event)
    session = f.live(event=event)

    assert api.delete(f"/api/v1/registrants/{ada.pk}/sessions/{session.pk}").status_code == 404
    assert api.delete(f"/api/v1/registrants/{ada.pk}/sessions/999999").status_code == 404


def test_create_with_session_ids_and_a_refusal_creates_nothing(api, event):
    full = f.live(event=event, capacity=0)

    response = create(api, event, session_ids=[full.pk])

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "sold_out"
    assert not Registrant.objects.exists()


def test_delete_registrant_frees_the_seat(api, event):
    session = f.live(event=event, capacity=1)
    ada, bob = f.registrant(event=event), f.registrant(event=event)
    select(api, ada, session)
    select(api, bob, session, waitlist=1)

    assert api.delete(f"/api/v1/registrants/{ada.pk}").status_code == 204

    assert Selection.objects.get(session=session).registrant_id == bob.pk


@pytest.mark.parametrize("count", [1, 50])
def test_registrant_list_query_count_does_not_grow(
    api, event, count, django_assert_num_queries, database_rate_limit
):
    for _ in range(count):
        f.registrant(event=event)

    # token, rate limit, page (a page that is not full needs no count)
    with django_assert_num_queries(3):
        response = api.get("/api/v1/registrants", {"per-page": 200})

    assert len(response.json()["items"]) == count


@pytest.mark.parametrize("count", [1, 50])
def test_attendee_list_query_count_does_not_grow(
    api, event, count, django_assert_num_queries, database_rate_limit
):
    session = f.live(event=event, capacity=count // 2 or 1)
    for _ in range(count):
        select(api, f.registrant(event=event), session, waitlist=1)

    # token, rate limit, the session exists, page (with registrants and positions; not full,
    # so no count)
    with django_assert_num_queries(4):
        response = api.get(f"/api/v1/sessions/{session.pk}/registrants", {"per-page": 200})

    assert len(response.json()["items"]) == count


def test_patch_with_the_answered_read_only_values_is_accepted(api, event):
    ada_id = create(api, event).json()["id"]
    answered = api.get(f"/api/v1/registrants/{ada_id}").json()

    response = api.patch(f"/api/v1/registrants/{ada_id}", {**answered, "first_name": "Augusta"})
    changed = api.patch(f"/api/v1/registrants/{ada_id}", {"selection_url": "http://x/"})

    assert response.status_code == 200, response.json()
    assert response.json()["first_name"] == "Augusta"
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["code"] == "read_only"


def test_a_seat_taken_changes_the_etag_but_does_not_make_if_match_stale(api, event):
    session = f.live(event=event, capacity=5)
    ada = f.registrant(event=event)
    etag = api.get(f"/api/v1/sessions/{session.pk}")["ETag"]

    select(api, ada, session)
    fresh = api.get(f"/api/v1/sessions/{session.pk}", HTTP_IF_NONE_MATCH=etag)
    renamed = api.patch(f"/api/v1/sessions/{session.pk}", {"name": "Renamed"}, HTTP_IF_MATCH=etag)

    assert etag == f'"{session.pk}-1.0.0"'
    assert fresh.status_code == 200  # not a 304 with the old seat count
    assert fresh.json()["seats_taken"] == 1
    assert fresh["ETag"] == f'"{session.pk}-1.1.0"'
    assert renamed.status_code == 200
    assert renamed["ETag"] == f'"{session.pk}-2.1.0"'


@pytest.mark.parametrize("event_id", [2**63, 2**63 - 1, -(2**63) - 1])
def test_an_event_id_no_row_can_have_is_refused_not_an_error(api, event_id):
    """Past the database's integers (the fuzzing found it): no event, 422 does_not_exist as
    for any event the client does not have."""
    response = api.post(
        "/api/v1/registrants",
        {"event_id": event_id, "first_name": "Ada", "last_name": "L", "email": "ada@ex.org"},
    )

    assert response.status_code == 422, response.content
    assert response.json()["errors"][0] == {
        "field": "event_id",
        "code": "does_not_exist",
        "message": "There is no event with this id.",
    }
    assert not Registrant.objects.exists()
