"""Suggestions for a real event: read from the database, every hard rule holding, and
accepted through the session service with the version they were made from."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from sessions_app import services
from sessions_app.models import (
    BlockedSlot,
    Session,
    SessionChange,
    Speaker,
    SpeakerAvailability,
)
from sessions_app.planning import proposals
from tests import factories
from tests.admin.conftest import staff

SYSTEM = services.SYSTEM


def at(event, hour: int, minute: int = 0) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(event.timezone)
    return dt.datetime.combine(event.start_date, dt.time(hour, minute), tzinfo=zone)


@pytest.fixture
def world(db):
    event = factories.event(timezone="Europe/Berlin")
    event.end_date = event.start_date  # one day
    event.save()
    hall = factories.location(event=event, name="Hall", capacity=200)
    small = factories.location(event=event, name="Small", capacity=20)
    ada = Speaker.objects.create(event=event, first_name="Ada", last_name="L")
    keynote = factories.create_via_service(
        event=event,
        name="Keynote",
        date=event.start_date.isoformat(),
        start_time="09:00",
        end_time="10:00",
        location_id=hall.pk,
    )
    for status in ("approved", "live"):
        services.session_set_status(session_id=keynote.pk, status=status, actor=SYSTEM)
    waiting = [
        factories.create_via_service(event=event, name=f"Talk {n}", capacity=c)
        for n, c in enumerate([150, 15])
    ]
    services.session_update(session_id=waiting[0].pk, data={"speaker_ids": [ada.pk]}, actor=SYSTEM)
    SpeakerAvailability.objects.create(speaker=ada, starts_at=at(event, 14), ends_at=at(event, 16))
    BlockedSlot.objects.create(
        event=event, label="Lunch", starts_at=at(event, 12), ends_at=at(event, 13)
    )
    organiser = staff(event.organisation, "organiser")
    return {"event": event, "hall": hall, "small": small, "keynote": keynote,
            "waiting": waiting, "organiser": organiser}  # fmt: skip


def test_a_suggestion_places_the_unscheduled_sessions_by_every_rule(world):
    proposal = proposals.propose(world["event"], seconds=5)
    assert proposal.status in ("optimal", "feasible")
    moves = {m.session_id: m for m in proposal.moves}
    big, little = world["waiting"]
    assert set(moves) == {big.pk, little.pk}  # the live keynote stays
    assert moves[big.pk].location_id == world["hall"].pk  # 150 expected: the big room
    assert dt.time(14) <= moves[big.pk].start_time and moves[big.pk].end_time <= dt.time(16)
    for move in moves.values():  # never over lunch
        assert move.end_time <= dt.time(12) or move.start_time >= dt.time(13)
    assert moves[big.pk].was == "not scheduled"
    assert proposal.after.seats_short == 0


def test_accepting_applies_each_move_through_the_service_as_the_organiser(world):
    proposal = proposals.propose(world["event"], seconds=5)
    actor = services.Actor(user=world["organiser"])
    outcome = proposals.accept(proposal.moves, actor=actor)
    assert sorted(outcome.applied) == sorted(s.pk for s in world["waiting"])
    for move in proposal.moves:
        session = Session.objects.get(pk=move.session_id)
        assert (session.location_id, session.start_time) == (move.location_id, move.start_time)
        [entry] = SessionChange.objects.filter(session_id=move.session_id, note=proposals.NOTE)
        assert entry.actor_user == world["organiser"]


def test_a_session_changed_meanwhile_is_skipped_not_overwritten(world):
    proposal = proposals.propose(world["event"], seconds=5)
    changed = world["waiting"][1]
    # Someone else schedules it by hand while the suggestion is open.
    services.session_update(
        session_id=changed.pk,
        data={
            "date": world["event"].start_date,
            "start_time": "17:00",
            "end_time": "18:00",
            "location_id": world["small"].pk,
        },
        actor=SYSTEM,
    )
    outcome = proposals.accept(proposal.moves, actor=SYSTEM)
    assert outcome.skipped == {changed.pk: "changed since the suggestion was made"}
    assert Session.objects.get(pk=changed.pk).start_time == dt.time(17)
    assert outcome.applied == [world["waiting"][0].pk]


def test_an_event_with_no_place_for_a_session_says_why_and_places_the_rest(world):
    SpeakerAvailability.objects.all().update(
        starts_at=at(world["event"], 21), ends_at=at(world["event"], 22)
    )
    proposal = proposals.propose(world["event"], seconds=2)
    assert proposal.status == "partial"
    assert [move.session_id for move in proposal.moves] == [world["waiting"][1].pk]
    assert proposal.reasons == {
        world["waiting"][0].pk: "its speakers are never all available for its whole length"
    }


def test_a_room_is_used_only_in_its_opening_hours(world):
    from sessions_app.models import LocationOpening

    event = world["event"]
    # The hall opens only 16:00-18:00; the big talk needs it (150 expected) and its speaker
    # is there 14:00-16:00: no fit. The small one fits in either room.
    LocationOpening.objects.create(
        location=world["hall"], starts_at=at(event, 16), ends_at=at(event, 18)
    )
    proposal = proposals.propose(event, seconds=5)
    moves = {m.session_id: m for m in proposal.moves}
    big = moves[world["waiting"][0].pk]
    assert big.location_id == world["small"].pk  # the hall is closed while Ada is there
    for move in moves.values():
        if move.location_id == world["hall"].pk:
            assert move.start_time >= dt.time(16)


def place(session, event, hour: int, room) -> Session:
    return services.session_update(
        session_id=session.pk,
        data={
            "date": event.start_date,
            "start_time": dt.time(hour),
            "end_time": dt.time(hour + 1),
            "location_id": room.pk,
        },
        actor=SYSTEM,
    )


def test_a_pinned_session_never_moves_and_an_unpinned_one_would(world):
    from sessions_app.models import Selection

    event = world["event"]
    big, little = world["waiting"]
    # Both at 15:00, and five registrants chose both (from when they were live): moving one
    # of them is worth it, and a suggestion allowed to move placed sessions does.
    place(big, event, 15, world["hall"])
    place(little, event, 15, world["small"])
    for session in (big, little):
        services.session_set_status(session_id=session.pk, status="approved", actor=SYSTEM)
    for n in range(5):
        registrant = factories.registrant(event=event, email=f"r{n}@example.com")
        for session in (big, little):
            Selection.objects.create(registrant=registrant, session=session, state="selected")
    unpinned = proposals.propose(event, move_placed=True, seconds=5)
    assert unpinned.before.attendee_clashes == 5 and unpinned.after.attendee_clashes == 0
    assert {m.session_id for m in unpinned.moves} & {big.pk, little.pk}

    for session in (big, little):
        services.session_update(session_id=session.pk, data={"pinned": True}, actor=SYSTEM)
    pinned = proposals.propose(event, move_placed=True, seconds=5)
    assert pinned.moves == [] and pinned.after.attendee_clashes == 5


def test_a_pinned_unscheduled_session_stays_off_the_grid(world):
    little = world["waiting"][1]
    services.session_update(session_id=little.pk, data={"pinned": True}, actor=SYSTEM)
    proposal = proposals.propose(world["event"], seconds=5)
    assert [m.session_id for m in proposal.moves] == [world["waiting"][0].pk]


def test_a_suggestion_for_chosen_sessions_moves_only_those(world):
    event = world["event"]
    big, little = world["waiting"]
    everyone = proposals.propose(event, seconds=5)
    assert {m.session_id for m in everyone.moves} == {big.pk, little.pk}

    chosen = proposals.propose(event, session_ids=[big.pk], seconds=5)
    assert [m.session_id for m in chosen.moves] == [big.pk]  # the little one stays unplaced
    # A chosen session that is placed moves only when moving placed sessions is asked for.
    place(little, event, 10, world["small"])
    assert proposals.propose(event, session_ids=[little.pk], seconds=5).moves == []
