"""PATCH / PUT / PUT /sessions/update/{id}: the partial update, exactly per the contract."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_app.enums import ALLOWED_TRANSITIONS, CustomFieldType, SessionStatus
from sessions_app.models import Session, SessionChange
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/sessions/{}"


@pytest.fixture
def world(event):
    """An event with two rooms, two tracks, custom fields, and one scheduled session."""
    room = factories.location(event=event, capacity=100)
    other_room = factories.location(event=event)
    track = factories.track(event=event)
    other_track = factories.track(event=event)
    level = factories.custom_field(
        event=event,
        field_type=CustomFieldType.DROPDOWN,
        required=True,
        choices=["Beginner", "Advanced"],
    )
    speaker = factories.custom_field(event=event, field_type=CustomFieldType.TEXT)
    topics = factories.custom_field(
        event=event, field_type=CustomFieldType.MULTISELECT, choices=["Web", "Data", "Ops"]
    )
    recorded = factories.custom_field(event=event, field_type=CustomFieldType.CHECKBOX)
    level_choices = list(level.choices.order_by("pk").values_list("pk", flat=True))
    session = factories.scheduled(
        event=event,
        name="Original",
        location=room,
        track=track,
        capacity=50,
        timezone="Europe/London",
        custom_fields={level.key: [{"id": level_choices[0]}], speaker.key: "Ada"},
    )
    return {
        "event": event,
        "room": room,
        "other_room": other_room,
        "track": track,
        "other_track": other_track,
        "level": level,
        "level_choices": level_choices,
        "speaker": speaker,
        "topics": topics,
        "topic_choices": list(topics.choices.order_by("pk").values_list("pk", flat=True)),
        "recorded": recorded,
        "session": session,
    }


def assert_nothing_changed(api, session, before):
    assert api.get(URL.format(session.pk)).json() == before
    assert not SessionChange.objects.filter(session_id=session.pk).exists()


def _valid_cases():
    # (field, value sent, value answered, other answered fields that follow, db attribute, db value)
    schedule = ("starts_at", "ends_at")
    times = "times_with_timezone"
    return [
        ("name", "Renamed", "Renamed", (), "name", "Renamed"),
        ("admin_short_name", "Short", "Short", (), "admin_short_name", "Short"),
        ("badge_name", "Badge", "Badge", (), "badge_name", "Badge"),
        ("description", "A long text.", "A long text.", (), "description", "A long text."),
        ("date", "2030-06-11", "2030-06-11", schedule, "date", dt.date(2030, 6, 11)),
        # The length follows the times sent without it, as the instants do.
        (
            "start_time",
            "09:30",
            "09:30:00",
            ("starts_at", times, "duration_minutes"),
            "start_time",
            dt.time(9, 30),
        ),
        (
            "end_time",
            "11:30:00",
            "11:30:00",
            ("ends_at", times, "duration_minutes"),
            "end_time",
            dt.time(11, 30),
        ),
        ("use_event_timezone", 0, 0, (*schedule, times), "use_event_timezone", False),
        ("timezone", "Europe/Paris", "Europe/Paris", (), "timezone", "Europe/Paris"),
        ("capacity", 60, 60, (), "capacity", 60),
        ("capacity", None, None, (), "capacity", None),
        ("webinar_url", "https://example.com/w", "https://example.com/w", (), "webinar_url", None),
        ("sold_out_message", "Full.", "Full.", (), "sold_out_message", "Full."),
        ("session_status", "approved", "approved", (), "session_status", "approved"),
        ("locked_when_saved", 1, 1, (), "locked_when_saved", True),
        ("selection_control", "included", "included", (), "selection_control", "included"),
        ("selected_by_default", 1, 1, (), "selected_by_default", True),
        ("prevent_session_conflicts", 1, 1, (), "prevent_session_conflicts", True),
    ]


@pytest.mark.parametrize(
    ("field", "sent", "answered", "follows", "attribute", "stored"),
    _valid_cases(),
    ids=[f"{case[0]}={case[1]!r}" for case in _valid_cases()],
)
def test_patch_valid_field_changes_exactly_it(
    api, world, field, sent, answered, follows, attribute, stored
):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {field: sent})

    assert response.status_code == 200, response.json()
    after = response.json()
    assert after == {
        **before,
        field: answered,
        "version": 2,
        "updated_at": after["updated_at"],
        **{name: after[name] for name in follows},
    }
    assert after["updated_at"] > before["updated_at"]
    assert all(after[name] != before[name] for name in follows)
    assert response["ETag"] == f'"{session.pk}-2.0.0"'
    assert api.get(URL.format(session.pk)).json() == after
    session.refresh_from_db()
    assert getattr(session, attribute) == (sent if stored is None else stored)
    change = SessionChange.objects.get(session_id=session.pk)
    assert (change.version, change.actor_client, change.actor_user) == (2, api.api_client, None)
    assert set(change.changes) == {field, *({"duration_minutes"} & set(follows))}
    expected_action = "session.status.approved" if field == "session_status" else "session.update"
    assert change.action == expected_action


@pytest.mark.parametrize(
    ("field", "key"),
    [("location_id", "other_room"), ("track_id", "other_track"), ("location_id", None)],
    ids=["location_id", "track_id", "location_id=null"],
)
def test_patch_valid_reference_changes_exactly_it(api, world, field, key):
    session = world["session"]
    value = world[key].pk if key else None
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {field: value})

    assert response.status_code == 200
    after = response.json()
    assert after == {**before, field: value, "version": 2, "updated_at": after["updated_at"]}
    session.refresh_from_db()
    assert getattr(session, field) == value
    change = SessionChange.objects.get(session_id=session.pk)
    assert change.changes == {field: {"old": before[field], "new": value}}


def test_patch_custom_field_merges_by_key(api, world):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()
    topics, choices = world["topics"], world["topic_choices"]
    value = [{"id": choices[0]}, {"id": choices[2]}]

    response = api.patch(URL.format(session.pk), {"custom_fields": {topics.key: value}})

    assert response.status_code == 200
    merged = {**before["custom_fields"], topics.key: value}
    assert response.json()["custom_fields"] == merged
    session.refresh_from_db()
    assert session.custom_fields == merged
    change = SessionChange.objects.get(session_id=session.pk)
    assert change.changes == {f"custom_fields.{topics.key}": {"old": None, "new": value}}


def test_patch_custom_field_null_clears_only_that_key(api, world):
    session = world["session"]
    speaker, level = world["speaker"], world["level"]

    response = api.patch(URL.format(session.pk), {"custom_fields": {speaker.key: None}})

    assert response.status_code == 200
    assert response.json()["custom_fields"] == {level.key: [{"id": world["level_choices"][0]}]}
    change = SessionChange.objects.get(session_id=session.pk)
    assert change.changes == {f"custom_fields.{speaker.key}": {"old": "Ada", "new": None}}


@pytest.mark.parametrize(
    ("make_value", "code"),
    [
        (lambda w: {"c_999999": "x"}, "unknown_field"),
        (lambda w: {w["speaker"].key: 12}, "invalid_type"),
        (lambda w: {w["recorded"].key: 2}, "invalid_type"),
        (lambda w: {w["level"].key: [{"id": w["topic_choices"][0]}]}, "invalid_choice"),
        (lambda w: {w["level"].key: None}, "required"),
        (lambda w: {w["level"].key: [{"id": c} for c in w["level_choices"]]}, "invalid_type"),
    ],
    ids=["unknown_key", "wrong_type", "checkbox_not_01", "bad_choice", "clear_required", "two"],
)
def test_patch_custom_field_invalid_is_422_naming_the_key(api, world, make_value, code):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()
    value = make_value(world)
    (key,) = value

    response = api.patch(URL.format(session.pk), {"custom_fields": value})

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        (f"custom_fields.{key}", code)
    ]
    assert_nothing_changed(api, session, before)


def _invalid_cases():
    return [
        ("name", "", "blank"),
        ("name", "x" * 256, "max_length"),
        ("name", 5, "invalid_type"),
        ("name", None, "invalid_type"),
        ("name", "NUL\x00byte", "null_characters_not_allowed"),
        ("admin_short_name", "x" * 101, "max_length"),
        ("badge_name", "x" * 101, "max_length"),
        ("description", "x" * 20_001, "max_length"),
        ("date", "2025-02-30", "invalid_date"),
        ("date", "30/06/2030", "invalid_date"),
        ("date", "2030-07-01", "outside_event"),
        ("date", None, "incomplete_schedule"),
        ("start_time", "25:00", "invalid_time"),
        ("start_time", 10, "invalid_type"),
        ("end_time", "10:00:60", "invalid_time"),
        ("end_time", "09:00", "invalid_time_range"),
        ("use_event_timezone", "yes", "invalid_boolean"),
        ("use_event_timezone", 2, "invalid_boolean"),
        ("timezone", "Mars/Olympus", "invalid_timezone"),
        ("timezone", 7, "invalid_type"),
        ("capacity", -1, "out_of_range"),
        ("capacity", 1_000_001, "out_of_range"),
        ("capacity", 10**30, "out_of_range"),
        ("capacity", 101, "above_location_capacity"),
        ("capacity", "ten", "invalid_type"),
        ("capacity", 5.5, "invalid_type"),
        ("location_id", 999_999, "does_not_exist"),
        ("location_id", 2**70, "does_not_exist"),
        ("location_id", "foreign", "does_not_exist"),
        ("track_id", "abc", "invalid_type"),
        ("track_id", "foreign", "does_not_exist"),
        ("webinar_url", "ftp://example.com/x", "invalid_url"),
        ("sold_out_message", "x" * 501, "max_length"),
        ("session_status", "bogus", "invalid_choice"),
        ("locked_when_saved", "maybe", "invalid_boolean"),
        ("selection_control", "sometimes", "invalid_choice"),
        ("selected_by_default", 1.5, "invalid_boolean"),
        ("prevent_session_conflicts", [], "invalid_boolean"),
        ("custom_fields", "text", "invalid_type"),
        ("custom_fields", [], "invalid_type"),
    ]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    _invalid_cases(),
    ids=[f"{c[0]}={c[1]!r:.20}" for c in _invalid_cases()],
)
def test_patch_invalid_value_is_422_naming_the_field(api, world, field, value, code):
    session = world["session"]
    if value == "foreign":
        other_event = factories.event(organisation=world["event"].organisation)
        maker = factories.location if field == "location_id" else factories.track
        value = maker(event=other_event).pk
    if field == "timezone":
        session.use_event_timezone = False
        session.save()
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {field: value})

    assert response.status_code == 422, response.json()
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert {e["field"] for e in body["errors"]} == {field}
    assert code in {e["code"] for e in body["errors"]}
    assert all(e["message"] for e in body["errors"])
    assert body["type"] == "https://sessions.example/problems/validation"
    assert_nothing_changed(api, session, before)


def test_patch_unknown_status_is_only_an_invalid_choice(api, world):
    """Not also "a submitted session cannot move to bogus": there is no such status."""
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {"session_status": "bogus"})

    assert response.status_code == 422
    body = response.json()
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("session_status", "invalid_choice")
    ]
    assert "allowed" not in body
    assert_nothing_changed(api, session, before)


def test_patch_only_end_time_before_stored_start_is_422(api, world):
    session = world["session"]  # 10:00-11:00
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {"end_time": "09:59"})

    assert response.status_code == 422
    assert response.json() == {
        "type": "https://sessions.example/problems/validation",
        "title": "Validation failed",
        "status": 422,
        "detail": "1 field is invalid.",
        "errors": [
            {
                "field": "end_time",
                "code": "invalid_time_range",
                "message": "End time must be after start time.",
            }
        ],
    }
    assert_nothing_changed(api, session, before)


def test_patch_one_bad_field_saves_none_of_the_others(api, world):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(
        URL.format(session.pk), {"name": "Fine", "badge_name": "Fine", "capacity": 101}
    )

    assert response.status_code == 422
    assert_nothing_changed(api, session, before)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("10:00", "11:00"),
        ("10:00", "10:30"),
        ("10:30", "11:00"),
        ("10:15", "10:45"),
        ("09:30", "10:30"),
        ("10:30", "11:30"),
    ],
    ids=["exact", "shared_start", "shared_end", "contained", "partial_before", "partial_after"],
)
def test_patch_into_a_held_slot_is_409_with_conflicts(api, world, start, end):
    room = world["room"]
    holder = factories.scheduled(
        event=world["event"], name="Holder", location=room, session_status="approved"
    )
    mover = factories.scheduled(
        event=world["event"],
        start="14:00",
        end="15:00",
        location=room,
        session_status="approved",
        custom_fields={world["level"].key: [{"id": world["level_choices"][0]}]},
    )
    world["session"].delete()
    before = api.get(URL.format(mover.pk)).json()

    response = api.patch(URL.format(mover.pk), {"start_time": start, "end_time": end})

    assert response.status_code == 409
    body = response.json()
    (conflict,) = body["conflicts"]
    assert conflict == {**conflict, "id": holder.pk, "name": "Holder", "location_id": room.pk}
    assert dt.datetime.fromisoformat(conflict["starts_at"]) == holder.starts_at
    assert dt.datetime.fromisoformat(conflict["ends_at"]) == holder.ends_at
    assert set(conflict) == {"id", "name", "starts_at", "ends_at", "location_id"}
    assert body["type"] == "https://sessions.example/problems/conflict"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("location_id", "conflict")]
    assert_nothing_changed(api, mover, before)


def test_patch_clash_message_quotes_names_with_percent_signs(api, world):
    room = world["room"]
    factories.scheduled(
        event=world["event"], name="100% fun", location=room, session_status="approved"
    )
    session = world["session"]
    Session.objects.filter(pk=session.pk).update(start_time=dt.time(14), end_time=dt.time(15))

    response = api.patch(
        URL.format(session.pk),
        {"session_status": "approved", "start_time": "10:00", "end_time": "11:00"},
    )

    assert response.status_code == 409
    (error,) = response.json()["errors"]
    assert '"100% fun"' in error["message"]
    assert "%%" not in error["message"]


def test_patch_adjacent_slot_is_no_clash(api, world):
    room = world["room"]
    factories.scheduled(event=world["event"], location=room, session_status="approved")
    mover = factories.scheduled(
        event=world["event"],
        start="14:00",
        end="15:00",
        location=room,
        session_status="approved",
        custom_fields={world["level"].key: [{"id": world["level_choices"][0]}]},
    )
    world["session"].delete()

    response = api.patch(URL.format(mover.pk), {"start_time": "11:00", "end_time": "12:00"})

    assert response.status_code == 200


ALLOWED_MOVES = [(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets]
REFUSED_MOVES = [
    (SessionStatus.SUBMITTED, SessionStatus.LIVE),
    (SessionStatus.SUBMITTED, SessionStatus.CONVERTED),
    (SessionStatus.REJECTED, SessionStatus.APPROVED),
    (SessionStatus.LIVE, SessionStatus.SUBMITTED),
    (SessionStatus.CONVERTED, SessionStatus.REJECTED),
]


@pytest.mark.parametrize(
    ("current", "target"), ALLOWED_MOVES, ids=[f"{a}-{b}" for a, b in ALLOWED_MOVES]
)
def test_patch_status_allowed_move_is_200_and_recorded(api, world, current, target):
    session = world["session"]
    Session.objects.filter(pk=session.pk).update(session_status=current)

    response = api.patch(URL.format(session.pk), {"session_status": target})

    assert response.status_code == 200, response.json()
    assert response.json()["session_status"] == target
    change = SessionChange.objects.get(session_id=session.pk)
    assert change.action == f"session.status.{target}"
    assert change.changes == {"session_status": {"old": current, "new": target}}


@pytest.mark.parametrize(
    ("current", "target"), REFUSED_MOVES, ids=[f"{a}-{b}" for a, b in REFUSED_MOVES]
)
def test_patch_status_refused_move_is_409_with_allowed(api, world, current, target):
    session = world["session"]
    Session.objects.filter(pk=session.pk).update(session_status=current)
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {"session_status": target})

    assert response.status_code == 409
    body = response.json()
    assert body["allowed"] == [str(s) for s in ALLOWED_TRANSITIONS[current]]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("session_status", "invalid_transition")
    ]
    assert_nothing_changed(api, session, before)


def test_patch_status_same_again_is_a_no_op(api, world):
    session = world["session"]

    response = api.patch(URL.format(session.pk), {"session_status": "submitted"})

    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert not SessionChange.objects.exists()


def test_patch_if_match_current_etag_writes(api, world):
    session = world["session"]
    etag = api.get(URL.format(session.pk))["ETag"]

    response = api.patch(URL.format(session.pk), {"name": "Guarded"}, HTTP_IF_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["name"] == "Guarded"
    assert response["ETag"] != etag


@pytest.mark.parametrize(
    "if_match",
    ['"{pk}-0"', '"{pk}-2"', '"999999-1"', "garbage"],
    ids=["old_version", "future_version", "other_session", "not_an_etag"],
)
def test_patch_if_match_mismatch_is_412_and_writes_nothing(api, world, if_match):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(
        URL.format(session.pk),
        {"name": "Lost update"},
        HTTP_IF_MATCH=if_match.format(pk=session.pk),
    )

    assert response.status_code == 412
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["current_version"] == 1
    assert_nothing_changed(api, session, before)


def test_patch_validate_only_answers_result_and_writes_nothing(api, world):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk) + "?validate_only=1", {"name": "Maybe"})

    assert response.status_code == 200
    preview = response.json()
    assert preview == {
        **before,
        "name": "Maybe",
        "version": 2,
        "updated_at": preview["updated_at"],
    }
    assert "ETag" not in response
    assert_nothing_changed(api, session, before)


def test_patch_validate_only_still_refuses_bad_values(api, world):
    session = world["session"]

    response = api.patch(URL.format(session.pk) + "?validate_only=1", {"end_time": "09:00"})

    assert response.status_code == 422


def test_patch_form_encoded_flat_fields(api, world):
    session = world["session"]

    response = api.patch(
        URL.format(session.pk),
        {"name": "Form", "capacity": "70", "locked_when_saved": "true", "track_id": ""},
        form=True,
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["capacity"], body["locked_when_saved"], body["track_id"]) == (
        "Form",
        70,
        1,
        None,
    )
    session.refresh_from_db()
    assert (session.name, session.capacity, session.locked_when_saved) == ("Form", 70, True)


def test_patch_form_encoded_custom_fields_is_422(api, world):
    session = world["session"]

    response = api.patch(URL.format(session.pk), {"custom_fields": "{}"}, form=True)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "custom_fields"


@pytest.mark.parametrize(
    ("method", "path"),
    [("put", URL), ("put", "/api/v1/sessions/update/{}"), ("patch", URL + "/")],
    ids=["put", "put_update_alias", "patch_trailing_slash"],
)
def test_put_and_alias_are_the_same_partial_update(api, world, method, path):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = getattr(api, method)(path.format(session.pk), {"badge_name": "Same"})

    assert response.status_code == 200
    assert response.json() == {
        **before,
        "badge_name": "Same",
        "version": 2,
        "updated_at": response.json()["updated_at"],
    }


def test_patch_unknown_field_is_422_and_nothing_is_ignored(api, world):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {"name": "Fine", "colour": "red"})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "colour",
            "code": "unknown_field",
            "message": "'colour' is not a field of a session.",
        }
    ]
    assert_nothing_changed(api, session, before)


def test_patch_read_only_fields_with_current_values_are_ignored(api, world):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {**before, "name": "Round trip"})

    assert response.status_code == 200, response.json()
    assert response.json() == {
        **before,
        "name": "Round trip",
        "version": 2,
        "updated_at": response.json()["updated_at"],
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", 12345),
        ("secure_id", "abc123xyz"),
        ("version", 7),
        ("starts_at", "2030-06-10T09:00:00+02:00"),
        ("ends_at", None),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("updated_at", "not a date"),
    ],
    ids=lambda v: str(v)[:12],
)
def test_patch_read_only_field_with_other_value_is_422(api, world, field, value):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {field: value})

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, "read_only")]
    assert_nothing_changed(api, session, before)


@pytest.mark.parametrize("whose", ["same_organisation", "other_organisation", "missing"])
def test_patch_event_id_of_another_event_is_422_immutable(api, world, whose):
    session = world["session"]
    if whose == "missing":
        other_id = 10**9
    else:
        organisation = (
            world["event"].organisation
            if whose == "same_organisation"
            else factories.organisation()
        )
        other_id = factories.event(organisation=organisation).pk
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {"event_id": other_id})

    assert response.status_code == 422
    # Only this error: nothing about the other event (its dates, its rooms) shows.
    assert response.json()["errors"] == [
        {
            "field": "event_id",
            "code": "immutable",
            "message": "A session cannot be moved to another event.",
        }
    ]
    assert_nothing_changed(api, session, before)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (1, True),
        (0, False),
        (True, True),
        (False, False),
        ("1", True),
        ("0", False),
        ("true", True),
        ("false", False),
    ],
    ids=["1", "0", "true", "false", "str1", "str0", "strtrue", "strfalse"],
)
def test_patch_flag_accepts_every_documented_form_and_answers_0_or_1(api, world, sent, stored):
    session = world["session"]
    Session.objects.filter(pk=session.pk).update(selected_by_default=not stored)

    response = api.patch(URL.format(session.pk), {"selected_by_default": sent})

    assert response.status_code == 200
    assert response.json()["selected_by_default"] == int(stored)
    session.refresh_from_db()
    assert session.selected_by_default is stored


def test_patch_answers_instants_with_the_effective_zone_offset(api, world):
    session = world["session"]  # Europe/Berlin event, 10:00 on 2030-06-10

    response = api.patch(URL.format(session.pk), {"use_event_timezone": 0})

    assert response.status_code == 200
    body = response.json()
    assert (body["starts_at"], body["ends_at"]) == (
        "2030-06-10T10:00:00+01:00",
        "2030-06-10T11:00:00+01:00",
    )


@pytest.mark.parametrize(
    "mode",
    [
        "in_test_transaction",
        # As a real request runs: BEGIN/COMMIT instead of SAVEPOINT/RELEASE.
        pytest.param("autocommit", marks=pytest.mark.django_db(transaction=True)),
    ],
)
def test_patch_query_budget_does_not_grow_with_data(
    api, world, mode, django_assert_max_num_queries
):
    event, session = world["event"], world["session"]
    for n in range(30):  # distinct slots: the room may be held only once at a time
        day, hour = divmod(n, 10)
        factories.scheduled(
            event=event,
            day=day,
            start=f"{8 + hour:02}:00",
            end=f"{8 + hour:02}:30",
            location=world["other_room"],
            session_status="approved",
        )
    for _ in range(10):
        factories.custom_field(event=event, field_type=CustomFieldType.DROPDOWN, choices="abc")
    for n in range(20):
        assert api.patch(URL.format(session.pk), {"description": f"v{n}"}).status_code == 200
    Session.objects.filter(pk=session.pk).update(session_status="approved")
    body = {
        "name": "Budget",
        "capacity": 70,
        "start_time": "10:30",
        "locked_when_saved": 1,
        "track_id": world["other_track"].pk,
        "custom_fields": {world["topics"].key: [{"id": world["topic_choices"][1]}]},
    }

    # 11: the move also reads the blocked slots and the speakers' availability it meets.
    with django_assert_max_num_queries(11):
        response = api.patch(URL.format(session.pk), body)

    assert response.status_code == 200


def test_patch_query_count_is_the_same_for_small_and_large_events(api, world):
    session = world["session"]

    def count(body):
        with CaptureQueriesContext(connection) as queries:
            assert api.patch(URL.format(session.pk), body).status_code == 200
        return len(queries)

    small = count({"name": "One"})
    for _ in range(40):
        factories.scheduled(event=world["event"], location=world["other_room"])
    assert count({"name": "Two"}) == small


def test_patch_form_encoded_read_only_fields_with_current_values_are_ignored(api, world):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()
    sent = {
        "name": "Form trip",
        **{name: str(before[name]) for name in ("id", "version", "event_id")},
        **{name: before[name] for name in ("secure_id", "created_at", "starts_at")},
    }

    response = api.patch(URL.format(session.pk), sent, form=True)

    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Form trip"


def test_patch_form_encoded_empty_read_only_instant_matches_null(api, event):
    unscheduled = factories.session(event=event, name="No slot")

    response = api.patch(
        URL.format(unscheduled.pk), {"name": "Still none", "starts_at": ""}, form=True
    )

    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("sent", ["2", "x", " 1"], ids=["other_version", "not_a_number", "padded"])
def test_patch_form_encoded_read_only_with_another_value_is_422(api, world, sent):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {"version": sent}, form=True)

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("version", "read_only")
    ]
    assert_nothing_changed(api, session, before)


@pytest.mark.parametrize(
    "sent",
    ["TRUE", "True", "FALSE", " 1", "0 ", "yes", "on", 1.5, 2, -1, None, [], {}],
    ids=repr,
)
def test_patch_flag_outside_the_documented_forms_is_422(api, world, sent):
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(URL.format(session.pk), {"locked_when_saved": sent})

    assert response.status_code == 422, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("locked_when_saved", "invalid_boolean")
    ]
    assert_nothing_changed(api, session, before)


@pytest.mark.parametrize(
    "if_match", ['W/"{pk}-1"', '"x", W/"{pk}-1"'], ids=["weak", "weak_in_list"]
)
def test_patch_if_match_with_a_weak_etag_never_matches(api, world, if_match):
    # RFC 9110 13.1.1: If-Match uses the strong comparison, and a weak tag is never strong.
    session = world["session"]
    before = api.get(URL.format(session.pk)).json()

    response = api.patch(
        URL.format(session.pk), {"name": "Lost"}, HTTP_IF_MATCH=if_match.format(pk=session.pk)
    )

    assert response.status_code == 412
    assert_nothing_changed(api, session, before)


def test_patch_if_match_list_holding_the_current_etag_writes(api, world):
    session = world["session"]

    response = api.patch(
        URL.format(session.pk),
        {"name": "Listed"},
        HTTP_IF_MATCH=f'"{session.pk}-9", "{session.pk}-1"',
    )

    assert response.status_code == 200, response.json()
    assert Session.objects.get(pk=session.pk).name == "Listed"


def test_patch_flag_and_number_written_as_json_floats_are_their_integers(api, world):
    """JSON Schema counts 1.0 as the integer 1, so a client validating against the schema
    may send it: it means 1."""
    session = world["session"]

    response = api.patch(URL.format(session.pk), {"locked_when_saved": 1.0, "capacity": 12.0})

    assert response.status_code == 200, response.content
    assert (response.json()["locked_when_saved"], response.json()["capacity"]) == (1, 12)
