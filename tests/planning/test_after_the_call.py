"""Suggestions for an event after its call: approved sessions with no time yet, their own
lengths, registrants' interests as the only choices, an event too full for them all, and
every rule of the result checked from the rows themselves (not by the solver's own score)."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections import Counter

import pytest

from sessions_app import services
from sessions_app.models import (
    BlockedSlot,
    Event,
    LocationOpening,
    Session,
    SessionSpeaker,
    SessionType,
    Speaker,
    SpeakerAvailability,
)
from sessions_app.planning import jobs, proposals, solver
from sessions_app.planning.proposals import DAY_END, DAY_START
from tests import factories

SYSTEM = services.SYSTEM


def at(event, day: int, hour: int, minute: int = 0) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(event.timezone)
    date = event.start_date + dt.timedelta(days=day)
    return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=zone)


def approved(event, name: str, **data) -> Session:
    session = factories.create_via_service(event=event, name=name, **data)
    services.session_set_status(session_id=session.pk, status="approved", actor=SYSTEM)
    return session


def interested(registrant, *sessions) -> None:
    for session in sessions:
        services.selection_add(
            registrant_id=registrant.pk,
            session_id=session.pk,
            actor=services.Actor(registrant=registrant),
        )


@pytest.fixture
def after_the_call(db):
    """Two days, three rooms (one open only in the afternoons), lunch blocked, a reserved
    slot, speakers of whom some come for one day; 24 approved sessions of three types, none
    placed, and 40 registrants' interests."""
    rng = random.Random(7)
    event = factories.event(timezone="Europe/Berlin")
    event.end_date = event.start_date + dt.timedelta(days=1)
    event.save()
    rooms = [
        factories.location(event=event, name="Hall", capacity=120),
        factories.location(event=event, name="Room A", capacity=40),
        factories.location(event=event, name="Room B", capacity=40),
    ]
    for day in (0, 1):
        LocationOpening.objects.create(
            location=rooms[2], starts_at=at(event, day, 13, 30), ends_at=at(event, day, 20)
        )
        BlockedSlot.objects.create(
            event=event, label="Lunch", starts_at=at(event, day, 12, 30),
            ends_at=at(event, day, 13, 30),
        )  # fmt: skip
    BlockedSlot.objects.create(
        event=event, location=rooms[0], label="Sponsor", starts_at=at(event, 0, 9),
        ends_at=at(event, 0, 10),
    )  # fmt: skip
    types = [
        SessionType.objects.create(event=event, name=name, default_minutes=minutes)
        for name, minutes in (("Talk", 30), ("Long talk", 45), ("Workshop", 90))
    ]
    speakers = [
        Speaker.objects.create(event=event, first_name=f"S{n}", last_name="X") for n in range(16)
    ]
    for speaker in speakers[:4]:  # the first day only
        SpeakerAvailability.objects.create(
            speaker=speaker, starts_at=at(event, 0, 8), ends_at=at(event, 0, 20)
        )
    sessions = [
        approved(
            event,
            f"Talk {n}",
            session_type_id=types[n % 3].pk,
            speaker_ids=[speakers[n % len(speakers)].pk],
        )
        for n in range(24)
    ]
    registrants = [factories.registrant(event=event) for _ in range(40)]
    for person in registrants:
        interested(person, *rng.sample(sessions, 4))
    return {"event": event, "rooms": rooms, "sessions": sessions, "types": types}


def check_rules(event: Event, placed_ids: set[int]) -> list[str]:
    """Every hard rule, from the rows: the day's hours, blocks, opening hours, one session a
    room and a speaker at a time, and speakers' availability."""
    zone = zoneinfo.ZoneInfo(event.timezone)
    placed = list(
        Session.objects.filter(pk__in=placed_ids).exclude(starts_at=None).order_by("starts_at")
    )
    broken = []
    blocks = list(BlockedSlot.objects.filter(event=event))
    openings: dict[int, list] = {}
    for opening in LocationOpening.objects.filter(location__event=event):
        openings.setdefault(opening.location_id, []).append(opening)
    availability: dict[int, list] = {}
    for window in SpeakerAvailability.objects.filter(speaker__event=event):
        availability.setdefault(window.speaker_id, []).append(window)
    speakers_of: dict[int, set[int]] = {}
    for link in SessionSpeaker.objects.filter(session__event=event):
        speakers_of.setdefault(link.session_id, set()).add(link.speaker_id)
    for session in placed:
        starts, ends = session.starts_at, session.ends_at
        local_start, local_end = starts.astimezone(zone), ends.astimezone(zone)
        if local_start.time() < DAY_START or local_end.time() > DAY_END:
            broken.append(f"{session.name}: outside the day's hours")
        if (ends - starts) != dt.timedelta(minutes=session.duration_minutes):
            broken.append(f"{session.name}: not its own length")
        for block in blocks:
            if block.location_id in (None, session.location_id) and (
                starts < block.ends_at and block.starts_at < ends
            ):
                broken.append(f"{session.name}: over {block.label}")
        hours = openings.get(session.location_id)
        if hours and not any(o.starts_at <= starts and ends <= o.ends_at for o in hours):
            broken.append(f"{session.name}: the room is closed")
        for speaker in speakers_of.get(session.pk, ()):
            windows = availability.get(speaker)
            if windows and not any(w.starts_at <= starts and ends <= w.ends_at for w in windows):
                broken.append(f"{session.name}: speaker {speaker} is not there")
    for n, first in enumerate(placed):
        for second in placed[n + 1 :]:
            if second.starts_at >= first.ends_at:
                continue
            if first.location_id == second.location_id:
                broken.append(f"{first.name} and {second.name}: one room")
            if speakers_of.get(first.pk, set()) & speakers_of.get(second.pk, set()):
                broken.append(f"{first.name} and {second.name}: one speaker")
    return broken


def test_interests_are_the_choices_and_every_session_keeps_its_own_length(after_the_call):
    problem, _sessions = proposals.problem_for(after_the_call["event"])
    lengths = {item.id: item.duration for item in problem.items}
    for session in after_the_call["sessions"]:
        assert lengths[session.pk] == session.session_type.default_minutes
    # Every co-chosen pair counts, whatever the state (all are interests here).
    expected = Counter()
    from sessions_app.models import Selection

    chosen: dict[int, list[int]] = {}
    for registrant_id, session_id in Selection.objects.values_list("registrant_id", "session_id"):
        chosen.setdefault(registrant_id, []).append(session_id)
    for picks in chosen.values():
        picks.sort()
        for n, a in enumerate(picks):
            for b in picks[n + 1 :]:
                expected[(a, b)] += 1
    assert problem.together == dict(expected) and sum(expected.values()) == 40 * 6


def test_the_suggestion_places_everything_by_every_rule_and_reports_what_it_returns(
    after_the_call,
):
    event = after_the_call["event"]
    reported = []

    def tick(latest: dict) -> bool:
        reported.append(latest)
        return False  # no cancel

    proposal = proposals.propose(event, seconds=2, tick=tick)
    assert proposal.status in ("optimal", "feasible"), proposal.reasons
    assert {m.session_id for m in proposal.moves} == {s.pk for s in after_the_call["sessions"]}
    assert proposal.shortfalls == []
    outcome = proposals.accept(proposal.moves, actor=SYSTEM)
    assert outcome.skipped == {} and len(outcome.applied) == 24
    assert check_rules(event, set(outcome.applied)) == []
    # The clashes the progress named last are the ones the result counts.
    assert reported and reported[-1]["attendee_clashes"] == proposal.after.attendee_clashes
    # Registrants who chose two sessions that now run at once, counted from the rows.
    from sessions_app.models import Selection

    spans = {s.pk: (s.starts_at, s.ends_at) for s in Session.objects.filter(event=event)}
    chosen: dict[int, list[int]] = {}
    for registrant_id, session_id in Selection.objects.values_list("registrant_id", "session_id"):
        chosen.setdefault(registrant_id, []).append(session_id)
    clashes = sum(
        1
        for picks in chosen.values()
        for n, a in enumerate(picks)
        for b in picks[n + 1 :]
        if spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]
    )
    assert clashes == proposal.after.attendee_clashes
    # The suggestion weighed them: greedy's schedule of the same event has more.
    problem, _ = proposals.problem_for(event)
    assert solver.greedy(problem).score.attendee_clashes >= clashes


def test_an_overfull_event_gets_a_partial_suggestion_naming_the_constraint(
    after_the_call, settings
):
    settings.SCHEDULE_SUGGESTION_SECONDS = 2  # the worker's search, for less than its 10 s
    event = after_the_call["event"]
    workshop = after_the_call["types"][2]
    # The rooms have 3,360 open minutes over the two days; these ask for 4,020.
    extra = [approved(event, f"Extra workshop {n}", session_type_id=workshop.pk) for n in range(30)]
    proposal = jobs.start(event=event, user=None, day=None, move_placed=False)
    jobs.run(proposal.pk)
    proposal.refresh_from_db()
    result = proposal.result

    assert result["status"] == "partial"
    [room_time] = [s for s in result["shortfalls"] if s["constraint"] == "room_time"]
    assert room_time["hard"] is True
    assert room_time["message"].startswith("The 54 sessions to place need 4020 minutes")
    assert "3360 open minutes left over 2 days (day 1: 1650, day 2: 1710;" in room_time["message"]
    assert result["reasons"], "the sessions left out are named"
    assert set(result["reasons"].values()) == {proposals.FULL}
    moves = jobs.moves_of(proposal)
    placed = {m.session_id for m in moves}
    left_out = {int(pk) for pk in result["reasons"]}
    assert not placed & left_out
    assert placed | left_out == {s.pk for s in after_the_call["sessions"] + extra}
    assert "after" in result  # something was placed: there is an "after" to compare
    outcome = proposals.accept(moves, actor=SYSTEM)
    assert outcome.skipped == {}
    assert check_rules(event, set(outcome.applied)) == []


def test_a_speaker_with_more_sessions_than_hours_is_named(after_the_call):
    event = after_the_call["event"]
    busy = Speaker.objects.create(event=event, first_name="Busy", last_name="Bee")
    SpeakerAvailability.objects.create(
        speaker=busy, starts_at=at(event, 0, 14), ends_at=at(event, 0, 15)
    )
    talk = after_the_call["types"][0]
    mine = [
        approved(event, f"Busy {n}", session_type_id=talk.pk, speaker_ids=[busy.pk])
        for n in range(3)
    ]
    proposal = proposals.propose(event, seconds=3)

    [theirs] = [s for s in proposal.shortfalls if s["constraint"] == "speaker_time"]
    # Named by the sessions, not by name: reviewers who review blind read suggestions too.
    assert theirs["message"] == (
        "The speaker of \u201cBusy 0\u201d, \u201cBusy 1\u201d and \u201cBusy 2\u201d has 90 "
        "minutes of sessions and is available for 60."
    )
    assert "Bee" not in str(proposal.shortfalls) + str(proposal.reasons)
    assert set(theirs["session_ids"]) == {s.pk for s in mine}
    left_out = [pk for pk in proposal.reasons if pk in theirs["session_ids"]]
    assert len(left_out) == 1 and proposal.reasons[left_out[0]] == theirs["message"]


def test_an_empty_event_answers_nothing_to_place_without_after(db):
    event = factories.event()
    factories.location(event=event)
    proposal = jobs.start(event=event, user=None, day=None, move_placed=False)
    jobs.run(proposal.pk)
    proposal.refresh_from_db()
    assert proposal.state == "done"
    assert proposal.result["status"] == "nothing_to_place"
    assert "after" not in proposal.result and proposal.result["shortfalls"] == []
