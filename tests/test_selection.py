"""The selection service: every rule of API.md "Registrants and session selection"."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from sessions_app import services
from sessions_app.models import Registrant, Selection, Session, SessionChange
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return f.event()


@pytest.fixture
def staff():
    return services.Actor(user=get_user_model().objects.create_user("organiser"))


def me(registrant):
    return services.Actor(registrant=registrant)


def add(registrant, session, actor=None, **kwargs):
    return services.selection_add(
        registrant_id=registrant.pk,
        session_id=session.pk,
        actor=actor or me(registrant),
        **kwargs,
    )


def remove(registrant, session, actor=None, **kwargs):
    services.selection_remove(
        registrant_id=registrant.pk,
        session_id=session.pk,
        actor=actor or me(registrant),
        **kwargs,
    )


def codes(exc: ValidationError) -> dict:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


def held(session) -> dict:
    """State of each registrant in the session, and the session's counters."""
    session = Session.objects.get(pk=session.pk)
    return {
        "seats_taken": session.seats_taken,
        "waitlist_count": session.waitlist_count,
        "states": dict(
            Selection.objects.filter(session=session).values_list("registrant_id", "state")
        ),
    }


def test_select_takes_a_seat_counts_it_and_writes_history_with_the_registrant(event):
    session = f.live(event=event, capacity=10)
    ada = f.registrant(event=event)

    result = add(ada, session)

    assert result.created is True
    assert result.selection.state == "selected"
    assert held(session) == {"seats_taken": 1, "waitlist_count": 0, "states": {ada.pk: "selected"}}
    entry = SessionChange.objects.get(session_id=session.pk)
    assert entry.action == "selection.created"
    assert entry.actor_registrant_id == ada.pk
    assert entry.actor_label == f"registrant {ada.full_name} <{ada.email}>"
    assert entry.changes == {
        "seats_taken": {"old": 0, "new": 1},
        f"registrant.{ada.pk}": {"old": None, "new": "selected"},
    }
    # Attendance is not an edit of the session: its version stays.
    assert Session.objects.get(pk=session.pk).version == session.version


def test_select_again_changes_nothing(event):
    session = f.live(event=event)
    ada = f.registrant(event=event)
    add(ada, session)

    again = add(ada, session)

    assert again.created is False
    assert SessionChange.objects.filter(session_id=session.pk).count() == 1


@pytest.mark.parametrize("status", ["submitted", "converted", "rejected", "withdrawn"])
def test_only_live_sessions_are_selectable(event, status):
    """(And approved ones, as an interest: tests/test_interest.py.)"""
    session = f.scheduled(event=event, session_status=status)
    ada = f.registrant(event=event)

    with pytest.raises(ValidationError) as info:
        add(ada, session)

    assert codes(info.value) == {"session_id": ["not_selectable"]}
    assert held(session) == {"seats_taken": 0, "waitlist_count": 0, "states": {}}
    assert not SessionChange.objects.exists()


def test_a_full_session_is_sold_out_with_its_message(event):
    session = f.live(event=event, capacity=1, sold_out_message="Catch the recording")
    first, second = f.registrant(event=event), f.registrant(event=event)
    add(first, session)

    with pytest.raises(ValidationError) as info:
        add(second, session)

    assert codes(info.value) == {"session_id": ["sold_out"]}
    assert info.value.error_dict["session_id"][0].params == {
        "sold_out_message": "Catch the recording"
    }
    assert held(session)["states"] == {first.pk: "selected"}


def test_full_session_with_waitlist_queues_first_come_first_served(event):
    session = f.live(event=event, capacity=1)
    holder, a, b = (f.registrant(event=event) for _ in range(3))
    add(holder, session)

    assert add(a, session, waitlist=True).selection.state == "waitlisted"
    assert add(b, session, waitlist=True).selection.state == "waitlisted"

    assert held(session) == {
        "seats_taken": 1,
        "waitlist_count": 2,
        "states": {holder.pk: "selected", a.pk: "waitlisted", b.pk: "waitlisted"},
    }


def test_waitlist_asked_with_a_free_seat_takes_the_seat(event):
    session = f.live(event=event, capacity=5)
    ada = f.registrant(event=event)

    assert add(ada, session, waitlist=True).selection.state == "selected"


def test_a_freed_seat_goes_to_the_first_waiting_in_the_same_transaction(event):
    session = f.live(event=event, capacity=1)
    holder, a, b = (f.registrant(event=event) for _ in range(3))
    add(holder, session)
    add(a, session, waitlist=True)
    add(b, session, waitlist=True)

    remove(holder, session)

    assert held(session) == {
        "seats_taken": 1,
        "waitlist_count": 1,
        "states": {a.pk: "selected", b.pk: "waitlisted"},
    }
    actions = list(
        SessionChange.objects.filter(session_id=session.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["selection.deleted", "selection.promoted"]


def test_raising_capacity_seats_the_waiting_in_order(event, staff):
    session = f.live(event=event, capacity=1)
    holder, a, b, c = (f.registrant(event=event) for _ in range(4))
    add(holder, session)
    for waiting in (a, b, c):
        add(waiting, session, waitlist=True)

    services.session_update(session_id=session.pk, data={"capacity": 3}, actor=staff)

    assert held(session) == {
        "seats_taken": 3,
        "waitlist_count": 1,
        "states": {holder.pk: "selected", a.pk: "selected", b.pk: "selected", c.pk: "waitlisted"},
    }


def test_unlimited_capacity_seats_everyone_waiting(event, staff):
    session = f.live(event=event, capacity=1)
    holder, a = f.registrant(event=event), f.registrant(event=event)
    add(holder, session)
    add(a, session, waitlist=True)

    services.session_update(session_id=session.pk, data={"capacity": None}, actor=staff)

    assert held(session)["states"] == {holder.pk: "selected", a.pk: "selected"}


def test_capacity_below_seats_taken_is_refused(event, staff):
    session = f.live(event=event, capacity=5)
    for _ in range(3):
        add(f.registrant(event=event), session)

    with pytest.raises(ValidationError) as info:
        services.session_update(session_id=session.pk, data={"capacity": 2}, actor=staff)

    assert codes(info.value) == {"capacity": ["below_seats_taken"]}


def test_staff_may_seat_beyond_capacity_but_a_registrant_may_not(event, staff):
    session = f.live(event=event, capacity=1)
    holder, extra = f.registrant(event=event), f.registrant(event=event)
    add(holder, session)

    with pytest.raises(ValidationError):
        add(extra, session, override_capacity=True)  # the registrant is not staff
    result = add(extra, session, actor=staff, override_capacity=True)

    assert result.selection.state == "selected"
    assert held(session)["seats_taken"] == 2
    assert (
        SessionChange.objects.filter(session_id=session.pk).order_by("id").last().note
        == "Seated beyond capacity by staff."
    )


def test_an_included_seat_cannot_be_given_up(event, staff):
    session = f.live(event=event, selection_control="included")
    ada = services.registrant_create(
        event_id=event.pk, data={"first_name": "Ada", "email": "ada@example.org"}, actor=staff
    )
    assert held(session)["states"] == {ada.pk: "selected"}

    with pytest.raises(ValidationError) as info:
        remove(ada, session)

    assert codes(info.value) == {"session_id": ["included"]}
    assert held(session)["states"] == {ada.pk: "selected"}


def test_a_locked_seat_cannot_be_given_up_except_by_staff_override(event, staff):
    session = f.live(event=event, locked_when_saved=True)
    ada = f.registrant(event=event)
    add(ada, session)

    with pytest.raises(ValidationError) as info:
        remove(ada, session)
    assert codes(info.value) == {"session_id": ["locked"]}
    with pytest.raises(ValidationError):
        remove(ada, session, override_lock=True)  # a registrant cannot override
    remove(ada, session, actor=staff, override_lock=True)

    assert held(session)["states"] == {}
    assert (
        SessionChange.objects.filter(session_id=session.pk).order_by("id").last().note
        == "Lock overridden by staff."
    )


def test_a_locked_waitlist_place_can_be_left(event):
    session = f.live(event=event, capacity=0, locked_when_saved=True)
    ada = f.registrant(event=event)
    add(ada, session, waitlist=True)

    remove(ada, session)

    assert held(session) == {"seats_taken": 0, "waitlist_count": 0, "states": {}}


@pytest.mark.parametrize(
    "guarded", ["new_session", "held_session"], ids=["new_session", "held_session"]
)
def test_overlapping_sessions_are_refused_when_either_prevents_conflicts(event, guarded):
    first = f.live(
        event=event, start="10:00", end="11:00", prevent_session_conflicts=guarded == "held_session"
    )
    second = f.live(
        event=event, start="10:30", end="11:30", prevent_session_conflicts=guarded == "new_session"
    )
    ada = f.registrant(event=event)
    add(ada, first)

    with pytest.raises(ValidationError) as info:
        add(ada, second)

    assert codes(info.value) == {"session_id": ["selection_conflict"]}
    conflicts = info.value.error_dict["session_id"][0].params["conflicts"]
    assert [c["id"] for c in conflicts] == [first.pk]
    assert held(second)["states"] == {}


def test_overlap_without_the_flag_and_adjacent_sessions_are_allowed(event):
    first = f.live(event=event, start="10:00", end="11:00")
    overlapping = f.live(event=event, start="10:30", end="11:30")
    adjacent = f.live(event=event, start="11:00", end="12:00", prevent_session_conflicts=True)
    ada = f.registrant(event=event)

    add(ada, first)

    assert add(ada, overlapping).selection.state == "selected"
    bob = f.registrant(event=event)
    add(bob, first)
    assert add(bob, adjacent).selection.state == "selected"


def test_a_waitlist_place_counts_for_conflicts(event):
    full = f.live(event=event, capacity=0, start="10:00", end="11:00")
    guarded = f.live(event=event, start="10:30", end="11:30", prevent_session_conflicts=True)
    ada = f.registrant(event=event)
    add(ada, full, waitlist=True)

    with pytest.raises(ValidationError) as info:
        add(ada, guarded)

    assert codes(info.value) == {"session_id": ["selection_conflict"]}


def test_a_session_of_another_event_is_not_found(event):
    other = f.live(event=f.event())
    ada = f.registrant(event=event)

    with pytest.raises(ValidationError) as info:
        add(ada, other)

    assert codes(info.value) == {"session_id": ["does_not_exist"]}


def test_validate_only_writes_nothing(event):
    session = f.live(event=event, capacity=3)
    ada = f.registrant(event=event)

    result = add(ada, session, validate_only=True)

    assert result.selection.state == "selected"
    assert held(session) == {"seats_taken": 0, "waitlist_count": 0, "states": {}}
    assert not SessionChange.objects.exists()


def test_registrant_create_seats_included_and_defaults(event, staff):
    included = f.live(
        event=event, selection_control="included", capacity=1, start="09:00", end="10:00"
    )
    default = f.live(event=event, selected_by_default=True, start="10:00", end="11:00")
    full_default = f.live(
        event=event, selected_by_default=True, capacity=0, start="12:00", end="13:00"
    )
    f.live(event=event, start="14:00", end="15:00")  # optional, not default
    f.scheduled(
        event=event, selected_by_default=True, session_status="approved", start="16:00", end="17:00"
    )
    f.registrant(event=event)  # someone already holds the included session's only seat...
    services.registrant_create(
        event_id=event.pk, data={"first_name": "First", "email": "first@example.org"}, actor=staff
    )

    ada = services.registrant_create(
        event_id=event.pk, data={"first_name": "Ada", "email": "ada@example.org"}, actor=staff
    )

    states = dict(Selection.objects.filter(registrant=ada).values_list("session_id", "state"))
    assert states == {included.pk: "selected", default.pk: "selected"}
    assert full_default.pk not in states
    # ...and included seats everyone all the same.
    assert Session.objects.get(pk=included.pk).seats_taken == 2


def test_registrant_create_with_session_ids_selects_those_not_the_defaults(event, staff):
    default = f.live(event=event, selected_by_default=True, start="10:00", end="11:00")
    chosen = f.live(event=event, start="12:00", end="13:00")

    ada = services.registrant_create(
        event_id=event.pk,
        data={"first_name": "Ada", "email": "ada@example.org"},
        session_ids=[chosen.pk],
        actor=staff,
    )

    assert set(ada.selections.values_list("session_id", flat=True)) == {chosen.pk}
    assert held(default)["states"] == {}


def test_registrant_create_refused_selection_refuses_the_registration(event, staff):
    full = f.live(event=event, capacity=0)

    with pytest.raises(ValidationError) as info:
        services.registrant_create(
            event_id=event.pk,
            data={"first_name": "Ada", "email": "ada@example.org"},
            session_ids=[full.pk],
            actor=staff,
        )

    assert codes(info.value) == {"session_id": ["sold_out"]}
    assert not Registrant.objects.exists()


def test_registrant_email_is_unique_per_event_ignoring_case(event, staff):
    f.registrant(event=event, email="Ada@Example.org")

    with pytest.raises(ValidationError) as info:
        services.registrant_create(
            event_id=event.pk, data={"first_name": "Ada", "email": "ada@example.ORG"}, actor=staff
        )

    assert codes(info.value) == {"email": ["email_taken"]}
    services.registrant_create(
        event_id=f.event().pk, data={"first_name": "Ada", "email": "ada@example.org"}, actor=staff
    )


def test_making_a_session_live_and_included_seats_every_registrant(event, staff):
    session = f.scheduled(event=event, selection_control="included", session_status="approved")
    people = [f.registrant(event=event) for _ in range(3)]

    services.session_set_status(session_id=session.pk, status="live", actor=staff)

    assert held(session) == {
        "seats_taken": 3,
        "waitlist_count": 0,
        "states": {p.pk: "selected" for p in people},
    }
    assert SessionChange.objects.filter(session_id=session.pk, action="selection.included").exists()


def test_deleting_a_registrant_frees_their_seats_for_the_waitlist(event, staff):
    session = f.live(event=event, capacity=1, locked_when_saved=True)
    holder, waiting = f.registrant(event=event), f.registrant(event=event)
    add(holder, session)
    add(waiting, session, waitlist=True)

    services.registrant_delete(registrant_id=holder.pk, actor=staff)

    assert held(session)["states"] == {waiting.pk: "selected"}
    assert not Registrant.objects.filter(pk=holder.pk).exists()


def test_unpublished_session_keeps_its_seats_and_takes_no_new_ones(event, staff):
    session = f.live(event=event)
    ada, bob = f.registrant(event=event), f.registrant(event=event)
    add(ada, session)

    services.session_set_status(session_id=session.pk, status="approved", actor=staff)

    assert held(session)["states"] == {ada.pk: "selected"}
    # Approved again: Bob can only say it interests him, which takes no seat.
    assert add(bob, session).selection.state == "interested"
    assert held(session) == {
        "seats_taken": 1,
        "waitlist_count": 0,
        "states": {ada.pk: "selected", bob.pk: "interested"},
    }
    remove(ada, session)  # a seat can still be given up


def test_deleting_a_session_takes_its_selections_with_it(event, staff):
    session = f.scheduled(event=event, session_status="approved")
    ada = f.registrant(event=event)
    Selection.objects.create(registrant=ada, session=session, state="selected")

    services.session_delete(session_id=session.pk, actor=staff)

    assert not Selection.objects.exists()


def test_page_link_is_an_hmac_that_a_new_key_revokes(event):
    ada = f.registrant(event=event)
    token = ada.page_token()

    assert len(token) == 40
    assert ada.page_token_matches(token)
    assert not ada.page_token_matches(token[:-1] + ("0" if token[-1] != "0" else "1"))
    renewed = services.registrant_reset_link(registrant_id=ada.pk)
    assert not renewed.page_token_matches(token)


def test_page_link_survives_a_key_rotation_through_the_fallbacks(event, settings):
    ada = f.registrant(event=event)
    old_token = ada.page_token()

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "z" * 40

    assert ada.page_token() != old_token
    assert ada.page_token_matches(old_token)
    settings.SECRET_KEY_FALLBACKS = []
    assert not ada.page_token_matches(old_token)


def test_a_session_created_live_and_included_seats_every_registrant(event, staff):
    people = [f.registrant(event=event) for _ in range(2)]

    session = services.session_create(
        event=event,
        data={
            "name": "All hands",
            "date": event.start_date,
            "start_time": dt.time(9),
            "end_time": dt.time(10),
            "session_status": "live",
            "selection_control": "included",
        },
        actor=staff,
    )

    assert held(session)["states"] == {p.pk: "selected" for p in people}


def test_promotion_sends_the_same_statements_however_many_are_seated(event, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def raise_capacity(raised_by: int) -> int:
        session = f.live(event=event, capacity=1, day=raised_by % 3)
        add(f.registrant(event=event), session)
        for _ in range(20):
            add(f.registrant(event=event), session, waitlist=True)
        with CaptureQueriesContext(connection) as queries:
            services.session_update(
                session_id=session.pk, data={"capacity": 1 + raised_by}, actor=staff
            )
        assert held(session)["seats_taken"] == 1 + raised_by
        promoted = SessionChange.objects.filter(
            session_id=session.pk, action="selection.promoted"
        ).order_by("id")
        assert [c.changes["seats_taken"]["new"] for c in promoted] == list(range(2, 2 + raised_by))
        return len(queries.captured_queries)

    assert raise_capacity(1) == raise_capacity(20)
