"""The hot path's statements, pinned at what the benchmark (``make bench``) reached.

Counted as a real request runs (autocommit, so BEGIN and COMMIT are real statements), with
the rate limit in the database as a server without REDIS_URL counts it. A change that adds
a statement to these requests fails here first; raise a number only with a reason.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_app.enums import SessionStatus
from sessions_app.models import Session, SessionChange
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/sessions/{}"


def _locked(kind: str, lock: str = "FOR NO KEY UPDATE") -> str:
    """SQLite has no row locks (its write transaction locks the database)."""
    return f"{kind} {lock}" if connection.vendor == "postgresql" else kind


@pytest.fixture
def room_with_neighbours(event):
    """A held session among 30 others holding the same room on other slots."""
    room = factories.location(event=event)
    track = factories.track(event=event)
    session = factories.scheduled(
        event=event, location=room, track=track, session_status=SessionStatus.APPROVED
    )
    for n in range(30):
        day, hour = divmod(n, 6)
        factories.scheduled(
            event=event,
            day=day,
            start=f"{12 + hour:02}:00",
            end=f"{12 + hour:02}:30",
            location=room,
            session_status=SessionStatus.APPROVED,
        )
    return session


def _kind(sql: str) -> str:
    """A statement's shape: its verb and table, plus FOR NO KEY UPDATE or FOR SHARE when it
    locks."""
    sql = sql.strip()
    verb = sql.split(None, 1)[0].upper()
    if verb in {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}:
        return verb
    table = re.search(r'(?:FROM|INTO|UPDATE) "?(\w+)"?', sql)
    kind = f"{verb} {table[1] if table else '?'}"
    for lock in ("FOR NO KEY UPDATE", "FOR SHARE"):
        if lock in sql:
            return f"{kind} {lock}"
    return kind


def _statements(callable_):
    with CaptureQueriesContext(connection) as captured:
        response = callable_()
    return response, [_kind(query["sql"]) for query in captured.captured_queries]


def _begin_commit(kinds: list[str]) -> list[str]:
    # SQLite starts its write transactions with BEGIN IMMEDIATE, which Django logs too.
    return ["BEGIN" if kind.startswith("BEGIN") else kind for kind in kinds]


def test_name_patch_sends_seven_statements(api, room_with_neighbours, database_rate_limit):
    session = room_with_neighbours

    response, kinds = _statements(lambda: api.patch(URL.format(session.pk), {"name": "Renamed"}))

    assert response.status_code == 200, response.content
    assert _begin_commit(kinds) == [
        "SELECT oauth2_provider_accesstoken",  # the token with its client
        "INSERT sessions_app_apiratecounter",  # the rate limit's one upsert
        "BEGIN",
        _locked("SELECT sessions_app_session"),  # with its event, track and location
        "UPDATE sessions_app_session",
        "INSERT sessions_app_sessionchange",
        "COMMIT",
    ]
    assert SessionChange.objects.filter(session_id=session.pk).count() == 1


def test_name_patch_updates_only_what_changed(api, room_with_neighbours, database_rate_limit):
    session = room_with_neighbours

    with CaptureQueriesContext(connection) as captured:
        api.patch(URL.format(session.pk), {"name": "Renamed"})

    (update,) = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE")]
    assigned = set(re.findall(r'"(\w+)" = ', update.split(" WHERE ")[0]))
    # The instants always go along (Session.save recomputes them): unchanged here.
    assert assigned == {"name", "version", "updated_at", "starts_at", "ends_at"}


def test_move_in_time_locks_the_room_and_checks_for_a_clash(
    api, room_with_neighbours, database_rate_limit
):
    session = room_with_neighbours

    response, kinds = _statements(lambda: api.patch(URL.format(session.pk), {"end_time": "10:50"}))

    assert response.status_code == 200, response.content
    assert _begin_commit(kinds) == [
        "SELECT oauth2_provider_accesstoken",
        "INSERT sessions_app_apiratecounter",
        "BEGIN",
        _locked("SELECT sessions_app_session"),
        _locked("SELECT sessions_app_location"),
        "SELECT sessions_app_session",  # sessions holding the room in the new slot
        "SELECT sessions_app_blockedslot",  # blocked slots (breaks, reserved) it would meet
        "UPDATE sessions_app_session",
        "INSERT sessions_app_sessionchange",
        "COMMIT",
    ]


def test_a_move_onto_a_held_slot_is_still_refused(api, room_with_neighbours):
    """Skipping the clash check for an unchanged slot must not skip it for a new one."""
    session = room_with_neighbours
    neighbour = Session.objects.exclude(pk=session.pk).order_by("starts_at").first()
    slot = {"start_time": "12:00", "end_time": "12:30"}  # the first neighbour's slot
    assert neighbour.start_time.isoformat(timespec="minutes") == slot["start_time"]

    response = api.patch(URL.format(session.pk), slot)

    assert response.status_code == 409
    assert [c["id"] for c in response.json()["conflicts"]] == [neighbour.pk]
    session.refresh_from_db()
    assert session.version == 1


def test_get_one_sends_three_statements(api, room_with_neighbours, database_rate_limit):
    session = room_with_neighbours

    response, kinds = _statements(lambda: api.get(URL.format(session.pk)))

    assert response.status_code == 200
    assert kinds == [
        "SELECT oauth2_provider_accesstoken",
        "INSERT sessions_app_apiratecounter",
        "SELECT sessions_app_session",
    ]


# --- attendees' writes (make bench's attendees section) ---------------------------------------


@pytest.fixture
def registrar(make_caller, organisation):
    scopes = ["sessions:read", "sessions:write", "registrants:read", "registrants:write"]
    return make_caller(organisation, scopes=scopes)


@pytest.fixture
def attendee_world(event):
    """A live session of 150 seats beside 30 others, and a registrant who holds nothing."""
    session = factories.live(event=event, capacity=150)
    for n in range(30):
        day, hour = divmod(n, 6)
        factories.live(event=event, day=day, start=f"{12 + hour:02}:00", end=f"{12 + hour:02}:30")
    return session, factories.registrant(event=event)


def test_registrant_create_statements(registrar, event, attendee_world, database_rate_limit):
    body = {"event_id": event.pk, "first_name": "Ada", "last_name": "L", "email": "ada@ex.org"}

    response, kinds = _statements(lambda: registrar.post("/api/v1/registrants", body))

    assert response.status_code == 201, response.content
    assert _begin_commit(kinds) == _expected("REGISTRANT_CREATE")


def test_choosing_a_seat_statements(registrar, attendee_world, database_rate_limit):
    session, person = attendee_world
    url = f"/api/v1/registrants/{person.pk}/sessions"

    response, kinds = _statements(lambda: registrar.post(url, {"session_id": session.pk}))

    assert response.status_code == 201, response.content
    assert _begin_commit(kinds) == _expected("SELECTION_ADD")


def test_giving_a_seat_up_statements(registrar, attendee_world, database_rate_limit):
    session, person = attendee_world
    registrar.post(f"/api/v1/registrants/{person.pk}/sessions", {"session_id": session.pk})
    url = f"/api/v1/registrants/{person.pk}/sessions/{session.pk}"

    response, kinds = _statements(lambda: registrar.delete(url))

    assert response.status_code == 204, response.content
    assert _begin_commit(kinds) == _expected("SELECTION_REMOVE")


def test_the_registrant_pages_choose_and_give_up_statements(client, attendee_world):
    session, person = attendee_world
    path = person.get_selection_path()
    chosen = {"shown": [session.pk], "session": [session.pk]}

    chose, choose_kinds = _statements(lambda: client.post(path, chosen))
    gave, give_kinds = _statements(lambda: client.post(path, {"shown": [session.pk]}))

    assert chose.status_code == gave.status_code == 302
    assert _begin_commit(choose_kinds) == _expected("PAGE_CHOOSE")
    assert _begin_commit(give_kinds) == _expected("PAGE_GIVE_UP")


# Each pinned at what the bench measured; a change that adds a statement fails here first.
def _registrant_create() -> list[str]:
    return [
        "SELECT oauth2_provider_accesstoken",
        "INSERT sessions_app_apiratecounter",
        "BEGIN",  # the registration (and its welcome, when asked for), together
        # The event in the client's organisation (a 400 if not), not locked against other
        # registrations.
        _locked("SELECT sessions_app_event", "FOR SHARE"),
        "SELECT sessions_app_registrant",  # the email, in any case
        "INSERT sessions_app_registrant",
        "SELECT sessions_app_session",  # the live included sessions (none here)
        "SELECT sessions_app_session",  # the live sessions selected by default (none here)
        "COMMIT",
    ]


def _selection(*, adds: bool) -> list[str]:
    return [
        "BEGIN",
        _locked("SELECT sessions_app_registrant"),
        _locked("SELECT sessions_app_session"),
        "SELECT sessions_app_selection",  # what the registrant holds already
        *(["SELECT sessions_app_session"] if adds else []),  # what it would conflict with
        "INSERT sessions_app_selection" if adds else "DELETE sessions_app_selection",
        "UPDATE sessions_app_session",  # the counters
        "INSERT sessions_app_sessionchange",  # the history entry (webhooks and the agenda)
        "COMMIT",
    ]


_API = ["SELECT oauth2_provider_accesstoken", "INSERT sessions_app_apiratecounter"]
# The registrant's page: the registrant by the link's key, what they hold, what is shown.
_PAGE = [
    "SELECT sessions_app_registrant",
    "SELECT sessions_app_selection",
    "SELECT sessions_app_session",
]


def _expected(name: str) -> list[str]:
    return {
        "REGISTRANT_CREATE": _registrant_create,
        # The registrant is read once, locked, in the client's organisation (a 404 if not;
        # a refused body looks for it first, so that the answer is a 404 whatever it says).
        "SELECTION_ADD": lambda: [
            *_API,
            *_selection(adds=True),  # a seat: the answer has no waitlist place to read
        ],
        "SELECTION_REMOVE": lambda: [*_API, *_selection(adds=False)],
        "PAGE_CHOOSE": lambda: [
            *_PAGE,
            *_selection(adds=True),
            "UPDATE sessions_app_registrant",  # when the page was saved
        ],
        "PAGE_GIVE_UP": lambda: [
            *_PAGE,
            *_selection(adds=False),
            "UPDATE sessions_app_registrant",
        ],
    }[name]()
