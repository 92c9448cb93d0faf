import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError

from sessions_app import validators
from sessions_app.enums import ALLOWED_TRANSITIONS, SessionStatus


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


T = dt.time.fromisoformat
D = dt.date(2030, 6, 10)


# --- schedule ----------------------------------------------------------------------------


def test_validate_schedule_all_empty_passes():
    validators.validate_schedule(date=None, start_time=None, end_time=None)


def test_validate_schedule_complete_passes():
    validators.validate_schedule(date=D, start_time=T("10:00"), end_time=T("11:00"))


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({"date": D, "start_time": None, "end_time": None}, ["start_time", "end_time"]),
        ({"date": None, "start_time": T("10:00"), "end_time": T("11:00")}, ["date"]),
        ({"date": D, "start_time": T("10:00"), "end_time": None}, ["end_time"]),
    ],
    ids=["date_only", "times_only", "no_end"],
)
def test_validate_schedule_partial_is_refused(values, missing):
    with pytest.raises(ValidationError) as info:
        validators.validate_schedule(**values)
    assert codes(info.value) == {name: ["incomplete_schedule"] for name in missing}


@pytest.mark.parametrize("end", ["10:00", "09:59"], ids=["equal", "before"])
def test_validate_schedule_end_not_after_start_is_refused(end):
    with pytest.raises(ValidationError) as info:
        validators.validate_schedule(date=D, start_time=T("10:00"), end_time=T(end))
    assert codes(info.value) == {"end_time": ["invalid_time_range"]}


@pytest.mark.parametrize(
    ("date", "ok"),
    [
        (D, True),
        (D + dt.timedelta(days=2), True),
        (D - dt.timedelta(days=1), False),
        (D + dt.timedelta(days=3), False),
        (None, True),
    ],
    ids=["first_day", "last_day", "day_before", "day_after", "unscheduled"],
)
def test_validate_date_within_event(date, ok):
    call = lambda: validators.validate_date_within_event(  # noqa: E731
        date=date, event_start=D, event_end=D + dt.timedelta(days=2)
    )
    if ok:
        call()
    else:
        with pytest.raises(ValidationError) as info:
            call()
        assert codes(info.value) == {"date": ["outside_event"]}


# --- time zones --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("use_event", "zone", "expected"),
    [
        (True, None, None),
        (False, "Europe/London", None),
        (False, None, "required"),
        (False, "Mars/Olympus", "invalid_timezone"),
        (True, "Not/AZone", "invalid_timezone"),
        (False, "Europe/London\x00", "invalid_timezone"),
    ],
    ids=["event_zone", "own_zone", "own_zone_missing", "unknown", "unknown_unused", "nul"],
)
def test_validate_session_timezone(use_event, zone, expected):
    if expected is None:
        validators.validate_session_timezone(use_event_timezone=use_event, timezone=zone)
        return
    with pytest.raises(ValidationError) as info:
        validators.validate_session_timezone(use_event_timezone=use_event, timezone=zone)
    assert codes(info.value) == {"timezone": [expected]}


# --- capacity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "location_capacity", "seats", "expected"),
    [
        (None, 10, 0, None),
        (0, None, 0, None),
        (1_000_000, None, 0, None),
        (1_000_001, None, 0, "out_of_range"),
        (-1, None, 0, "out_of_range"),
        (10, 10, 0, None),
        (11, 10, 0, "above_location_capacity"),
        (5, None, 6, "below_seats_taken"),
    ],
    ids=[
        "unlimited",
        "zero",
        "max",
        "over_max",
        "negative",
        "at_location",
        "over_location",
        "below_taken",
    ],
)
def test_validate_capacity(capacity, location_capacity, seats, expected):
    kwargs = {"capacity": capacity, "location_capacity": location_capacity, "seats_taken": seats}
    if expected is None:
        validators.validate_capacity(**kwargs)
        return
    with pytest.raises(ValidationError) as info:
        validators.validate_capacity(**kwargs)
    assert codes(info.value) == {"capacity": [expected]}


def test_validate_same_event_names_each_foreign_relation():
    with pytest.raises(ValidationError) as info:
        validators.validate_same_event(event_id=1, location_event_id=2, track_event_id=3)
    assert codes(info.value) == {"location": ["wrong_event"], "track": ["wrong_event"]}
    validators.validate_same_event(event_id=1, location_event_id=1, track_event_id=None)


def test_validate_event_unchanged_refuses_a_move():
    with pytest.raises(ValidationError) as info:
        validators.validate_event_unchanged(original_event_id=1, event_id=2)
    assert codes(info.value) == {"event": ["immutable"]}
    validators.validate_event_unchanged(original_event_id=None, event_id=2)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("", True),
        ("https://example.com/w/1", True),
        ("http://example.com", True),
        ("ftp://example.com", False),
        ("javascript:alert(1)", False),
        ("not a url", False),
    ],
    ids=["empty", "https", "http", "ftp", "javascript", "garbage"],
)
def test_validate_webinar_url(url, ok):
    if ok:
        validators.validate_webinar_url(url=url)
    else:
        with pytest.raises(ValidationError) as info:
            validators.validate_webinar_url(url=url)
        assert codes(info.value) == {"webinar_url": ["invalid_url"]}


# --- status workflow ---------------------------------------------------------------------

ALL_MOVES = [(a, b) for a in SessionStatus.values for b in SessionStatus.values if a != b]


@pytest.mark.parametrize(("current", "target"), ALL_MOVES, ids=[f"{a}-{b}" for a, b in ALL_MOVES])
def test_validate_status_transition_follows_the_table(current, target):
    if target in ALLOWED_TRANSITIONS[current]:
        validators.validate_status_transition(current=current, target=target)
        return
    with pytest.raises(ValidationError) as info:
        validators.validate_status_transition(current=current, target=target)
    error = info.value.error_dict["session_status"][0]
    assert error.code == "invalid_transition"
    assert error.params["allowed"] == list(ALLOWED_TRANSITIONS[current])
    assert all(status in error.message for status in ALLOWED_TRANSITIONS[current])


@pytest.mark.parametrize("status", SessionStatus.values)
def test_validate_status_transition_same_status_is_a_no_op(status):
    validators.validate_status_transition(current=status, target=status)


def test_validate_live_has_schedule():
    with pytest.raises(ValidationError) as info:
        validators.validate_live_has_schedule(status="live", date=None, start_time=None)
    assert codes(info.value) == {"session_status": ["live_requires_schedule"]}
    validators.validate_live_has_schedule(status="live", date=D, start_time=T("10:00"))
    validators.validate_live_has_schedule(status="approved", date=None, start_time=None)


def test_validate_not_live_for_delete():
    with pytest.raises(ValidationError) as info:
        validators.validate_not_live_for_delete(status="live")
    assert codes(info.value) == {"session_status": ["live_delete"]}
    validators.validate_not_live_for_delete(status="approved")


def test_validate_no_overlap_message_with_percent_sign_renders():
    conflicts = [
        {"id": 8, "name": "100% fun %(x)s", "starts_at": "x", "ends_at": "y", "location_id": 1}
    ]
    with pytest.raises(ValidationError) as info:
        validators.validate_no_overlap(conflicts=conflicts)
    assert info.value.message_dict == {
        "location": ['This location is already booked at this time by "100% fun %(x)s" (#8).']
    }


def test_validate_no_overlap_names_each_clash():
    conflicts = [{"id": 7, "name": "Keynote", "starts_at": "x", "ends_at": "y", "location_id": 1}]
    with pytest.raises(ValidationError) as info:
        validators.validate_no_overlap(conflicts=conflicts)
    error = info.value.error_dict["location"][0]
    assert (error.code, error.params) == ("conflict", {"conflicts": conflicts})
    assert '"Keynote" (#7)' in error.message
    validators.validate_no_overlap(conflicts=[])


# --- custom fields -----------------------------------------------------------------------

DEFS = {
    "c_1": {"type": "text", "required": False, "label": "Speaker", "choice_ids": []},
    "c_2": {"type": "number", "required": False, "label": "Seats", "choice_ids": []},
    "c_3": {"type": "date", "required": False, "label": "Due", "choice_ids": []},
    "c_4": {"type": "url", "required": False, "label": "Slides", "choice_ids": []},
    "c_5": {"type": "checkbox", "required": False, "label": "Recorded", "choice_ids": []},
    "c_6": {"type": "dropdown", "required": True, "label": "Level", "choice_ids": [10, 11]},
    "c_7": {"type": "multiselect", "required": False, "label": "Audience", "choice_ids": [20, 21]},
    "c_8": {"type": "textarea", "required": False, "label": "Notes", "choice_ids": []},
}
LEVEL = {"c_6": [{"id": 10}]}


def custom_codes(exc: ValidationError) -> dict[str, str]:
    return {e.params["key"]: e.code for e in exc.error_dict["custom_fields"]}


def test_validate_custom_values_accepts_each_type():
    values = {
        "c_1": "Ada",
        "c_2": 12.5,
        "c_3": "2030-06-01",
        "c_4": "https://example.com/s",
        "c_5": True,
        "c_6": [{"id": 11}],
        "c_7": [{"id": 20}, {"id": 21}],
        "c_8": "x" * 20_000,
    }
    assert validators.validate_custom_values(definitions=DEFS, values=values) == {
        **values,
        "c_5": 1,
    }


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"c_99": "x"}, {"c_99": "unknown_field"}),
        ({"c_1": 5}, {"c_1": "invalid_type"}),
        ({"c_1": "x" * 256}, {"c_1": "too_long"}),
        ({"c_1": "a\x00b"}, {"c_1": "null_characters"}),
        ({"c_2": "12"}, {"c_2": "invalid_type"}),
        ({"c_2": True}, {"c_2": "invalid_type"}),
        ({"c_2": float("nan")}, {"c_2": "invalid_type"}),
        ({"c_2": 10**20}, {"c_2": "out_of_range"}),
        ({"c_3": "2030-02-30"}, {"c_3": "invalid_date"}),
        ({"c_3": 20300101}, {"c_3": "invalid_date"}),
        ({"c_4": "ftp://x.org"}, {"c_4": "invalid_url"}),
        ({"c_5": 2}, {"c_5": "invalid_type"}),
        ({"c_5": "yes"}, {"c_5": "invalid_type"}),
        ({"c_6": [{"id": 12}]}, {"c_6": "invalid_choice"}),
        ({"c_6": [{"id": 10}, {"id": 11}]}, {"c_6": "invalid_type"}),
        ({"c_6": 10}, {"c_6": "invalid_type"}),
        ({"c_7": [{"id": 20}, {"id": 20}]}, {"c_7": "duplicate_choice"}),
        ({"c_7": [{"id": "20"}]}, {"c_7": "invalid_type"}),
        ({"c_8": "x" * 20_001}, {"c_8": "too_long"}),
    ],
    ids=[
        "unknown",
        "text_int",
        "text_long",
        "text_nul",
        "number_str",
        "number_bool",
        "number_nan",
        "number_huge",
        "date_invalid",
        "date_int",
        "url_ftp",
        "checkbox_2",
        "checkbox_str",
        "bad_choice",
        "dropdown_two",
        "dropdown_bare",
        "multi_dup",
        "multi_str_id",
        "textarea_long",
    ],
)
def test_validate_custom_values_refuses_bad_values(values, expected):
    with pytest.raises(ValidationError) as info:
        validators.validate_custom_values(definitions=DEFS, values={**LEVEL, **values})
    assert custom_codes(info.value) == expected


def test_validate_custom_values_required_field_missing():
    with pytest.raises(ValidationError) as info:
        validators.validate_custom_values(definitions=DEFS, values={"c_1": "x"})
    assert custom_codes(info.value) == {"c_6": "required"}


def test_validate_custom_values_drops_cleared_keys():
    cleaned = validators.validate_custom_values(definitions=DEFS, values={**LEVEL, "c_1": None})
    assert cleaned == LEVEL


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.example.com/in?token=abc", True),
        ("http://127.0.0.1:9000/", True),
        # A control character: refused by both (with \s, ECMAScript allowed it, Python not).
        ("https://localhost:54/?\x1fx", False),
        ("https://localhost:54/?caf\u00e9", True),
        ("https://hooks.example.com/a b", False),
        ("https://hooks.example.com/a\x00", False),
        ("ftp://hooks.example.com/", False),
        ("https://[::1]/", False),
    ],
)
def test_http_urls_are_judged_by_the_pattern_the_schema_declares(url, ok):
    assert validators.is_http_url(url) is ok
    assert (re.fullmatch(validators.HTTP_URL_FORM, url) is not None) is ok
