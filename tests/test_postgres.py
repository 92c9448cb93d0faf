"""What only PostgreSQL can show: real row locks, concurrent writers, the exclusion constraint."""

import datetime as dt
import itertools
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction

from sessions_app import services
from sessions_app.models import Session, SessionChange, SessionSpeaker, Speaker
from tests import factories as f

pytestmark = [pytest.mark.postgres]


def _in_thread(target, results, key, *args):
    def run():
        try:
            results[key] = target(*args)
        except Exception as exc:  # the outcome under test: kept, not swallowed
            results[key] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_for_one_slot_one_wins():
    event = f.event()
    room = f.location(event=event)
    first = f.scheduled(event=event, location=room)
    second = f.scheduled(event=event, location=room, start="10:30", end="11:30")
    barrier = threading.Barrier(2)

    def approve(session_id):
        barrier.wait(timeout=10)
        return services.session_set_status(
            session_id=session_id, status="approved", actor=services.SYSTEM
        )

    results: dict = {}
    threads = [_in_thread(approve, results, s.pk, s.pk) for s in (first, second)]
    for thread in threads:
        thread.join(timeout=30)

    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["Session", "ValidationError"]
    loser = next(r for r in results.values() if isinstance(r, ValidationError))
    winner = next(r for r in results.values() if isinstance(r, Session))
    error = loser.error_dict["location"][0]
    assert error.code == "conflict"
    assert [c["id"] for c in error.params["conflicts"]] == [winner.pk]
    assert Session.objects.filter(session_status="approved").count() == 1
    assert SessionChange.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_race_past_the_check_surfaces_as_the_conflict_error():
    """A writer that skips the services holds the slot uncommitted while the service checks:
    the check cannot see it, the exclusion constraint can, and the service answers with the
    same conflict error instead of an IntegrityError."""
    event = f.event()
    room = f.location(event=event)
    proposal = f.scheduled(event=event, location=room)
    inserted = threading.Event()
    release = threading.Event()

    def sneaky_insert():
        with transaction.atomic():
            rogue = f.scheduled(event=event, location=room, session_status="approved", name="Rogue")
            inserted.set()
            release.wait(timeout=10)
        return rogue

    def approve():
        inserted.wait(timeout=10)
        # Let the rogue transaction commit once this writer is blocked on its row.
        threading.Timer(1.0, release.set).start()
        return services.session_set_status(
            session_id=proposal.pk, status="approved", actor=services.SYSTEM
        )

    results: dict = {}
    threads = [_in_thread(sneaky_insert, results, "rogue"), _in_thread(approve, results, "service")]
    for thread in threads:
        thread.join(timeout=30)

    assert isinstance(results["rogue"], Session)
    assert isinstance(results["service"], ValidationError), results["service"]
    error = results["service"].error_dict["location"][0]
    assert error.code == "conflict"
    assert [c["id"] for c in error.params["conflicts"]] == [results["rogue"].pk]
    assert Session.objects.get(pk=proposal.pk).session_status == "submitted"
    assert not SessionChange.objects.exists()


def _speaker_and_time_zone_race(event):
    """Ada in a held session at 10:00-11:00 of the event's zone (Berlin: 08:00 UTC), and a
    held session fixed at 09:00-10:00 UTC in another room without her: she may join it
    while the event stays in Berlin, not once it is in London (the first then starts at
    09:00 UTC)."""
    ada = Speaker.objects.create(event=event, first_name="Ada")
    moving = f.scheduled(
        event=event, location=f.location(event=event), session_status="approved",
        speaker_ids=[ada.pk],
    )  # fmt: skip
    SessionSpeaker.objects.create(session=moving, speaker=ada)
    fixed = f.scheduled(
        event=event, location=f.location(event=event), session_status="approved",
        use_event_timezone=False, timezone="UTC", start="09:00", end="10:00",
    )  # fmt: skip

    def assign():
        return services.session_update(
            session_id=fixed.pk, data={"speaker_ids": [ada.pk]}, actor=services.SYSTEM
        )

    def move():
        return services.event_update(
            event_id=event.pk, data={"timezone": "Europe/London"}, actor=services.SYSTEM
        )

    return ada, assign, move


def _held_open(write, done, release):
    """``write`` in a transaction kept open (its locks held) until ``release`` is set."""

    def run():
        with transaction.atomic():
            result = write()
            done.set()
            release.wait(timeout=10)
        return result

    return run


def _ada_is_double_booked(ada) -> bool:
    slots = sorted(
        (link.session.starts_at, link.session.ends_at)
        for link in SessionSpeaker.objects.filter(speaker=ada).select_related("session")
    )
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(slots))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["assign", "move"])
def test_a_time_zone_change_and_a_speaker_assignment_racing_do_not_double_book(first):
    """The first write holds its transaction open; the second must wait for it (both hold
    the speaker's row) and then see it, so exactly one of them is refused."""
    event = f.event(timezone="Europe/Berlin")
    ada, assign, move = _speaker_and_time_zone_race(event)
    writes = {"assign": assign, "move": move}
    second = "move" if first == "assign" else "assign"
    done, release = threading.Event(), threading.Event()
    results: dict = {}
    threads = [_in_thread(_held_open(writes[first], done, release), results, first)]
    assert done.wait(timeout=10)
    threads.append(_in_thread(writes[second], results, second))
    threads[1].join(timeout=1.0)
    assert threads[1].is_alive(), f"{second} did not wait for {first}: {results.get(second)}"
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert not isinstance(results[first], Exception), results[first]
    assert isinstance(results[second], ValidationError), results[second]
    field = "timezone" if second == "move" else "speaker_ids"
    assert [e.code for e in results[second].error_dict[field]] == ["conflict"]
    assert not _ada_is_double_booked(ada)
    event.refresh_from_db()
    assert event.timezone == ("Europe/London" if first == "move" else "Europe/Berlin")


@pytest.mark.django_db
def test_raw_update_that_double_books_is_refused_by_the_database():
    event = f.event()
    room = f.location(event=event)
    f.scheduled(event=event, location=room, session_status="approved")
    proposal = f.scheduled(event=event, location=room, start="10:30", end="11:30")
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=proposal.pk).update(session_status="approved")
    assert Session.objects.get(pk=proposal.pk).session_status == "submitted"


@pytest.mark.django_db
def test_raw_update_adjacent_slot_is_allowed_by_the_database():
    event = f.event()
    room = f.location(event=event)
    f.scheduled(event=event, location=room, session_status="approved")
    adjacent = f.scheduled(event=event, location=room, start="11:00", end="12:00")
    Session.objects.filter(pk=adjacent.pk).update(session_status="approved")
    assert Session.objects.get(pk=adjacent.pk).session_status == "approved"


@pytest.mark.django_db
def test_check_constraints_refuse_raw_writes():
    event = f.event()
    session = f.scheduled(event=event)
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=session.pk).update(end_time=dt.time(9, 0))
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=session.pk).update(capacity=-1)


@pytest.mark.django_db
def test_exclusion_constraint_is_installed():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "sessions_app_session")
    assert "session_no_location_overlap" in constraints
