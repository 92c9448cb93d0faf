"""The schedule rules learn speakers' availability and blocked slots: a held session is
refused in a blocked slot and outside its speakers' availability, whichever door the write
comes through, with its own code."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from sessions_app import services
from sessions_app.models import BlockedSlot, Session, Speaker, SpeakerAvailability
from tests import factories
from tests.api.conftest import make_caller  # noqa: F401  (the fixture)

SYSTEM = services.SYSTEM


def at(event, hour: int, minute: int = 0, day: int = 0) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(event.timezone)
    return dt.datetime.combine(
        event.start_date + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=zone
    )


@pytest.fixture
def world(db):
    event = factories.event(timezone="Europe/Berlin")
    hall = factories.location(event=event, name="Hall")
    lab = factories.location(event=event, name="Lab")
    ada = Speaker.objects.create(event=event, first_name="Ada", last_name="L")
    talk = factories.create_via_service(
        event=event,
        name="Talk",
        date=event.start_date.isoformat(),
        start_time="09:00",
        end_time="10:00",
        location_id=hall.pk,
        speaker_ids=[ada.pk],
    )
    services.session_set_status(session_id=talk.pk, status="approved", actor=SYSTEM)
    return {"event": event, "hall": hall, "lab": lab, "ada": ada, "talk": talk}


def move(session, start: str, end: str, **data):
    return services.session_update(
        session_id=session.pk, data={"start_time": start, "end_time": end, **data}, actor=SYSTEM
    )


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


def test_a_held_session_is_kept_out_of_a_slot_blocked_for_every_room(world):
    event = world["event"]
    BlockedSlot.objects.create(
        event=event, label="Lunch", starts_at=at(event, 12, 30), ends_at=at(event, 13, 30)
    )
    with pytest.raises(ValidationError) as refused:
        move(world["talk"], "12:00", "13:00")
    assert codes(refused.value) == {"start_time": ["blocked_slot"]}
    assert "Lunch" in str(refused.value)
    assert Session.objects.get(pk=world["talk"].pk).start_time == dt.time(9, 0)
    move(world["talk"], "11:30", "12:30")  # ends as lunch begins: half-open intervals


def test_a_room_block_holds_that_room_only(world):
    event = world["event"]
    BlockedSlot.objects.create(
        event=event,
        location=world["lab"],
        label="Reserved for the sponsor",
        starts_at=at(event, 9),
        ends_at=at(event, 11),
    )
    with pytest.raises(ValidationError) as refused:
        services.session_update(
            session_id=world["talk"].pk, data={"location_id": world["lab"].pk}, actor=SYSTEM
        )
    assert codes(refused.value) == {"start_time": ["blocked_slot"]}
    move(world["talk"], "09:30", "10:30")  # in the hall it is free


def test_a_submitted_proposal_may_sit_in_a_block_until_it_holds_the_slot(world):
    event = world["event"]
    BlockedSlot.objects.create(
        event=event, label="Lunch", starts_at=at(event, 12), ends_at=at(event, 13)
    )
    proposal = factories.create_via_service(
        event=event,
        name="Proposal",
        date=event.start_date.isoformat(),
        start_time="12:00",
        end_time="12:30",
        location_id=world["hall"].pk,
    )
    with pytest.raises(ValidationError) as refused:
        services.session_set_status(session_id=proposal.pk, status="approved", actor=SYSTEM)
    assert codes(refused.value) == {"start_time": ["blocked_slot"]}


def test_speakers_are_booked_only_inside_their_availability(world):
    event, ada = world["event"], world["ada"]
    SpeakerAvailability.objects.create(speaker=ada, starts_at=at(event, 13), ends_at=at(event, 18))
    # Held already at 09:00 (before her availability was entered): kept until it moves.
    services.session_update(session_id=world["talk"].pk, data={"name": "Renamed"}, actor=SYSTEM)
    with pytest.raises(ValidationError) as refused:
        move(world["talk"], "10:00", "11:00")
    assert codes(refused.value) == {"speaker_ids": ["speaker_unavailable"]}
    assert "Ada L" in str(refused.value)
    move(world["talk"], "13:00", "14:00")
    with pytest.raises(ValidationError):
        move(world["talk"], "17:30", "18:30")  # runs past the end of her time


def test_a_speaker_added_to_a_held_session_must_be_available(world):
    event = world["event"]
    bob = Speaker.objects.create(event=event, first_name="Bob", last_name="B")
    SpeakerAvailability.objects.create(
        speaker=bob, starts_at=at(event, 9, day=1), ends_at=at(event, 17, day=1)
    )
    with pytest.raises(ValidationError) as refused:
        services.session_update(
            session_id=world["talk"].pk,
            data={"speaker_ids": [world["ada"].pk, bob.pk]},
            actor=SYSTEM,
        )
    assert codes(refused.value) == {"speaker_ids": ["speaker_unavailable"]}


def test_the_api_answers_409_with_the_rules_code(world, make_caller):  # noqa: F811
    event = world["event"]
    BlockedSlot.objects.create(
        event=event, label="Coffee", starts_at=at(event, 10, 30), ends_at=at(event, 11)
    )
    api = make_caller(event.organisation)
    answer = api.patch(
        f"/api/v1/sessions/{world['talk'].pk}", {"start_time": "10:15", "end_time": "11:15"}
    )
    assert answer.status_code == 409, answer.content
    [error] = answer.json()["errors"]
    assert (error["field"], error["code"]) == ("start_time", "blocked_slot")
