import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict

from sessions_app import services
from sessions_app.enums import ALLOWED_TRANSITIONS, CustomFieldType, SessionStatus
from sessions_app.exceptions import StaleVersionError
from sessions_app.models import Session, SessionChange, SessionSpeaker, Speaker
from sessions_app.services.signals import session_changed
from tests import factories as f

pytestmark = pytest.mark.django_db
T = dt.time.fromisoformat


@pytest.fixture
def event():
    return f.event(timezone="Europe/Berlin")


@pytest.fixture
def room(event):
    return f.location(event=event)


@pytest.fixture
def actor():
    return services.Actor(user=get_user_model().objects.create_user("alice"))


def state(session: Session) -> dict:
    """Everything stored about a session, to compare before and after a refused write."""
    session = Session.objects.get(pk=session.pk)
    return {
        **model_to_dict(session),
        "version": session.version,
        "starts_at": session.starts_at,
        "updated_at": session.updated_at,
    }


def error_codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


# --- overlaps ----------------------------------------------------------------------------

OVERLAP_SHAPES = [
    ("exact", "10:00", "11:00", True),
    ("shared_start", "10:00", "10:30", True),
    ("shared_end", "10:30", "11:00", True),
    ("contained", "10:15", "10:45", True),
    ("containing", "09:00", "12:00", True),
    ("partial_before", "09:30", "10:30", True),
    ("partial_after", "10:30", "11:30", True),
    ("adjacent_before", "09:00", "10:00", False),
    ("adjacent", "11:00", "12:00", False),
]


@pytest.mark.parametrize(
    ("start", "end", "clashes"),
    [shape[1:] for shape in OVERLAP_SHAPES],
    ids=[shape[0] for shape in OVERLAP_SHAPES],
)
def test_session_create_overlap_shapes(event, room, actor, start, end, clashes):
    held = f.scheduled(event=event, location=room, session_status="approved")
    data = {
        "name": "New",
        "location_id": room.pk,
        "session_status": "approved",
        "date": event.start_date,
        "start_time": T(start),
        "end_time": T(end),
    }
    if not clashes:
        created = services.session_create(event=event, data=data, actor=actor)
        assert created.pk is not None
        return
    with pytest.raises(ValidationError) as info:
        services.session_create(event=event, data=data, actor=actor)
    error = info.value.error_dict["location"][0]
    assert error.code == "conflict"
    assert error.params["conflicts"] == [
        {
            "id": held.pk,
            "name": held.name,
            "starts_at": "2030-06-10T10:00:00+02:00",
            "ends_at": "2030-06-10T11:00:00+02:00",
            "location_id": room.pk,
        }
    ]
    assert Session.objects.count() == 1
    assert not SessionChange.objects.exists()


def test_session_create_other_room_does_not_clash(event, room, actor):
    f.scheduled(event=event, location=room, session_status="approved")
    other = f.location(event=event)
    services.session_create(
        event=event,
        actor=actor,
        data={
            "name": "B",
            "location_id": other.pk,
            "session_status": "approved",
            "date": event.start_date,
            "start_time": T("10:00"),
            "end_time": T("11:00"),
        },
    )
    assert Session.objects.count() == 2


@pytest.mark.parametrize("holder_status", ["rejected", "submitted"])
def test_session_create_non_holding_session_does_not_clash(event, room, actor, holder_status):
    f.scheduled(event=event, location=room, session_status=holder_status)
    services.session_create(
        event=event,
        actor=actor,
        data={
            "name": "B",
            "location_id": room.pk,
            "session_status": "approved",
            "date": event.start_date,
            "start_time": T("10:00"),
            "end_time": T("11:00"),
        },
    )
    assert Session.objects.count() == 2


def test_session_create_submitted_may_overlap_a_held_slot(event, room, actor):
    f.scheduled(event=event, location=room, session_status="live")
    services.session_create(
        event=event,
        actor=actor,
        data={
            "name": "Proposal",
            "location_id": room.pk,
            "date": event.start_date,
            "start_time": T("10:00"),
            "end_time": T("11:00"),
        },
    )
    assert Session.objects.filter(session_status="submitted").count() == 1


def test_session_create_two_zones_compare_as_instants(event, room, actor):
    # 10:00 in Berlin (UTC+2 in June) is 09:00 in London (UTC+1): the same instant.
    berlin = f.scheduled(
        event=event, location=room, session_status="approved", start="10:00", end="11:00"
    )
    with pytest.raises(ValidationError) as info:
        services.session_create(
            event=event,
            actor=actor,
            data={
                "name": "London",
                "location_id": room.pk,
                "session_status": "approved",
                "use_event_timezone": False,
                "timezone": "Europe/London",
                "date": event.start_date,
                "start_time": T("09:00"),
                "end_time": T("10:00"),
            },
        )
    assert [c["id"] for c in info.value.error_dict["location"][0].params["conflicts"]] == [
        berlin.pk
    ]


def test_session_update_approving_into_a_held_slot_is_refused(event, room, actor):
    f.scheduled(event=event, location=room, session_status="approved")
    proposal = f.scheduled(event=event, location=room)
    before = state(proposal)
    with pytest.raises(ValidationError) as info:
        services.session_set_status(session_id=proposal.pk, status="approved", actor=actor)
    assert error_codes(info.value) == {"location": ["conflict"]}
    assert state(proposal) == before
    assert not SessionChange.objects.exists()


# --- create ------------------------------------------------------------------------------


def test_session_create_saves_and_records_history(event, room, actor):
    track = f.track(event=event)
    session = services.session_create(
        event=event,
        actor=actor,
        data={
            "name": "Intro",
            "location_id": room.pk,
            "track_id": track.pk,
            "date": event.start_date,
            "start_time": T("09:00"),
            "end_time": T("09:45"),
            "capacity": 40,
        },
    )
    stored = Session.objects.get(pk=session.pk)
    assert (stored.name, stored.version, stored.session_status) == ("Intro", 1, "submitted")
    assert stored.starts_at == dt.datetime(2030, 6, 10, 7, 0, tzinfo=dt.UTC)
    assert stored.ends_at == dt.datetime(2030, 6, 10, 7, 45, tzinfo=dt.UTC)
    assert len(stored.secure_id) >= 32
    entry = SessionChange.objects.get()
    assert (entry.session_id, entry.action, entry.actor_user, entry.version) == (
        session.pk,
        "session.create",
        actor.user,
        1,
    )
    assert entry.changes["name"] == {"old": None, "new": "Intro"}
    assert entry.changes["start_time"] == {"old": None, "new": "09:00:00"}


def test_session_create_refused_writes_nothing(event, actor):
    with pytest.raises(ValidationError) as info:
        services.session_create(
            event=event,
            actor=actor,
            data={"name": "", "date": event.start_date, "start_time": T("10:00")},
        )
    assert error_codes(info.value) == {
        "name": ["blank"],
        "end_time": ["incomplete_schedule"],
    }
    assert not Session.objects.exists()
    assert not SessionChange.objects.exists()


def test_session_create_validate_only_writes_nothing(event, actor):
    session = services.session_create(
        event=event,
        actor=actor,
        validate_only=True,
        data={
            "name": "Dry run",
            "date": event.start_date,
            "start_time": T("10:00"),
            "end_time": T("11:00"),
        },
    )
    assert session.pk is None
    assert session.starts_at == dt.datetime(2030, 6, 10, 8, 0, tzinfo=dt.UTC)
    assert not Session.objects.exists()
    assert not SessionChange.objects.exists()


# --- update ------------------------------------------------------------------------------


def test_session_update_changes_only_given_fields(event, room, actor):
    session = f.scheduled(event=event, location=room, capacity=10, description="old")
    before = state(session)
    updated = services.session_update(
        session_id=session.pk, data={"end_time": T("11:30")}, actor=actor, note="longer"
    )
    after = state(updated)
    assert {k for k in after if after[k] != before[k]} == {
        "end_time",
        "duration_minutes",  # follows the times sent without it
        "version",
        "updated_at",
    }
    assert (before["duration_minutes"], after["duration_minutes"]) == (60, 90)
    assert after["version"] == 2
    assert Session.objects.get(pk=session.pk).ends_at == dt.datetime(
        2030, 6, 10, 9, 30, tzinfo=dt.UTC
    )
    entry = SessionChange.objects.get()
    assert (entry.action, entry.note, entry.version) == ("session.update", "longer", 2)
    assert entry.changes == {
        "end_time": {"old": "11:00:00", "new": "11:30:00"},
        "duration_minutes": {"old": 60, "new": 90},
    }


def test_session_update_validates_the_merged_object(event, actor):
    session = f.scheduled(event=event, start="10:00", end="11:00")
    before = state(session)
    with pytest.raises(ValidationError) as info:
        services.session_update(session_id=session.pk, data={"end_time": T("09:00")}, actor=actor)
    assert error_codes(info.value) == {"end_time": ["invalid_time_range"]}
    assert state(session) == before
    assert not SessionChange.objects.exists()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"date": dt.date(2030, 6, 9)}, {"date": ["outside_event"]}),
        ({"capacity": 1_000_001}, {"capacity": ["out_of_range"]}),
        ({"capacity": -1}, {"capacity": ["out_of_range"]}),
        ({"webinar_url": "ftp://example.com"}, {"webinar_url": ["invalid_url"]}),
        ({"use_event_timezone": False}, {"timezone": ["required"]}),
        ({"name": "x" * 256}, {"name": ["max_length"]}),
        ({"description": "a\x00b"}, {"description": ["null_characters_not_allowed"]}),
        ({"selection_control": "sometimes"}, {"selection_control": ["invalid_choice"]}),
        ({"location_id": 999_999}, {"location": ["does_not_exist"]}),
    ],
    ids=[
        "date_outside",
        "capacity_max",
        "capacity_negative",
        "url",
        "timezone",
        "name_long",
        "nul",
        "choice",
        "missing_location",
    ],
)
def test_session_update_refusals_change_nothing(event, actor, data, expected):
    session = f.scheduled(event=event)
    before = state(session)
    with pytest.raises(ValidationError) as info:
        services.session_update(session_id=session.pk, data=data, actor=actor)
    assert error_codes(info.value) == expected
    assert state(session) == before
    assert not SessionChange.objects.exists()


def test_session_update_location_of_another_event_is_refused(event, actor):
    foreign = f.location(event=f.event(organisation=event.organisation))
    session = f.scheduled(event=event)
    with pytest.raises(ValidationError) as info:
        services.session_update(
            session_id=session.pk, data={"location_id": foreign.pk}, actor=actor
        )
    assert error_codes(info.value) == {"location": ["wrong_event"]}


def test_session_update_moving_to_another_event_is_refused(event, actor):
    other = f.event(organisation=event.organisation)
    session = f.session(event=event)
    with pytest.raises(ValidationError) as info:
        services.session_update(session_id=session.pk, data={"event_id": other.pk}, actor=actor)
    assert error_codes(info.value) == {"event": ["immutable"]}
    assert Session.objects.get(pk=session.pk).event_id == event.pk


def test_session_update_capacity_above_location_is_refused(event, actor):
    small = f.location(event=event, capacity=20)
    session = f.session(event=event, location=small)
    with pytest.raises(ValidationError) as info:
        services.session_update(session_id=session.pk, data={"capacity": 21}, actor=actor)
    assert error_codes(info.value) == {"capacity": ["above_location_capacity"]}
    services.session_update(session_id=session.pk, data={"capacity": 20}, actor=actor)


def test_session_update_capacity_below_seats_taken_is_refused(event, actor):
    session = f.session(event=event, capacity=50, seats_taken=30)
    with pytest.raises(ValidationError) as info:
        services.session_update(session_id=session.pk, data={"capacity": 29}, actor=actor)
    assert error_codes(info.value) == {"capacity": ["below_seats_taken"]}


def test_session_update_without_change_records_nothing(event, actor):
    session = f.session(event=event, name="Same")
    updated = services.session_update(session_id=session.pk, data={"name": "Same"}, actor=actor)
    assert updated.version == 1
    assert not SessionChange.objects.exists()


def test_session_update_stale_version_is_refused(event, actor):
    session = f.session(event=event)
    services.session_update(session_id=session.pk, data={"name": "First"}, actor=actor)
    with pytest.raises(StaleVersionError):
        services.session_update(
            session_id=session.pk, data={"name": "Second"}, actor=actor, expected_version=1
        )
    assert Session.objects.get(pk=session.pk).name == "First"
    assert SessionChange.objects.count() == 1


def test_session_update_validate_only_writes_nothing(event, actor):
    session = f.session(event=event, name="Before")
    result = services.session_update(
        session_id=session.pk, data={"name": "After"}, actor=actor, validate_only=True
    )
    assert (result.name, result.version) == ("After", 2)
    stored = Session.objects.get(pk=session.pk)
    assert (stored.name, stored.version) == ("Before", 1)
    assert not SessionChange.objects.exists()


def test_session_update_announces_on_commit(event, actor, django_capture_on_commit_callbacks):
    received = []

    def receiver(**kwargs):
        received.append((kwargs["session_id"], kwargs["action"]))

    session = f.session(event=event)
    session_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.session_update(session_id=session.pk, data={"name": "N"}, actor=actor)
    finally:
        session_changed.disconnect(receiver)
    assert received == [(session.pk, "session.update")]


# --- custom fields -----------------------------------------------------------------------


@pytest.fixture
def fields(event):
    return {
        "text": f.custom_field(event=event, field_type=CustomFieldType.TEXT),
        "level": f.custom_field(
            event=event,
            field_type=CustomFieldType.DROPDOWN,
            choices=["Beginner", "Expert"],
            required=True,
        ),
    }


def test_session_update_custom_fields_merge_by_key(event, actor, fields):
    level = fields["level"]
    beginner = level.choices.first()
    session = f.session(
        event=event, custom_fields={fields["text"].key: "kept", level.key: [{"id": beginner.pk}]}
    )
    expert = level.choices.last()
    services.session_update(
        session_id=session.pk,
        actor=actor,
        data={"custom_fields": {level.key: [{"id": expert.pk}]}},
    )
    assert Session.objects.get(pk=session.pk).custom_fields == {
        fields["text"].key: "kept",
        level.key: [{"id": expert.pk}],
    }
    assert SessionChange.objects.get().changes == {
        f"custom_fields.{level.key}": {"old": [{"id": beginner.pk}], "new": [{"id": expert.pk}]}
    }


def test_session_update_custom_field_null_clears(event, actor, fields):
    level = fields["level"]
    choice = level.choices.first().pk
    session = f.session(
        event=event, custom_fields={fields["text"].key: "gone", level.key: [{"id": choice}]}
    )
    services.session_update(
        session_id=session.pk, actor=actor, data={"custom_fields": {fields["text"].key: None}}
    )
    assert Session.objects.get(pk=session.pk).custom_fields == {level.key: [{"id": choice}]}


def test_session_update_clearing_required_custom_field_is_refused(event, actor, fields):
    level = fields["level"]
    session = f.session(event=event, custom_fields={level.key: [{"id": level.choices.first().pk}]})
    before = state(session)
    with pytest.raises(ValidationError) as info:
        services.session_update(
            session_id=session.pk, actor=actor, data={"custom_fields": {level.key: None}}
        )
    assert [(e.code, e.params["key"]) for e in info.value.error_dict["custom_fields"]] == [
        ("required", level.key)
    ]
    assert state(session) == before


def test_session_update_custom_field_from_another_event_is_unknown(event, actor, fields):
    foreign = f.custom_field(event=f.event())
    level = fields["level"]
    session = f.session(event=event, custom_fields={level.key: [{"id": level.choices.first().pk}]})
    with pytest.raises(ValidationError) as info:
        services.session_update(
            session_id=session.pk, actor=actor, data={"custom_fields": {foreign.key: "x"}}
        )
    assert [(e.code, e.params["key"]) for e in info.value.error_dict["custom_fields"]] == [
        ("unknown_field", foreign.key)
    ]


# --- status ------------------------------------------------------------------------------

MOVES = [(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets]


@pytest.mark.parametrize(("current", "target"), MOVES, ids=[f"{a}-{b}" for a, b in MOVES])
def test_session_set_status_allowed_moves(event, room, actor, current, target):
    session = f.scheduled(event=event, location=room, session_status=current)
    services.session_set_status(session_id=session.pk, status=target, actor=actor, note="ok")
    assert Session.objects.get(pk=session.pk).session_status == target
    entry = SessionChange.objects.get()
    assert (entry.action, entry.note, entry.changes) == (
        f"session.status.{target}",
        "ok",
        {"session_status": {"old": current, "new": target}},
    )


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("submitted", "live"),
        ("submitted", "converted"),
        ("rejected", "approved"),
        ("live", "submitted"),
        ("live", "rejected"),
        ("converted", "rejected"),
    ],
)
def test_session_set_status_refused_moves_name_the_allowed(event, actor, current, target):
    session = f.scheduled(event=event, session_status=current)
    with pytest.raises(ValidationError) as info:
        services.session_set_status(session_id=session.pk, status=target, actor=actor)
    error = info.value.error_dict["session_status"][0]
    assert (error.code, error.params["allowed"]) == (
        "invalid_transition",
        list(ALLOWED_TRANSITIONS[current]),
    )
    assert Session.objects.get(pk=session.pk).session_status == current
    assert not SessionChange.objects.exists()


def test_session_set_status_same_status_is_a_no_op(event, actor):
    session = f.session(event=event)
    services.session_set_status(session_id=session.pk, status="submitted", actor=actor)
    assert Session.objects.get(pk=session.pk).version == 1
    assert not SessionChange.objects.exists()


def test_session_set_status_live_needs_schedule(event, actor):
    session = f.session(event=event, session_status="approved")
    with pytest.raises(ValidationError) as info:
        services.session_set_status(session_id=session.pk, status="live", actor=actor)
    assert error_codes(info.value) == {"session_status": ["live_requires_schedule"]}


def test_session_set_status_unknown_status_is_refused(event, actor):
    session = f.session(event=event)
    with pytest.raises(ValidationError) as info:
        services.session_set_status(session_id=session.pk, status="archived", actor=actor)
    assert "invalid_choice" in error_codes(info.value)["session_status"]


# --- delete ------------------------------------------------------------------------------


def test_session_delete_keeps_history(event, actor):
    session = f.session(event=event, name="Gone")
    services.session_delete(session_id=session.pk, actor=actor)
    assert not Session.objects.filter(pk=session.pk).exists()
    entry = SessionChange.objects.get(session_id=session.pk)
    assert entry.action == "session.delete"
    assert entry.changes["name"] == {"old": "Gone", "new": None}


def test_session_delete_live_is_refused(event, actor):
    session = f.scheduled(event=event, session_status=SessionStatus.LIVE)
    with pytest.raises(ValidationError) as info:
        services.session_delete(session_id=session.pk, actor=actor)
    assert error_codes(info.value) == {"session_status": ["live_delete"]}
    assert Session.objects.filter(pk=session.pk).exists()
    assert not SessionChange.objects.exists()


# --- actor -------------------------------------------------------------------------------


def test_actor_client_is_recorded(event):
    client = f.api_client(organisation=event.organisation, name="Mobile app")
    session = f.session(event=event)
    services.session_update(
        session_id=session.pk, data={"name": "X"}, actor=services.Actor(client=client)
    )
    entry = SessionChange.objects.get()
    assert (entry.actor_client, entry.actor_user, entry.actor_label) == (
        client,
        None,
        "API client Mobile app",
    )


# --- event time zone ---------------------------------------------------------------------


def test_event_update_timezone_recomputes_instants(event, room, actor):
    follows = f.scheduled(event=event, location=room, session_status="approved")
    own = f.scheduled(
        event=event, use_event_timezone=False, timezone="Europe/Berlin", start="13:00", end="14:00"
    )
    services.event_update(event_id=event.pk, data={"timezone": "Europe/London"}, actor=actor)
    follows.refresh_from_db()
    own_before = own.starts_at
    own.refresh_from_db()
    assert follows.starts_at == dt.datetime(2030, 6, 10, 9, 0, tzinfo=dt.UTC)
    assert (follows.version, own.starts_at, own.version) == (2, own_before, 1)
    entry = SessionChange.objects.get()
    assert (entry.session_id, entry.action) == (follows.pk, "session.reschedule")
    assert entry.changes["starts_at"]["new"] == "2030-06-10T09:00:00+00:00"


def assert_not_rescheduled(event, session):
    """The refused change left the event in Berlin, ``session`` as it was, no history."""
    event.refresh_from_db()
    after = Session.objects.get(pk=session.pk)
    assert (event.timezone, after.starts_at, after.version) == (
        "Europe/Berlin",
        session.starts_at,
        1,
    )
    assert not SessionChange.objects.exists()


def test_event_update_timezone_refused_when_it_would_clash(event, room, actor):
    # 10:00 Berlin and a session fixed at 09:00-10:00 London: fine now (08:00 UTC vs 08:00?).
    follows = f.scheduled(
        event=event, location=room, session_status="approved", start="10:00", end="11:00"
    )  # 08:00-09:00 UTC
    fixed = f.scheduled(
        event=event,
        location=room,
        session_status="approved",
        use_event_timezone=False,
        timezone="UTC",
        start="09:00",
        end="10:00",
    )
    with pytest.raises(ValidationError) as info:
        # In London, 10:00 is 09:00 UTC: it would meet the fixed 09:00-10:00 UTC session.
        services.event_update(event_id=event.pk, data={"timezone": "Europe/London"}, actor=actor)
    error = info.value.error_dict["timezone"][0]
    assert error.code == "conflict"
    assert {c["id"] for c in error.params["conflicts"]} == {follows.pk, fixed.pk}
    assert_not_rescheduled(event, follows)


def speaking(event, speaker, **kwargs):
    """A held session with ``speaker``, arranged directly (no service, no history)."""
    session = f.scheduled(
        event=event, session_status="approved", speaker_ids=[speaker.pk], **kwargs
    )
    SessionSpeaker.objects.create(session=session, speaker=speaker)
    return session


def test_event_update_timezone_refused_when_a_speaker_would_be_in_two_places(event, actor):
    ada = Speaker.objects.create(event=event, first_name="Ada", last_name="Lovelace")
    grace = Speaker.objects.create(event=event, first_name="Grace", last_name="Hopper")
    # 10:00-11:00 Berlin (08:00 UTC) and 09:00-10:00 UTC, in different rooms: one after the
    # other now; in London the first starts at 09:00 UTC, while Ada is in the second.
    follows = speaking(event, ada, start="10:00", end="11:00", location=f.location(event=event))
    fixed = speaking(
        event, ada, use_event_timezone=False, timezone="UTC", start="09:00", end="10:00"
    )
    # Grace's sessions move together: no clash of hers.
    speaking(event, grace, start="10:00", end="11:00")
    speaking(event, grace, start="11:00", end="12:00")
    with pytest.raises(ValidationError) as info:
        services.event_update(event_id=event.pk, data={"timezone": "Europe/London"}, actor=actor)
    [error] = info.value.error_dict["timezone"]
    assert error.code == "conflict"
    assert "Ada Lovelace would speak in two of these sessions at once" in error.message
    assert "Grace" not in error.message
    assert sorted(c["id"] for c in error.params["conflicts"]) == sorted([fixed.pk, follows.pk])
    assert_not_rescheduled(event, follows)


def test_event_update_timezone_names_a_room_clash_and_a_speaker_clash_together(event, room, actor):
    # Names with "%" and braces are taken literally.
    ada = Speaker.objects.create(event=event, first_name="Ada {0}")
    speaking(event, ada, location=room, start="10:00", end="11:00", name="100% Django")
    speaking(
        event, ada, location=room, use_event_timezone=False, timezone="UTC",
        start="09:00", end="10:00", name="{names} at 50%",
    )  # fmt: skip
    with pytest.raises(ValidationError) as info:
        services.event_update(event_id=event.pk, data={"timezone": "Europe/London"}, actor=actor)
    messages = [message for error in info.value.error_dict["timezone"] for message in error]
    assert len(messages) == 2
    assert messages[0].startswith("In this time zone these sessions would overlap in their")
    assert '"100% Django"' in messages[0] and '"{names} at 50%"' in messages[0]
    assert messages[1].startswith(
        "In this time zone Ada {0} would speak in two of these sessions at once: "
    )
    assert '"100% Django"' in messages[1] and '"{names} at 50%"' in messages[1]


def test_event_update_timezone_moves_sessions_whose_speakers_stay_free(event, actor):
    ada = Speaker.objects.create(event=event, first_name="Ada")
    moving = speaking(event, ada, start="10:00", end="11:00")  # 08:00 UTC, then 09:00 UTC
    speaking(event, ada, use_event_timezone=False, timezone="UTC", start="10:00", end="11:00")
    # A submitted session takes nobody's time: it may overlap.
    f.scheduled(event=event, use_event_timezone=False, timezone="UTC", start="09:00",
                end="10:00", speaker_ids=[ada.pk])  # fmt: skip
    services.event_update(event_id=event.pk, data={"timezone": "Europe/London"}, actor=actor)
    moving.refresh_from_db()
    assert moving.starts_at == dt.datetime(2030, 6, 10, 9, 0, tzinfo=dt.UTC)


def test_event_update_dates_refused_while_sessions_outside(event, actor):
    f.scheduled(event=event, day=2)
    with pytest.raises(ValidationError) as info:
        services.event_update(
            event_id=event.pk,
            actor=actor,
            data={"end_date": event.start_date + dt.timedelta(days=1)},
        )
    assert error_codes(info.value) == {"start_date": ["sessions_outside_event"]}


def test_event_update_invalid_timezone_is_refused(event, actor):
    with pytest.raises(ValidationError) as info:
        services.event_update(event_id=event.pk, data={"timezone": "Nowhere/City"}, actor=actor)
    assert error_codes(info.value) == {"timezone": ["invalid_timezone"]}


def test_session_update_drops_values_of_deleted_custom_fields(event, actor, fields):
    gone = f.custom_field(event=event)
    level = fields["level"]
    choice = [{"id": level.choices.first().pk}]
    gone_key = gone.key
    session = f.session(event=event, custom_fields={gone_key: "orphan", level.key: choice})
    gone.delete()
    services.session_update(session_id=session.pk, data={"name": "Still editable"}, actor=actor)
    stored = Session.objects.get(pk=session.pk)
    assert (stored.name, stored.custom_fields) == ("Still editable", {level.key: choice})
    assert SessionChange.objects.get().changes == {
        "name": {"old": session.name, "new": "Still editable"},
        f"custom_fields.{gone_key}": {"old": "orphan", "new": None},
    }


def test_event_custom_field_schema_follows_field_and_choice_changes(event):
    level = f.custom_field(event=event, field_type=CustomFieldType.DROPDOWN, choices=["A"])
    event.refresh_from_db()
    assert event.custom_field_schema == event.build_custom_field_schema()
    assert event.custom_field_schema[level.key]["choice_ids"] == [level.choices.get().pk]

    extra = level.choices.create(label="B", sort_order=1)
    level.required = True
    level.save()
    event.refresh_from_db()
    assert event.custom_field_schema[level.key] == {
        "type": "dropdown",
        "required": True,
        "label": level.label,
        "choice_ids": [level.choices.get(label="A").pk, extra.pk],
    }

    level.delete()
    event.refresh_from_db()
    assert event.custom_field_schema == {}


def test_event_update_duplicate_slug_is_refused(event, actor):
    f.event(organisation=event.organisation, slug="taken")
    with pytest.raises(ValidationError) as info:
        services.event_update(event_id=event.pk, data={"slug": "taken"}, actor=actor)
    assert error_codes(info.value) == {"__all__": ["unique_together"]}
    event.refresh_from_db()
    assert event.slug != "taken"


def test_session_clean_after_save_judges_moves_from_the_saved_status(event, room):
    session = f.scheduled(event=event, location=room)
    session = Session.objects.get(pk=session.pk)
    session.session_status = "approved"
    session.full_clean()
    session.save()
    session.session_status = "live"  # approved -> live is allowed; submitted -> live is not
    session.full_clean()


@pytest.mark.parametrize("target", ["other", "missing"])
def test_session_update_event_change_is_refused_alone(event, actor, target):
    other = f.event(start_date=dt.date(2031, 1, 1), end_date=dt.date(2031, 1, 2))
    session = f.scheduled(event=event, location=f.location(event=event))
    event_id = other.pk if target == "other" else 999_999
    with pytest.raises(ValidationError) as info:
        services.session_update(session_id=session.pk, data={"event_id": event_id}, actor=actor)
    assert error_codes(info.value) == {"event": ["immutable"]}
    assert Session.objects.get(pk=session.pk).event_id == event.pk


def test_session_set_status_note_with_nul_is_refused(event, actor):
    session = f.session(event=event)
    with pytest.raises(ValidationError) as info:
        services.session_set_status(
            session_id=session.pk, status="approved", actor=actor, note="a\x00b"
        )
    assert error_codes(info.value) == {"note": ["null_characters"]}
    assert Session.objects.get(pk=session.pk).session_status == "submitted"
    assert not SessionChange.objects.exists()
