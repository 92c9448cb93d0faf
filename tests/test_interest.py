"""Interest before the schedule exists (API.md "Registrants and session selection"): an
approved session that is not live can be marked as interesting, which holds no seat; at
publication the event's setting turns the interests into seats (first come first served,
the rest waitlisted) or tells the interested that it is bookable."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from sessions_app import services
from sessions_app.enums import InterestOnPublish, NoticeKind, ProposedProgramme
from sessions_app.models import Event, Message, Selection, Session, SessionChange, Speaker
from sessions_app.notices import compose
from tests import factories as f
from tests.api.conftest import make_caller, organisation  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
ORGANISER = services.SYSTEM


@pytest.fixture
def event():
    return f.event(proposed_programme=ProposedProgramme.INTEREST)


def mark(registrant, session, **kwargs):
    return services.selection_add(
        registrant_id=registrant.pk,
        session_id=session.pk,
        actor=services.Actor(registrant=registrant),
        **kwargs,
    )


def counts(session) -> tuple[int, int, int]:
    session = Session.objects.get(pk=session.pk)
    return session.seats_taken, session.waitlist_count, session.interest_count


def states(session) -> dict[int, str]:
    return dict(Selection.objects.filter(session=session).values_list("registrant_id", "state"))


def publish(session):
    return services.session_set_status(session_id=session.pk, status="live", actor=ORGANISER)


def test_interest_in_an_approved_session_holds_no_seat(event):
    session = f.scheduled(event=event, session_status="approved", capacity=1)
    ada, bob = f.registrant(event=event), f.registrant(event=event)

    assert mark(ada, session).selection.state == "interested"
    assert mark(bob, session).selection.state == "interested"  # beyond capacity: no seat

    assert counts(session) == (0, 0, 2)
    entry = SessionChange.objects.filter(session_id=session.pk).order_by("id").first()
    assert entry.action == "selection.interested"
    assert entry.changes == {
        "interest_count": {"old": 0, "new": 1},
        f"registrant.{ada.pk}": {"old": None, "new": "interested"},
    }
    # Marking again changes nothing; taking it back counts down.
    assert mark(ada, session).created is False
    services.selection_remove(
        registrant_id=ada.pk, session_id=session.pk, actor=services.Actor(registrant=ada)
    )
    assert counts(session) == (0, 0, 1) and states(session) == {bob.pk: "interested"}


@pytest.mark.parametrize("status", ["submitted", "rejected", "withdrawn", "converted"])
def test_interest_in_a_session_that_is_not_approved_is_refused(event, status):
    session = f.session(event=event, session_status=status)
    ada = f.registrant(event=event)
    with pytest.raises(ValidationError) as info:
        mark(ada, session)
    assert info.value.error_dict["session_id"][0].code == "not_selectable"
    assert counts(session) == (0, 0, 0) and not SessionChange.objects.exists()


def test_publication_seats_the_interested_first_come_first_served(event):
    session = f.scheduled(event=event, session_status="approved", capacity=2)
    people = [f.registrant(event=event) for _ in range(4)]
    for person in people:
        mark(person, session)
    compose.compose()  # the notices start here

    publish(session)

    assert states(session) == {
        people[0].pk: "selected",
        people[1].pk: "selected",
        people[2].pk: "waitlisted",
        people[3].pk: "waitlisted",
    }
    assert counts(session) == (2, 2, 0)
    converted = SessionChange.objects.filter(
        session_id=session.pk, action="selection.converted"
    ).order_by("id")
    assert converted[0].changes == {
        f"registrant.{people[0].pk}": {"old": "interested", "new": "selected"},
        "seats_taken": {"old": 0, "new": 1},
        "interest_count": {"old": 4, "new": 3},
    }
    assert converted.last().changes["waitlist_count"] == {"old": 1, "new": 2}
    # Everyone is told what they got.
    compose.compose()
    kinds = dict(Message.objects.values_list("registrant_id", "kind"))
    assert kinds == {
        people[0].pk: NoticeKind.REGISTRANT_INTEREST_SEATED,
        people[1].pk: NoticeKind.REGISTRANT_INTEREST_SEATED,
        people[2].pk: NoticeKind.REGISTRANT_INTEREST_WAITLISTED,
        people[3].pk: NoticeKind.REGISTRANT_INTEREST_WAITLISTED,
    }
    # A freed seat goes to the first waiting, as with any waitlist.
    services.selection_remove(registrant_id=people[0].pk, session_id=session.pk, actor=ORGANISER)
    assert states(session)[people[2].pk] == "selected"


def test_publication_can_leave_interests_and_tell_that_it_is_bookable(event):
    Event.objects.filter(pk=event.pk).update(interest_on_publish=InterestOnPublish.TELL)
    session = f.scheduled(event=event, session_status="approved", capacity=5)
    ada = f.registrant(event=event)
    mark(ada, session)
    compose.compose()

    publish(session)

    assert states(session) == {ada.pk: "interested"} and counts(session) == (0, 0, 1)
    compose.compose()
    [told] = Message.objects.filter(registrant=ada)
    assert told.kind == NoticeKind.REGISTRANT_BOOKABLE
    assert "can be booked now" in told.subject
    # Asking for it now takes the seat.
    assert mark(ada, session).selection.state == "selected"
    assert counts(session) == (1, 0, 0)


def test_an_interest_that_would_overlap_a_held_seat_stays_an_interest(event):
    held = f.live(event=event, start="10:00", end="11:00", prevent_session_conflicts=True)
    session = f.scheduled(event=event, session_status="approved", start="10:30", end="11:30")
    ada, bob = f.registrant(event=event), f.registrant(event=event)
    mark(ada, held)
    mark(ada, session)
    mark(bob, session)
    compose.compose()  # the notices start here

    publish(session)

    assert states(session) == {ada.pk: "interested", bob.pk: "selected"}
    compose.compose()
    assert Message.objects.get(registrant=ada).kind == NoticeKind.REGISTRANT_BOOKABLE


def test_an_included_session_seats_the_interested_with_everyone(event):
    session = f.scheduled(event=event, session_status="approved", selection_control="included")
    ada, bob = f.registrant(event=event), f.registrant(event=event)
    mark(ada, session)

    publish(session)

    assert states(session) == {ada.pk: "selected", bob.pk: "selected"}
    assert counts(session) == (2, 0, 0)


# --- The API ----------------------------------------------------------------------------


@pytest.fixture
def api(make_caller, organisation):  # noqa: F811
    return make_caller(
        organisation,
        scopes=["sessions:read", "sessions:write", "registrants:read", "registrants:write"],
    )


@pytest.fixture
def api_event(organisation):  # noqa: F811
    return f.event(organisation=organisation)


def test_the_api_marks_interest_and_the_session_counts_it(api, api_event):
    session = f.session(event=api_event, session_status="approved")
    ada = f.registrant(event=api_event)

    response = api.post(f"/api/v1/registrants/{ada.pk}/sessions", {"session_id": session.pk})

    assert response.status_code == 201, response.content
    assert response.json()["state"] == "interested"
    assert response.json()["waitlist_position"] is None
    assert api.get(f"/api/v1/sessions/{session.pk}").json()["interest_count"] == 1
    [listed] = api.get(f"/api/v1/sessions/{session.pk}/registrants").json()["items"]
    assert (listed["registrant_id"], listed["state"]) == (ada.pk, "interested")
    assert api.delete(f"/api/v1/registrants/{ada.pk}/sessions/{session.pk}").status_code == 204
    assert api.get(f"/api/v1/sessions/{session.pk}").json()["interest_count"] == 0


@pytest.mark.parametrize("status", ["rejected", "withdrawn", "submitted"])
def test_the_api_refuses_interest_in_other_statuses_with_409(api, api_event, status):
    session = f.session(event=api_event, session_status=status)
    ada = f.registrant(event=api_event)

    response = api.post(f"/api/v1/registrants/{ada.pk}/sessions", {"session_id": session.pk})

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "not_selectable"
    assert not Selection.objects.exists()


def test_an_etag_changes_with_the_interest(api, api_event):
    session = f.session(event=api_event, session_status="approved")
    before = api.get(f"/api/v1/sessions/{session.pk}")["ETag"]
    mark(f.registrant(event=api_event), session)
    after = api.get(f"/api/v1/sessions/{session.pk}", HTTP_IF_NONE_MATCH=before)
    assert after.status_code == 200 and after["ETag"] != before


# --- The registrant's page and the public proposed programme ------------------------------


def rows(response) -> dict[int, str]:
    html = response.content.decode()
    section = html.split('id="proposed"', 1)[1] if 'id="proposed"' in html else ""
    return {
        int(pk): state
        for pk, state in re.findall(r'data-session-id="(\d+)" data-state="(\w+)"', section)
    }


def test_the_registrant_marks_interest_on_their_page(event):
    talk = f.session(event=event, session_status="approved", name="Compilers")
    f.session(event=event, session_status="submitted", name="Not accepted yet")
    ada = f.registrant(event=event)
    client = Client()

    page = client.get(ada.get_selection_path())
    assert rows(page) == {talk.pk: "none"}

    saved = client.post(
        ada.get_selection_path(), {"session": [talk.pk], "shown": [talk.pk]}, follow=True
    )
    assert rows(saved) == {talk.pk: "interested"}
    assert "Noted: it interests you" in saved.content.decode()
    assert counts(talk) == (0, 0, 1)

    taken_back = client.post(ada.get_selection_path(), {"shown": [talk.pk]}, follow=True)
    assert rows(taken_back) == {talk.pk: "none"} and counts(talk) == (0, 0, 0)


def test_the_page_offers_no_interest_where_the_event_does_not(event):
    Event.objects.filter(pk=event.pk).update(proposed_programme=ProposedProgramme.LIST)
    f.session(event=event, session_status="approved")
    ada = f.registrant(event=event)
    assert 'id="proposed"' not in Client().get(ada.get_selection_path()).content.decode()


@pytest.mark.parametrize(
    ("setting", "status", "counted"),
    [("off", 404, None), ("list", 200, False), ("interest", 200, True)],
)
def test_the_public_proposed_programme_follows_the_setting(event, setting, status, counted):
    Event.objects.filter(pk=event.pk).update(proposed_programme=setting)
    talk = f.session(event=event, session_status="approved", name="Compilers")
    f.session(event=event, session_status="rejected", name="Left out")
    mark(f.registrant(event=event), talk)
    org, slug = event.organisation.slug, event.slug

    response = Client().get(f"/agenda/{org}/{slug}/proposed/")
    agenda = Client().get(f"/agenda/{org}/{slug}/").content.decode()

    assert response.status_code == status
    assert ("Proposed programme</a>" in agenda) is (status == 200)
    if status == 200:
        html = response.content.decode()
        assert "Compilers" in html and "Left out" not in html
        assert ("1 interested" in html) is counted


def test_the_event_day_sessions_are_not_in_the_proposed_programme(event):
    live = f.live(event=event, name="On the agenda")
    org, slug = event.organisation.slug, event.slug
    html = Client().get(f"/agenda/{org}/{slug}/proposed/").content.decode()
    assert live.name not in html and "No sessions have been accepted yet." in html


def test_the_proposed_programme_and_the_registrants_page_read_no_row_by_row(event):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    speaker = Speaker.objects.create(event=event, first_name="Grace", last_name="H")
    ada = f.registrant(event=event)
    org, slug = event.organisation.slug, event.slug

    def statements() -> tuple[int, int]:
        counted = []
        for path in (f"/agenda/{org}/{slug}/proposed/", ada.get_selection_path()):
            with CaptureQueriesContext(connection) as queries:
                assert Client().get(path).status_code == 200
            counted.append(len(queries))
        return tuple(counted)

    for n in range(2):
        f.session(event=event, session_status="approved", name=f"Few {n}")
    few = statements()
    for n in range(12):
        session = f.session(event=event, session_status="approved", name=f"Many {n}")
        services.session_update(
            session_id=session.pk, data={"speaker_ids": [speaker.pk]}, actor=ORGANISER
        )
        mark(ada, session)
    assert statements() == few


@pytest.mark.parametrize("status", ["rejected", "withdrawn", "submitted"])
def test_a_session_no_longer_accepted_drops_its_interests(event, status):
    session = f.session(event=event, session_status="approved")
    ada, bob = f.registrant(event=event), f.registrant(event=event)
    mark(ada, session)
    mark(bob, session)

    services.session_set_status(session_id=session.pk, status=status, actor=ORGANISER)

    assert states(session) == {} and counts(session) == (0, 0, 0)
    dropped = SessionChange.objects.filter(session_id=session.pk, action="selection.deleted")
    assert {key for entry in dropped for key in entry.changes if key.startswith("registrant.")} == {
        f"registrant.{ada.pk}",
        f"registrant.{bob.pk}",
    }


def test_an_interest_holds_nothing_so_it_conflicts_with_nothing(event):
    """A guarded live session is refused beside a held seat, not beside an interest."""
    proposed = f.scheduled(event=event, session_status="approved", start="10:00", end="11:00")
    guarded = f.live(event=event, start="10:30", end="11:30", prevent_session_conflicts=True)
    ada = f.registrant(event=event)
    mark(ada, proposed)

    assert mark(ada, guarded).selection.state == "selected"
