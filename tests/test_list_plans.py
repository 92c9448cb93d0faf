"""On PostgreSQL, an index answers every sort of the session list and counts its filters;
a list of one event, track or room sorts that group's sessions instead (by id within an
event, its own index).

A sort that no index matches still answers right, only by sorting all of the organisation's
sessions for each page (80 to 95 ms at 100,000, against 10 ms), and a filter's count that
has to read the rows takes several times what the index alone does. On the few rows of a
test either would be the planner's pick anyway, so these plans are made with the other ways
turned off: what is left shows whether the index can do it at all.
"""

import re

import pytest
from django.db import connection
from django.http import QueryDict

from sessions_app.api.listing import SESSION_SORTS, Query, session_filters, session_order
from sessions_app.models import Registrant, Session
from tests import factories
from tests.plans import plan

pytestmark = pytest.mark.postgres

SORTS = [*SESSION_SORTS, *(f"-{name}" for name in SESSION_SORTS), "-date,name", "name,-id"]
# A sort node that reads all its input first; an incremental sort, which orders the ties
# of an index's order as it reads them, is not one.
FULL_SORT = re.compile(r"^\s*(->\s*)?Sort  \(", re.MULTILINE)


@pytest.fixture
def events(db):
    return [factories.event(), factories.event()]


def _page(events, sort: str) -> tuple[str, list]:
    """The list's page query as the view makes it: scoped to the organisation's events, in
    the asked order (with the id to break ties), one page."""
    order = Query(QueryDict(f"sort={sort}")).sort("sort", SESSION_SORTS, Session)
    queryset = Session.objects.filter(event__in=events).order_by(*order)[:20]
    return queryset.query.sql_with_params()


@pytest.mark.parametrize("generic", [False, True], ids=["custom_plan", "generic_plan"])
@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_is_read_in_order_from_an_index(events, sort, generic):
    sql, params = _page(events, sort)

    explained = plan(sql, params, generic=generic, off=("enable_seqscan", "enable_sort"))

    assert not FULL_SORT.search(explained), explained
    assert "Index" in explained


def _group_page(events, params: str) -> tuple[str, list]:
    """The page query of a list of one group (``params``), as the view makes it."""
    query = Query(QueryDict(params))
    order, _ = session_order(query, Session)
    queryset = Session.objects.filter(event__in=events).filter(session_filters(query))
    return queryset.order_by(*order)[:20].query.sql_with_params()


@pytest.mark.parametrize("generic", [False, True], ids=["custom_plan", "generic_plan"])
@pytest.mark.parametrize("sort", [s for s in SORTS if s.lstrip("-") != "id"])
@pytest.mark.parametrize("group", ["event_id", "track_id", "location_id"])
def test_a_list_of_one_group_sorts_the_groups_rows(events, group, sort, generic):
    """Not a sort index read in order with the group filtered out of it, which reads every
    other group's sessions that come first (selectors.AfterFilter): even with sorting
    discouraged, no index gives this order, so the plan sorts what the filter chose."""
    sql, params = _group_page(events, f"{group}=1&sort={sort}")

    explained = plan(sql, params, generic=generic, off=("enable_seqscan", "enable_sort"))

    assert FULL_SORT.search(explained), explained


@pytest.mark.parametrize("generic", [False, True], ids=["custom_plan", "generic_plan"])
@pytest.mark.parametrize("sort", ["id", "-id"])
def test_one_events_list_by_id_is_read_in_order_from_an_index(events, sort, generic):
    """Not sorted after the filter: (event_id, id) reads it in order, and on a test's few
    rows the primary key read in order and filtered is as cheap, so either may be picked."""
    sql, params = _group_page(events, f"event_id={events[0].pk}&sort={sort}")

    explained = plan(sql, params, generic=generic, off=("enable_seqscan", "enable_sort"))

    assert not FULL_SORT.search(explained), explained
    assert "Index" in explained, explained


def test_a_column_without_nulls_sorts_without_nulls_last(events):
    """Else PostgreSQL sorts: it reads an index backwards as DESC NULLS FIRST only."""
    sql, _ = _page(events, "-updated_at")

    assert '"updated_at" DESC,' in sql
    assert "NULLS" not in sql.split("ORDER BY")[1]


@pytest.fixture
def vacuumed(transactional_db):
    """Two events with a few sessions, committed and vacuumed: the visibility map then says
    every page is all-visible, as autovacuum keeps most of a real table, and an index-only
    scan is the cheapest way to count (on a table never vacuumed it costs what reading the
    rows does, and the planner picks either)."""
    events = [factories.event(), factories.event()]
    for event in events:
        for day in range(3):
            factories.scheduled(event=event, day=day, session_status="live")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sessions_app_session")
    return events


@pytest.mark.parametrize("generic", [False, True], ids=["custom_plan", "generic_plan"])
@pytest.mark.parametrize(
    ("params", "index"),
    [
        ("session_status=live", "session_status_event"),
        ("date=2030-06-10", "session_date_event"),
        ("date_from=2030-06-10&date_to=2030-06-12", "session_date_event"),
        ("updated_since=2030-06-10T00:00:00Z", "session_updated_event"),
    ],
    ids=["status", "date", "date_range", "updated_since"],
)
def test_a_filter_is_counted_from_its_index_alone(vacuumed, params, index, generic):
    condition = session_filters(Query(QueryDict(params)))
    queryset = Session.objects.filter(event__in=vacuumed).filter(condition)
    sql, sql_params = queryset.order_by().values("pk").query.sql_with_params()
    count_sql = f"SELECT COUNT(*) FROM ({sql}) AS listed"

    # Index scans stay on: PostgreSQL 15 considers an index-only scan only with them.
    explained = plan(
        count_sql, sql_params, generic=generic, off=("enable_seqscan", "enable_bitmapscan")
    )

    assert f"Index Only Scan using {index}" in explained, explained


@pytest.mark.parametrize("who", ["organiser", "superuser"])
def test_the_admin_registrant_list_is_read_in_order_from_its_index(db, client, who):
    """By event id, name and id, as the API lists them: at 100,000 registrants, ordering by
    the event's date and name sorted them all for each page (78 ms against 0.1)."""
    from django.test.utils import CaptureQueriesContext

    from tests.admin.conftest import make_org

    acme = make_org("Acme")
    # More than a page: a list on one page is read whole, without a LIMIT.
    Registrant.objects.bulk_create(
        Registrant(event=acme.event, first_name=f"P{n}", last_name="Q", email=f"p{n}@x.org")
        for n in range(101)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sessions_app_registrant, sessions_app_event")
    user = acme.organiser if who == "organiser" else factories.user(is_superuser=True)
    client.force_login(user)

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/sessions_app/registrant/").status_code == 200
    [page] = [
        q["sql"]
        for q in queries
        if 'FROM "sessions_app_registrant"' in q["sql"] and "LIMIT" in q["sql"]
    ]

    # Incremental sorts off too: on one event's few rows, sorting them after the event's
    # index is as cheap as the planner's other ways, and its pick between them varies.
    off = ("enable_seqscan", "enable_sort", "enable_incremental_sort")
    explained = plan(page, [], generic=False, off=off)

    assert "Sort" not in explained, explained
    assert "registrant_name" in explained, explained


@pytest.mark.parametrize("generic", [False, True])
def test_a_registration_looks_its_email_up_in_the_unique_index(events, generic):
    """Whether the event has the email already, in any case, is read from the index of the
    unique constraint (lower(email), event), not from every registrant of the table."""
    from sessions_app.services.attendance import _same_email

    # An event of many registrants: reading them all (its own index, then every email) is
    # what a lookup by the event alone costs.
    Registrant.objects.bulk_create(
        Registrant(event=events[0], first_name=f"P{n}", last_name="Q", email=f"p{n}@x.org")
        for n in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sessions_app_registrant")
    sql, params = _same_email(events[0].pk, "Ada@Example.org").query.sql_with_params()

    explained = plan(sql, params, generic=generic)

    assert "registrant_unique_email" in explained, explained
