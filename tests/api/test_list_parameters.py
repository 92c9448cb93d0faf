"""fields, expand, ids and strict parameters on every list and item endpoint (API.md "Every
list"), the vendor's paths, and the session's derived fields."""

import pytest

from sessions_app import services
from sessions_app.webhooks import subscriptions
from tests import factories as f

pytestmark = pytest.mark.django_db

ALL = [
    "sessions:read",
    "sessions:write",
    "registrants:read",
    "registrants:write",
    "webhooks:write",
]


@pytest.fixture
def api(make_caller, organisation):
    return make_caller(organisation, scopes=ALL)


@pytest.fixture
def world(event):
    track = f.track(event=event, name="Engineering", color="#16a34a")
    room = f.location(event=event, name="Hall", capacity=100)
    sessions = [
        f.scheduled(
            event=event,
            name=f"S{n}",
            track=track,
            location=room,
            start=f"{9 + n:02d}:00",
            end=f"{9 + n:02d}:30",
        )
        for n in range(3)
    ]
    registrant = f.registrant(event=event)
    f.custom_field(event=event, label="Level")
    webhook, _ = subscriptions.webhook_create(
        organisation_id=event.organisation_id,
        data={"url": "https://hooks.example.com/in", "events": ["*"]},
    )
    return {
        "speaker": services.speaker_create(event_id=event.pk, data={"first_name": "Ada"}),
        "webhook": webhook,
        "event": event,
        "track": track,
        "room": room,
        "sessions": sessions,
        "registrant": registrant,
    }


LIST_ENDPOINTS = [
    "/api/v1/sessions",
    "/api/v1/events",
    "/api/v1/tracks",
    "/api/v1/locations",
    "/api/v1/sessions/fields",
    "/api/v1/registrants",
    "/api/v1/webhooks",
    "/api/v1/speakers",
]


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_an_unknown_parameter_is_400_naming_it(api, world, path):
    response = api.get(path, {"evnt_id": world["event"].pk})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "evnt_id",
            "code": "unknown_parameter",
            "message": "'evnt_id' is not a parameter of this endpoint.",
        }
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sessions/{session}",
        "/api/v1/events/{event}",
        "/api/v1/registrants/{registrant}",
        "/api/v1/sessions/{session}/history",
        "/api/v1/sessions/{session}/registrants",
        "/api/v1/registrants/{registrant}/sessions",
        "/api/v1/webhooks/{webhook}",
        "/api/v1/webhooks/{webhook}/deliveries",
        "/api/v1/speakers/{speaker}",
    ],
)
def test_item_endpoints_refuse_unknown_parameters_too(api, world, path):
    url = path.format(
        session=world["sessions"][0].pk,
        event=world["event"].pk,
        registrant=world["registrant"].pk,
        webhook=world["webhook"].pk,
        speaker=world["speaker"].pk,
    )

    assert api.get(url).status_code == 200
    response = api.get(url, {"verbose": "1"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "verbose"


def test_unknown_parameter_on_a_write_is_400_and_writes_nothing(api, world):
    session = world["sessions"][0]

    response = api.patch(f"/api/v1/sessions/{session.pk}?dry_run=1", {"name": "New"})

    assert response.status_code == 400
    session.refresh_from_db()
    assert session.name == "S0"


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_fields_answers_only_those_and_leaves_out_unknown_names(api, world, path):
    response = api.get(path, {"fields": "id,name,no_such_field"})

    assert response.status_code == 200
    items = response.json()["items"]
    assert items
    assert all(set(item) <= {"id", "name"} and "id" in item for item in items)


def test_fields_and_expand_on_one_session(api, world):
    session = world["sessions"][0]

    response = api.get(
        f"/api/v1/sessions/{session.pk}",
        {"fields": "id,track_id", "expand": "track,location,speakers,sponsors"},
    )

    assert response.json() == {
        "id": session.pk,
        "track_id": world["track"].pk,
        "track": {
            "id": world["track"].pk,
            "event_id": world["event"].pk,
            "name": "Engineering",
            "color": "#16a34a",
        },
        "location": {
            "id": world["room"].pk,
            "event_id": world["event"].pk,
            "name": "Hall",
            "capacity": 100,
        },
        "speakers": [],  # none yet; "sponsors" cannot be expanded and is left out
    }


@pytest.mark.parametrize("count", [1, 30])
def test_an_expanded_list_does_not_grow_with_the_page(
    api, event, count, django_assert_num_queries, database_rate_limit
):
    track, room = f.track(event=event), f.location(event=event)
    for _ in range(count):
        f.session(event=event, track=track, location=room)

    # token, rate limit, events with counts, page (with event, track and location joined)
    with django_assert_num_queries(4):
        response = api.get("/api/v1/sessions", {"expand": "event,track,location", "per-page": 200})

    items = response.json()["items"]
    assert len(items) == count
    assert all(
        item["track"]["id"] == track.pk and item["event"]["id"] == event.pk for item in items
    )


def test_ids_answers_only_those(api, world):
    first, _, third = world["sessions"]
    other_org = f.scheduled(event=f.event())

    response = api.get("/api/v1/sessions", {"ids": f"{first.pk},{third.pk},{other_org.pk}"})

    assert [item["id"] for item in response.json()["items"]] == [first.pk, third.pk]
    assert response.json()["_meta"]["totalCount"] == 2


@pytest.mark.parametrize(
    "value",
    [",".join(str(n) for n in range(1, 102)), "1,two", "1;2", ""],
    ids=["101", "word", "semicolon", "empty"],
)
def test_ids_of_the_wrong_form_or_over_100_is_400(api, world, value):
    response = api.get("/api/v1/sessions", {"ids": value})

    if value == "":
        assert response.status_code == 200  # an empty parameter is no filter, as elsewhere
    else:
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "ids"


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_every_list_takes_ids_and_refuses_101_of_them(api, world, path):
    everything = api.get(path, {"per-page": 200}).json()["items"]
    first_id = everything[0]["id"]

    only = api.get(path, {"ids": f"{first_id},999999999"})
    too_many = api.get(path, {"ids": ",".join(str(n) for n in range(1, 102))})
    expand = api.get(path, {"expand": "nothing_here", "ids": str(first_id)})

    assert [item["id"] for item in only.json()["items"]] == [first_id]
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["field"] == "ids"
    assert expand.json()["items"] == [everything[0]]  # a name it cannot expand is left out


def test_ids_of_100_is_fine(api, world):
    response = api.get("/api/v1/events", {"ids": ",".join(str(n) for n in range(1, 101))})

    assert response.status_code == 200


def test_next_and_prev_are_left_out_at_the_ends(api, event):
    for _ in range(3):
        f.session(event=event)

    first = api.get("/api/v1/sessions", {"per-page": 2}).json()["_links"]
    last = api.get("/api/v1/sessions", {"per-page": 2, "page": 2}).json()["_links"]

    assert "prev" not in first and first["next"]["href"].endswith("per-page=2&page=2")
    assert "next" not in last and last["prev"]["href"].endswith("page=1")


def test_json_suffix_on_every_path_and_links_keep_it(api, world):
    session = world["sessions"][0]

    listed = api.get("/api/v1/sessions.json", {"per-page": 1})
    one = api.get(f"/api/v1/sessions/{session.pk}.json")
    patched = api.patch(f"/api/v1/sessions/{session.pk}.json", {"name": "Via .json"})

    assert listed.status_code == 200
    assert listed.json()["_links"]["next"]["href"].startswith(
        "http://testserver/api/v1/sessions.json?"
    )
    assert one.json()["id"] == session.pk
    assert patched.status_code == 200 and patched.json()["name"] == "Via .json"
    assert api.get("/api/v1/events.json").status_code == 200
    assert api.get(f"/api/v1/sessions/{session.pk}/history.json").status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v1/oauth2/token", "/api/v1/oauth2/token.json", "/oauth2/token"]
)
def test_the_token_endpoint_answers_at_the_vendor_paths_too(client, organisation, path):
    from sessions_app.services.clients import api_client_create
    from tests.api.conftest import basic_auth

    api_client, secret = api_client_create(
        organisation=organisation, name="V", scopes=["sessions:read"]
    )

    response = client.post(
        path,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(api_client.client_id, secret),
    )

    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "Bearer"


def test_times_with_timezone_and_direct_link(api, event):
    live = f.scheduled(event=event, start="10:00", end="12:00", session_status="live")
    london = f.scheduled(
        event=event, start="09:00", end="09:30", use_event_timezone=False, timezone="Europe/London"
    )
    unscheduled = f.session(event=event)

    body = api.get(f"/api/v1/sessions/{live.pk}").json()
    assert body["times_with_timezone"] == "10:00 AM - 12:00 PM (CEST)"
    assert body["direct_link"] == (
        f"http://testserver/agenda/{event.organisation.slug}/{event.slug}/sessions/{live.pk}/"
    )
    assert api.http.get(body["direct_link"].removeprefix("http://testserver")).status_code == 200
    other = api.get(f"/api/v1/sessions/{london.pk}").json()
    assert (other["times_with_timezone"], other["direct_link"]) == ("9:00 AM - 9:30 AM (BST)", None)
    assert api.get(f"/api/v1/sessions/{unscheduled.pk}").json()["times_with_timezone"] is None
