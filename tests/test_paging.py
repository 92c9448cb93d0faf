"""Pages past the first read their rows by the ids the page picks (``rows_of_page``): the
same rows in the same order, with joins and annotations computed for the page's rows only,
not for every row the OFFSET skips."""

import pytest
from django.db import connection
from django.db.models import F

from sessions_app.admin.sessions import clashes_with_held_slot
from sessions_app.enums import SessionStatus
from sessions_app.models import Session
from sessions_app.selectors import rows_of_page
from tests import factories


@pytest.fixture
def event(db):
    return factories.event()


@pytest.fixture
def listed(event):
    """Twelve sessions in one room, every third one approved (held) and the others clashing
    with it; ordered by name, then id, so that ties and the id tie-break matter."""
    room = factories.location(event=event)
    for i in range(12):
        factories.scheduled(
            event=event,
            name=f"Talk {i // 2}",  # pairs of equal names
            start=f"{9 + i // 3:02d}:00",
            end=f"{9 + i // 3:02d}:30",
            location=room,
            session_status=SessionStatus.APPROVED if i % 3 == 0 else SessionStatus.SUBMITTED,
        )
    return (
        Session.objects.filter(event=event)
        .annotate(clashes_held=clashes_with_held_slot())
        .order_by(F("name").desc(), "id")
    )


def _rows(queryset):
    return [(s.pk, s.clashes_held) for s in queryset]


@pytest.mark.parametrize(("start", "stop"), [(0, 5), (5, 10), (10, 15), (3, 4), (12, 20)])
def test_a_page_has_the_rows_of_the_slice_in_its_order(listed, start, stop):
    assert _rows(rows_of_page(listed, listed[start:stop])) == _rows(listed)[start:stop]


def test_the_first_page_is_the_slice_itself(listed):
    page = listed[0:5]

    assert rows_of_page(listed, page) is page


def test_a_later_page_offsets_only_the_ids(listed):
    sql = str(rows_of_page(listed, listed[5:10]).query)

    outer, inner = sql.split(" IN (SELECT ", 1)
    assert "OFFSET" not in outer and "EXISTS" in outer
    assert "OFFSET 5" in inner and "EXISTS" not in inner


@pytest.mark.postgres
def test_the_clash_flag_is_computed_for_the_pages_rows_only(listed):
    page = rows_of_page(listed, listed[8:10])
    sql, params = page.query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]

    # In one query it ran 10 times: for the two rows and for the eight the OFFSET skips.
    assert [node["Actual Loops"] for node in _subplans(plan[0]["Plan"])] == [2]


def _subplans(node: dict) -> list[dict]:
    found = [node] if node.get("Parent Relationship") == "SubPlan" else []
    for child in node.get("Plans", []):
        found += _subplans(child)
    return found


def test_the_admin_lists_later_pages_right(client, event, listed, monkeypatch):
    from django.contrib import admin

    from tests.admin.conftest import staff

    monkeypatch.setattr(admin.site._registry[Session], "list_per_page", 5)
    client.force_login(staff(event.organisation, "organiser", username="pager"))
    expected = _rows(listed.order_by(F("starts_at").asc(nulls_last=True), "name", "id"))

    shown = []
    for number in (1, 2, 3):
        response = client.get("/admin/sessions_app/session/", {"p": number})
        shown += _rows(response.context["cl"].result_list)

    assert shown == expected
    assert any(flag for _, flag in shown[5:]) and not all(flag for _, flag in shown[5:])


def test_a_first_page_in_an_order_without_an_index_is_read_by_its_ids_too(listed):
    page = rows_of_page(listed, listed[0:5], unindexed_order=True)

    assert _rows(page) == _rows(listed)[0:5]
    outer, inner = str(page.query).split(" IN (SELECT ", 1)
    assert "EXISTS" in outer and "LIMIT 5" in inner and "EXISTS" not in inner


def test_the_admin_sorted_by_a_column_reads_each_page_by_its_ids(
    client, event, listed, monkeypatch
):
    from django.contrib import admin
    from django.test.utils import CaptureQueriesContext

    from tests.admin.conftest import staff

    monkeypatch.setattr(admin.site._registry[Session], "list_per_page", 5)
    client.force_login(staff(event.organisation, "organiser", username="pager"))
    Session.objects.filter(pk__in=[s.pk for s in listed[::2]]).update(capacity=10)
    expected = _rows(
        listed.order_by("-capacity", F("starts_at").asc(nulls_last=True), "name", "id")
    )

    shown, pages = [], []
    for number in (1, 2, 3):
        with CaptureQueriesContext(connection) as queries:
            # The seats column, index 6 (the tick box, name, when, location, track, status,
            # seats: one event in view, no event column), sorts by capacity.
            response = client.get("/admin/sessions_app/session/", {"o": "-6", "p": number})
        shown += _rows(response.context["cl"].result_list)
        pages += [q["sql"] for q in queries if "EXISTS" in q["sql"]]  # the page's query

    assert shown == expected  # capacity descending, ties by time, name and id
    assert len(pages) == 3 and all(" IN (SELECT " in sql for sql in pages)
    with CaptureQueriesContext(connection) as queries:
        client.get("/admin/sessions_app/session/")  # the default order: its index
    [plain] = [q["sql"] for q in queries if "EXISTS" in q["sql"]]
    assert " IN (SELECT " not in plain


@pytest.mark.parametrize("group", ["track", "location"])
def test_the_admin_list_of_one_track_or_room_sorts_the_groups_sessions(
    client, event, listed, monkeypatch, group
):
    """In the default order (time, name, id), page after page, as the whole list has them;
    the page's query sorts the group's rows (selectors.AfterFilter) and picks them by ids."""
    from django.contrib import admin
    from django.test.utils import CaptureQueriesContext

    from tests.admin.conftest import staff

    monkeypatch.setattr(admin.site._registry[Session], "list_per_page", 5)
    client.force_login(staff(event.organisation, "organiser", username="grouper"))
    chosen = factories.track(event=event) if group == "track" else factories.location(event=event)
    picked = [s.pk for s in listed[1::2]]
    Session.objects.filter(pk__in=picked).update(**{group: chosen})
    factories.session(event=event, name="Talk 0", **{group: chosen})  # no time: last
    members = Session.objects.filter(**{group: chosen})
    expected = [s.pk for s in members.order_by(F("starts_at").asc(nulls_last=True), "name", "id")]

    shown, pages = [], []
    for number in (1, 2):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/admin/sessions_app/session/", {group: chosen.pk, "p": number})
        shown += [s.pk for s in response.context["cl"].result_list]
        pages += [q["sql"] for q in queries if "EXISTS" in q["sql"]]

    assert shown == expected and len(expected) == 7
    # SQLite sorts by the plain key (its COALESCE wants two values).
    key = (
        'COALESCE("sessions_app_session"."starts_at")' if connection.vendor == "postgresql" else ""
    )
    assert len(pages) == 2 and all(" IN (SELECT " in sql and key in sql for sql in pages)
