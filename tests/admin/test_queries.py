"""The list, the review queue and the schedule grid cost the same at 10 sessions and at
1,000, and at 1 and 50 with clashes."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_app import services
from sessions_app.enums import SessionStatus
from sessions_app.management.load_data import fill_event
from tests import factories
from tests.admin.conftest import staff


@pytest.fixture
def world(db):
    organisation = factories.organisation()
    event = factories.event(organisation=organisation)
    tracks = [factories.track(event=event) for _ in range(3)]
    rooms = [factories.location(event=event) for _ in range(5)]
    factories.custom_field(event=event, field_type="dropdown", choices=["A", "B"])
    reviewer = staff(organisation, "organiser", "reviewer")
    return event, tracks, rooms, reviewer


def add_sessions(event, tracks, rooms, count, start_index=0):
    """Sessions in every status, spread over rooms and times, some clashing."""
    statuses = [SessionStatus.SUBMITTED, SessionStatus.APPROVED, SessionStatus.LIVE]
    for i in range(start_index, start_index + count):
        start = dt.time(8 + (i // 5) % 12, 0 if i % 2 else 30)
        end = (dt.datetime.combine(event.start_date, start) + dt.timedelta(minutes=25)).time()
        factories.scheduled(
            event=event,
            start=start.isoformat(),
            end=end.isoformat(),
            location=rooms[i % len(rooms)],
            track=tracks[i % len(tracks)],
            session_status=statuses[i % len(statuses)],
        )


def query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def big_event(db):
    """An event laid out like the load test's: ten rooms, five tracks, ten days of slots."""
    organisation = factories.organisation()
    event = factories.event(
        organisation=organisation,
        start_date=dt.date(2031, 3, 3),
        end_date=dt.date(2031, 3, 12),
        timezone="Europe/Berlin",
    )
    for n in range(10):
        factories.location(event=event, name=f"Room {n + 1}")
    for n in range(5):
        factories.track(event=event, name=f"Track {n + 1}")
    factories.custom_field(event=event, field_type="dropdown", choices=["A", "B"])
    return event, staff(organisation, "organiser", "reviewer")


PAGES = {
    "list": "/admin/sessions_app/session/",
    "list_with_filter_counts": "/admin/sessions_app/session/?_facets=True",
    "review_queue": "/admin/sessions_app/session/review/",
    "schedule": "/admin/sessions_app/session/schedule/",
}


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
def test_page_query_count_is_the_same_at_10_and_1000_sessions(
    client, big_event, url, django_assert_num_queries
):
    event, organiser = big_event
    client.force_login(organiser)
    fill_event(event, 10)
    client.get(url)  # warm caches (content types, permissions) outside the count
    at_ten = query_count(client, url)
    fill_event(event, 990)
    with django_assert_num_queries(at_ten):
        response = client.get(url)
    shown = response.context.get("cl")
    if shown is not None:
        # A page of 100 of the 1,000 (the review queue: the submitted ones, one in seven).
        assert shown.result_count == (1000 if "review" not in url else 143)
        assert len(shown.result_list) == 100
    else:  # the first day: ten rooms, ten slots, without the rejected (one in seven)
        assert len(response.context["grid"].blocks) == 86


@pytest.mark.parametrize(
    "url",
    [
        "/admin/sessions_app/session/",
        "/admin/sessions_app/session/review/",
        "/admin/sessions_app/session/schedule/",
    ],
    ids=["list", "review_queue", "schedule"],
)
def test_page_query_count_does_not_grow_with_clashes(client, world, url, django_assert_num_queries):
    """Sessions made through the service, in every status and some clashing (flags, lanes)."""
    event, tracks, rooms, reviewer = world
    client.force_login(reviewer)
    add_sessions(event, tracks, rooms, 1)
    client.get(url)
    at_one = query_count(client, url)
    add_sessions(event, tracks, rooms, 49, start_index=1)
    with django_assert_num_queries(at_one):
        response = client.get(url)
    shown = response.context.get("cl")
    if shown is not None:
        assert shown.result_count == (50 if "review" not in url else 17)
    else:
        assert len(response.context["grid"].blocks) == 50


def add_history(session, tracks, rooms, count, actor, start=0):
    for i in range(start, start + count):
        services.session_update(
            session_id=session.pk,
            data={
                "name": f"Renamed {i}",
                "track_id": tracks[i % len(tracks)].pk,
                "location_id": rooms[i % len(rooms)].pk,
            },
            actor=actor,
        )


@pytest.mark.parametrize("page", ["change", "history"])
def test_session_page_query_count_does_not_grow_with_history(
    client, world, page, django_assert_num_queries
):
    event, tracks, rooms, reviewer = world
    api_client = factories.api_client(organisation=event.organisation)
    session = factories.create_via_service(event=event, name="Talk")
    url = f"/admin/sessions_app/session/{session.pk}/{page}/"
    client.force_login(reviewer)
    add_history(session, tracks, rooms, 1, services.Actor(user=reviewer))
    client.get(url)
    at_one = query_count(client, url)
    add_history(session, tracks, rooms, 24, services.Actor(user=reviewer), start=1)
    add_history(session, tracks, rooms, 25, services.Actor(client=api_client), start=25)
    with django_assert_num_queries(at_one):
        response = client.get(url)
    assert len(response.context["history"]) == 51


@pytest.mark.parametrize("model", ["event", "track", "location", "customfield"])
def test_event_side_list_query_count_does_not_grow_with_rows(
    client, world, model, django_assert_num_queries
):
    event, _tracks, _rooms, reviewer = world
    url = f"/admin/sessions_app/{model}/"
    client.force_login(reviewer)
    client.get(url)
    at_few = query_count(client, url)
    for _ in range(50):
        other = factories.event(organisation=event.organisation)
        factories.track(event=other)
        factories.location(event=other)
        factories.custom_field(event=other, field_type="multiselect", choices=["x", "y"])
    with django_assert_num_queries(at_few):
        response = client.get(url)
    assert response.context["cl"].result_count > 50


def test_the_event_list_shows_session_counts_without_counting_sessions(client, world):
    """Event.session_count, which database triggers keep, not a COUNT over the sessions."""
    event, tracks, rooms, reviewer = world
    add_sessions(event, tracks, rooms, 7)
    other = factories.event(organisation=event.organisation)
    client.force_login(reviewer)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/sessions_app/event/", {"o": "-6"})  # most sessions first
    sql = [q["sql"] for q in queries]  # the next request empties the log

    rows = [(e.pk, e.session_count) for e in response.context["cl"].result_list]
    assert rows == [(event.pk, 7), (other.pk, 0)]
    ascending = client.get("/admin/sessions_app/event/", {"o": "6"}).context["cl"].result_list
    assert [e.pk for e in ascending] == [other.pk, event.pk]
    assert '<td class="field-session_count">7</td>' in response.content.decode()
    assert len(sql) > 3 and not any("sessions_app_session" in statement for statement in sql)
