"""The session search of the API and the admin: one searched text, one trigram index; and
the registrant search, the same way.

``selectors.SearchedText`` is what both search; on PostgreSQL the index of migration 0018 is
on exactly its SQL (``RegistrantSearchedText`` and 0023's index for registrants), and a
search that stopped matching it would still answer right, only by reading every row: the
plan tests below are what notices.
"""

import re

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.http import QueryDict

from sessions_app.api.listing import Query, session_filters
from sessions_app.models import Registrant, Session
from sessions_app.selectors import RegistrantSearchedText, text_search
from tests import factories
from tests.plans import plan

INDEX = "session_search_text_trgm"


@pytest.fixture
def sessions(db):
    event = factories.event()
    return {
        "name": factories.session(event=event, name="Observability for small teams"),
        "short": factories.session(event=event, name="A", admin_short_name="OBS-101"),
        "badge": factories.session(event=event, name="B", badge_name="Tracing clinic"),
        "description": factories.session(event=event, name="C", description="About tracing."),
        "wildcards": factories.session(event=event, name="100% coverage_report"),
        "split": factories.session(event=event, name="foo", admin_short_name="bar"),
        "accents": factories.session(event=event, name="D", description="Élodie über Ørsted"),
    }


def _found(term: str) -> set[int]:
    return set(Session.objects.filter(text_search(term)).values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("observab", {"name"}),  # a part of a word, any case
        ("obs", {"name", "short"}),
        ("TRACING", {"badge", "description"}),
        ("100%", {"wildcards"}),  # LIKE's wildcards are plain characters here
        ("0% c", {"wildcards"}),
        ("e_r", {"wildcards"}),
        ("%", {"wildcards"}),
        ("_", {"wildcards"}),
        ("foobar", set()),  # no match across two fields
        ("foo\x1fbar", set()),  # not even with the separator between them
        ("o\x1fb", set()),
        ("foo", {"split"}),
        ("nothing like it", set()),
        # Case beyond ASCII: SQLite's own LIKE folds only A-Z (config.sqlite3 replaces it),
        # PostgreSQL's UPPER() follows the database's character type (sessions_app.ops.checks).
        ("élodie", {"accents"}),
        ("ÜBER", {"accents"}),
        ("øRSTED", {"accents"}),
        ("ELODIE", set()),  # a different letter, not a different case
    ],
)
def test_text_search_finds_the_term_in_any_of_the_four_fields(sessions, term, expected):
    assert _found(term) == {sessions[key].pk for key in expected}


def test_admin_search_is_the_stock_search_over_the_searched_text(sessions, client):
    """Each word anywhere, a quoted phrase whole, as Django's admin search is everywhere."""
    client.force_login(factories.user(username="root", is_superuser=True))

    def listed(q):
        page = client.get("/admin/sessions_app/session/", {"q": q}).content.decode()
        return {int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', page)}

    assert listed("tracing") == {sessions["badge"].pk, sessions["description"].pk}
    assert listed("tracing clinic") == {sessions["badge"].pk}  # both words
    assert listed("clinic tracing") == {sessions["badge"].pk}
    assert listed('"clinic tracing"') == set()  # the phrase as written
    assert listed('"tracing clinic"') == {sessions["badge"].pk}
    assert listed("foobar") == set()


def test_row_checkbox_is_the_stock_html(db):
    session = factories.session(event=factories.event(), name='Q&A "live"')
    ours = admin.site._registry[Session]

    assert ours.action_checkbox(session) == ModelAdmin.action_checkbox(ours, session)


# --- PostgreSQL: the index answers both searches -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("generic", [False, True], ids=["custom_plan", "generic_plan"])
def test_api_search_uses_the_trigram_index(db, generic):
    factories.session(event=factories.event(), name="Observability")
    # The condition as session_filters() makes it, without the event scope (on a few rows,
    # the event's index would answer the scope alone).
    queryset = Session.objects.filter(session_filters(Query(QueryDict("search=observ"))))

    sql, params = queryset.order_by().values("pk").query.sql_with_params()

    assert INDEX in plan(sql, params, generic=generic)


@pytest.mark.postgres
@pytest.mark.parametrize("generic", [False, True], ids=["custom_plan", "generic_plan"])
def test_admin_search_uses_the_trigram_index(rf, generic, db):
    ours = admin.site._registry[Session]
    request = rf.get("/admin/sessions_app/session/", {"q": "observ"})
    request.user = factories.user(username="root", is_superuser=True)
    queryset, _ = ours.get_search_results(request, Session.objects.all(), "observ")

    sql, params = queryset.order_by().values("pk").query.sql_with_params()

    assert INDEX in plan(sql, params, generic=generic)


@pytest.mark.postgres
@pytest.mark.parametrize("generic", [False, True], ids=["custom_plan", "generic_plan"])
def test_registrant_searches_use_their_trigram_index(rf, generic, db):
    factories.registrant(event=factories.event(), first_name="Ada", email="ada@example.org")
    api = Registrant.objects.filter(text_search("ada@", RegistrantSearchedText))
    ours = admin.site._registry[Registrant]
    request = rf.get("/admin/sessions_app/registrant/", {"q": "ada@"})
    request.user = factories.user(username="root", is_superuser=True)
    in_admin, _ = ours.get_search_results(request, Registrant.objects.all(), "ada@")

    for queryset in (api, in_admin):
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        assert "registrant_search_text_trgm" in plan(sql, params, generic=generic)
