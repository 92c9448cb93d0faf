"""GET /sessions: envelope, filters, sort, paging; and the other read endpoints."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app.enums import CustomFieldType
from sessions_app.models import Session
from tests import factories

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["items"]]


def test_list_answers_the_envelope(api, event):
    session = factories.scheduled(event=event, name="Only")

    response = api.get("/api/v1/sessions")

    assert response.status_code == 200
    self_link = {"href": "http://testserver/api/v1/sessions?page=1"}
    assert response.json() == {
        "items": [api.get(f"/api/v1/sessions/{session.pk}").json()],
        "_meta": {"totalCount": 1, "pageCount": 1, "currentPage": 1, "perPage": 20},
        "_links": {
            "self": self_link,
            "first": self_link,
            "last": self_link,
        },
    }


def test_list_pages_with_links(api, event):
    made = [factories.session(event=event) for _ in range(5)]

    response = api.get("/api/v1/sessions", {"per-page": 2, "page": 2, "sort": "id"})

    body = response.json()
    assert [item["id"] for item in body["items"]] == [made[2].pk, made[3].pk]
    assert body["_meta"] == {"totalCount": 5, "pageCount": 3, "currentPage": 2, "perPage": 2}
    link = "http://testserver/api/v1/sessions?per-page=2&page={}&sort=id".format
    assert body["_links"] == {
        "self": {"href": link(2)},
        "first": {"href": link(1)},
        "last": {"href": link(3)},
        "next": {"href": link(3)},
        "prev": {"href": link(1)},
    }


@pytest.mark.parametrize("sort", ["-name", "name,-id", "-date"])
def test_list_pages_walked_one_by_one_are_the_whole_list(api, event, sort):
    """Pages after the first read their rows by the ids they pick: the same rows, in order,
    with ties (equal names, no date) broken as on one page."""
    for i in range(11):
        factories.session(event=event, name=f"Talk {i // 3}")  # threes of a name, no date
    for i in range(4):
        factories.scheduled(event=event, day=i % 2, name=f"Dated {i}")
    whole = ids(api.get("/api/v1/sessions", {"sort": sort, "per-page": 200}))

    walked = []
    for page in range(1, 5):
        walked += ids(api.get("/api/v1/sessions", {"sort": sort, "per-page": 4, "page": page}))

    assert walked == whole and len(whole) == 15


def test_list_default_page_size_is_20_and_max_is_200(api, event):
    for _ in range(25):
        factories.session(event=event)

    assert len(ids(api.get("/api/v1/sessions"))) == 20
    assert len(ids(api.get("/api/v1/sessions", {"per-page": 200}))) == 25
    assert api.get("/api/v1/sessions", {"per-page": 201}).status_code == 400


def test_list_page_past_the_end_is_empty(api, event):
    factories.session(event=event)

    response = api.get("/api/v1/sessions", {"page": 5})

    assert response.json()["items"] == []
    assert "next" not in response.json()["_links"]  # left out at the end, as the vendor does


@pytest.fixture
def catalogue(event):
    """Sessions that differ in every filterable way."""
    room, hall = factories.location(event=event), factories.location(event=event)
    track, other_track = factories.track(event=event), factories.track(event=event)
    a = factories.scheduled(
        event=event, day=0, name="Alpha keynote", location=room, track=track,
        session_status="approved",
    )  # fmt: skip
    b = factories.scheduled(
        event=event, day=1, start="09:00", end="10:00", name="Beta", admin_short_name="needle",
        location=hall, track=other_track,
    )  # fmt: skip
    c = factories.scheduled(
        event=event, day=2, start="08:00", end="09:00", name="Gamma", badge_name="NEEDLE badge",
        session_status="rejected", track=track,
    )  # fmt: skip
    d = factories.session(event=event, name="Delta", description="has a needle inside")
    return {"room": room, "hall": hall, "track": track, "other_track": other_track,
            "a": a, "b": b, "c": c, "d": d}  # fmt: skip


def _params(catalogue, event):
    return [
        ({"event_id": event.pk}, "abcd"),
        ({"event_id": 999_999}, ""),
        ({"track_id": catalogue["track"].pk}, "ac"),
        ({"location_id": catalogue["hall"].pk}, "b"),
        ({"session_status": "approved,rejected"}, "ac"),
        ({"session_status": "submitted"}, "bd"),
        ({"date": "2030-06-11"}, "b"),
        ({"date_from": "2030-06-11"}, "bc"),
        ({"date_to": "2030-06-11"}, "ab"),
        ({"date_from": "2030-06-11", "date_to": "2030-06-11"}, "b"),
        ({"search": "needle"}, "bcd"),
        ({"search": "alpha"}, "a"),
        ({"search": "needle", "session_status": "submitted"}, "bd"),
        ({"search": "beta\x1fneedle"}, ""),  # the searched text's field separator
    ]


FILTER_IDS = [
    "event_id", "event_id_unknown", "track_id", "location_id", "status_list", "status_one",
    "date", "date_from", "date_to", "date_range", "search_four_fields", "search_name",
    "combined", "search_across_fields",
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(FILTER_IDS)), ids=FILTER_IDS)
def test_list_filters(api, event, catalogue, case):
    params, expected = _params(catalogue, event)[case]

    response = api.get("/api/v1/sessions", {**params, "sort": "id"})

    assert ids(response) == [catalogue[key].pk for key in expected]


def test_list_filter_updated_since(api, event, catalogue):
    cutoff = timezone.now()
    Session.objects.filter(pk=catalogue["a"].pk).update(updated_at=cutoff + dt.timedelta(seconds=5))
    Session.objects.exclude(pk=catalogue["a"].pk).update(
        updated_at=cutoff - dt.timedelta(seconds=5)
    )
    berlin = cutoff.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()

    assert ids(api.get("/api/v1/sessions", {"updated_since": cutoff.isoformat()})) == [
        catalogue["a"].pk
    ]
    assert ids(api.get("/api/v1/sessions", {"updated_since": berlin})) == [catalogue["a"].pk]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", "abdc"),
        ("-name", "cbda"),
        ("date", "abcd"),
        ("-date", "cbad"),
        ("start_time", "cbad"),
        ("-id", "dcba"),
        ("-date,name", "cbad"),
    ],
    ids=["name", "-name", "date_nulls_last", "-date_nulls_last", "start_time", "-id", "two"],
)
def test_list_sort(api, catalogue, sort, expected):
    Session.objects.filter(pk=catalogue["d"].pk).update(name="Beta")  # ties broken by id

    assert ids(api.get("/api/v1/sessions", {"sort": sort})) == [catalogue[k].pk for k in expected]


GROUP_SORTS = ["name", "-name", "date", "-date", "start_time", "-start_time", "-created_at",
               "updated_at", "id", "-id", "-date,name"]  # fmt: skip


@pytest.mark.parametrize("sort", GROUP_SORTS)
@pytest.mark.parametrize("group", ["event_id", "track_id", "location_id"])
def test_a_list_of_one_group_sorts_as_the_whole_list(api, catalogue, event, group, sort):
    """A list of one event, track or room sorts the group's sessions after the filter
    (selectors.AfterFilter) rather than reading an index in order: the same order, ties
    and sessions without a date included, page after page."""
    factories.session(  # a tie by name, with no date or time
        event=event, name="Alpha keynote", track=catalogue["track"], location=catalogue["hall"]
    )
    chosen = {"event_id": event, "track_id": catalogue["track"], "location_id": catalogue["hall"]}
    filtered = {group: chosen[group].pk}
    members = set(Session.objects.filter(**filtered).values_list("pk", flat=True))
    whole = [pk for pk in ids(api.get("/api/v1/sessions", {"sort": sort})) if pk in members]

    params = {**filtered, "sort": sort, "per-page": 1}
    walked = []
    for page in (1, 2, 3):
        walked += ids(api.get("/api/v1/sessions", {**params, "page": page}))

    assert walked == whole[:3] and whole


def test_list_sort_by_timestamps(api, event):
    first, second = factories.session(event=event), factories.session(event=event)
    Session.objects.filter(pk=first.pk).update(updated_at=timezone.now() + dt.timedelta(hours=1))

    assert ids(api.get("/api/v1/sessions", {"sort": "-created_at"})) == [second.pk, first.pk]
    assert ids(api.get("/api/v1/sessions", {"sort": "-updated_at"})) == [first.pk, second.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"event_id": "abc"}, "event_id"),
        ({"track_id": "-1"}, "track_id"),
        ({"location_id": "9" * 30}, "location_id"),
        ({"session_status": "approved,bogus"}, "session_status"),
        ({"date": "2025-02-30"}, "date"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2030-6-1"}, "date_to"),
        ({"updated_since": "last week"}, "updated_since"),
        ({"sort": "colour"}, "sort"),
        ({"sort": "name,--id"}, "sort"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"per-page": "0"}, "per-page"),
        ({"search": "nul\x00byte"}, "search"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_list_query_parameter_of_wrong_form_is_400(api, event, params, field):
    response = api.get("/api/v1/sessions", params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://sessions.example/problems/bad-request"
    assert [e["field"] for e in body["errors"]] == [field]


@pytest.mark.parametrize("count", [1, 50])
def test_list_query_count_does_not_grow(
    api, event, count, django_assert_num_queries, database_rate_limit
):
    track = factories.track(event=event)
    for _ in range(count):
        factories.scheduled(event=event, track=track, custom_fields={"c_1": "x"})

    # token, rate limit, the organisation's events with their session counts, page
    with django_assert_num_queries(4):
        response = api.get("/api/v1/sessions", {"per-page": 200})

    assert len(response.json()["items"]) == count


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sessions/",
        "/api/v1/sessions/{id}/",
        "/api/v1/sessions/{id}/history/",
        "/api/v1/sessions/fields/",
        "/api/v1/events/",
        "/api/v1/events/{event_id}/",
        "/api/v1/tracks/",
        "/api/v1/locations/",
    ],
)
def test_every_read_endpoint_takes_an_optional_trailing_slash(api, event, path):
    session = factories.session(event=event)
    with_slash = path.format(id=session.pk, event_id=event.pk)

    assert api.get(with_slash).status_code == 200
    assert api.get(with_slash.rstrip("/")).status_code == 200


def test_events_list_and_detail(api, event):
    factories.event()  # another organisation's

    response = api.get("/api/v1/events")

    expected = {
        "id": event.pk,
        "name": event.name,
        "slug": event.slug,
        "timezone": "Europe/Berlin",
        "start_date": "2030-06-10",
        "end_date": "2030-06-12",
    }
    assert response.json()["items"] == [expected]
    assert api.get(f"/api/v1/events/{event.pk}").json() == expected


def test_tracks_and_locations_of_an_event(api, event):
    other_event = factories.event(organisation=event.organisation)
    track = factories.track(event=event, name="Main", color="#112233")
    factories.track(event=other_event)
    room = factories.location(event=event, name="Hall", capacity=80)

    tracks = api.get("/api/v1/tracks", {"event_id": event.pk}).json()["items"]
    locations = api.get("/api/v1/locations", {"event_id": event.pk}).json()["items"]

    assert tracks == [{"id": track.pk, "event_id": event.pk, "name": "Main", "color": "#112233"}]
    assert locations == [{"id": room.pk, "event_id": event.pk, "name": "Hall", "capacity": 80}]
    assert len(api.get("/api/v1/tracks").json()["items"]) == 2


def test_custom_field_definitions_of_an_event(api, event):
    text = factories.custom_field(event=event, label="Speaker", sort_order=0)
    level = factories.custom_field(
        event=event,
        label="Level",
        field_type=CustomFieldType.DROPDOWN,
        required=True,
        choices=["Easy", "Hard"],
        sort_order=1,
    )
    easy, hard = level.choices.order_by("sort_order")

    response = api.get("/api/v1/sessions/fields", {"event_id": event.pk})

    assert response.json()["items"] == [
        {
            "id": text.pk,
            "event_id": event.pk,
            "key": f"c_{text.pk}",
            "label": "Speaker",
            "type": "text",
            "required": 0,
            "choices": [],
        },
        {
            "id": level.pk,
            "event_id": event.pk,
            "key": f"c_{level.pk}",
            "label": "Level",
            "type": "dropdown",
            "required": 1,
            "choices": [{"id": easy.pk, "label": "Easy"}, {"id": hard.pk, "label": "Hard"}],
        },
    ]


def test_list_request_costs_ten_of_the_rate_budget(api, event):
    single = api.get(f"/api/v1/events/{event.pk}")
    listing = api.get("/api/v1/sessions")

    assert int(single["X-Rate-Limit-Remaining"]) - int(listing["X-Rate-Limit-Remaining"]) == 10


@pytest.mark.parametrize(
    ("params", "expected", "queries"),
    [
        # token, rate limit, the events with their counts, page: no COUNT(*)
        ({}, 5, 4),
        ({"event_id": "{event}"}, 3, 4),
        ({"event_id": "{other}"}, 0, 3),  # nothing to page through
    ],
)
def test_total_of_a_list_by_event_or_unfiltered_comes_from_the_event_counts(
    api, event, params, expected, queries, django_assert_num_queries, database_rate_limit
):
    for _ in range(3):
        factories.scheduled(event=event)
    second = factories.event(organisation=event.organisation)
    for _ in range(2):
        factories.scheduled(event=second)
    elsewhere = factories.event()  # another organisation's sessions are never counted
    factories.scheduled(event=elsewhere)
    query = {k: v.format(event=event.pk, other=elsewhere.pk) for k, v in params.items()}

    with django_assert_num_queries(queries):
        response = api.get("/api/v1/sessions", {**query, "per-page": 2})

    body = response.json()
    assert body["_meta"]["totalCount"] == expected
    assert body["_meta"]["pageCount"] == -(-expected // 2)
    assert len(body["items"]) == min(expected, 2)


def test_a_filtered_list_still_counts(api, event):
    factories.scheduled(event=event, name="Alpha talk")
    factories.scheduled(event=event, name="Beta talk")

    body = api.get("/api/v1/sessions", {"event_id": event.pk, "search": "alpha"}).json()

    assert body["_meta"]["totalCount"] == 1


@pytest.mark.parametrize(
    ("matching", "per_page", "page", "items", "counted"),
    [
        (3, 5, 1, 3, False),  # not full: the page is the whole list
        (3, 2, 2, 1, False),  # not full: the last page, after one full page
        (0, 5, 1, 0, False),  # nothing at all
        (4, 2, 1, 2, True),  # full: more may follow
        (4, 2, 2, 2, True),  # full, and in fact the last
        (3, 2, 5, 0, True),  # past the end: only a count tells how many there are
    ],
)
def test_a_filtered_list_counts_only_when_its_page_does_not_tell(
    api, event, matching, per_page, page, items, counted
):
    for number in range(matching):
        factories.scheduled(event=event, name=f"Alpha {number}")
    factories.scheduled(event=event, name="Beta")

    with CaptureQueriesContext(connection) as captured:
        response = api.get(
            "/api/v1/sessions", {"search": "alpha", "per-page": per_page, "page": page}
        )

    body = response.json()
    assert len(body["items"]) == items
    assert body["_meta"]["totalCount"] == matching
    assert body["_meta"]["pageCount"] == -(-matching // per_page)
    assert ("next" in body["_links"]) == (page * per_page < matching)
    assert any("COUNT(" in query["sql"] for query in captured.captured_queries) == counted


def test_list_updated_since_with_an_offset_postgresql_has_no_room_for(api, event):
    """Python accepts offsets up to 23:59, PostgreSQL only to 15:59 (found by the fuzz run)."""
    session = factories.scheduled(event=event)

    response = api.get("/api/v1/sessions", {"updated_since": "0412-02-18T03:49:50+20:45"})
    too_early = api.get("/api/v1/sessions", {"updated_since": "0001-01-01T00:00:00+05:00"})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [session.pk]
    assert too_early.status_code == 400
    assert too_early.json()["errors"][0]["field"] == "updated_since"
