"""The session list's total: from the events' session counts where only the event narrows the
list, counted where anything else does, and the same number either way."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_app.models import Session
from tests import factories

LIST = "/admin/sessions_app/session/"


def listed(client, query=""):
    """(the total the page shows, whether a COUNT query ran)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST + query)
    assert response.status_code == 200
    counted = any(q["sql"].startswith('SELECT COUNT(*) AS "__count"') for q in queries)
    return response.context["cl"].result_count, counted


@pytest.fixture
def second_event(acme):
    event = factories.event(organisation=acme.event.organisation, name="Acme Winter")
    for n in range(3):
        factories.session(event=event, name=f"Winter talk {n}")
    return event


@pytest.mark.parametrize("query", ["", "?o=2", "?event=", "?p=1"])
def test_an_unfiltered_list_takes_its_total_from_the_event_counts(
    client, acme, globex, second_event, query
):
    client.force_login(acme.organiser)
    total, counted = listed(client, query)
    assert not counted
    assert total == Session.objects.filter(event__organisation=acme.event.organisation).count()
    assert total == 5  # Globex's sessions are not Acme's


def test_one_event_takes_its_total_from_its_count(client, acme, second_event):
    client.force_login(acme.organiser)
    total, counted = listed(client, f"?event={second_event.pk}")
    assert (total, counted) == (3, False)
    assert [row.name for row in listed_rows(client, f"?event={second_event.pk}")] == [
        "Winter talk 0", "Winter talk 1", "Winter talk 2",
    ]  # fmt: skip


def listed_rows(client, query):
    return list(client.get(LIST + query).context["cl"].result_list)


def test_an_event_the_user_does_not_see_has_no_sessions(client, acme, globex):
    client.force_login(acme.organiser)
    assert listed(client, f"?event={globex.event.pk}") == (0, False)
    assert listed_rows(client, f"?event={globex.event.pk}") == []


def test_a_superuser_sees_the_total_of_every_organisation(client, superuser, acme, globex):
    client.force_login(superuser)
    assert listed(client) == (Session.objects.count(), False)
    assert Session.objects.count() == 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?q=keynote", 1),
        ("?session_status__exact=approved", 1),
        ("?track=0", 0),
        ("?day=none", 0),
        ("?event=abc", 0),
    ],
)
def test_anything_else_that_narrows_the_list_is_counted(client, acme, query, expected):
    client.force_login(acme.organiser)
    assert listed(client, query) == (expected, True)


def test_the_review_queue_is_counted(client, acme, second_event):
    client.force_login(acme.reviewer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST + "review/")
    assert response.context["cl"].result_count == 4  # the submitted ones: Acme's proposal + 3
    assert any(q["sql"].startswith('SELECT COUNT(*) AS "__count"') for q in queries)


def test_the_total_follows_inserts_and_deletes(client, acme):
    client.force_login(acme.organiser)
    assert listed(client)[0] == 2
    extra = factories.session(event=acme.event, name="Late addition")
    assert listed(client)[0] == 3
    extra.delete()
    Session.objects.filter(pk=acme.proposal.pk).delete()
    assert listed(client) == (1, False)
