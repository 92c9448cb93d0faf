"""Request bodies to typed service input: the only place the API reads a session payload.

It checks names and wire types (unknown field, read-only field, not a date, ...); every
rule about values is left to the services, so the admin and the API agree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.http import QueryDict

from sessions_app import services, validators
from sessions_app.models import Session
from sessions_app.wire.problems import FieldError, PayloadInvalid, translate_validation_error
from sessions_app.wire.representation import (
    FLAG_FIELDS,
    speaker_confirmations,
    times_with_timezone,
)

MAX_ID = 2**63 - 1
MAX_INT = 2**31 - 1

READ_ONLY_FIELDS = (
    "id",
    "secure_id",
    "seats_taken",
    "waitlist_count",
    "interest_count",
    "times_with_timezone",
    "speaker_confirmations",
    "direct_link",
    "starts_at",
    "ends_at",
    "version",
    "created_at",
    "updated_at",
)
TEXT_FIELDS = (
    "name",
    "admin_short_name",
    "badge_name",
    "description",
    "webinar_url",
    "sold_out_message",
    "session_status",
    "selection_control",
)
# In a form body an empty value means null for these.
FORM_NULLABLE = (
    "date",
    "start_time",
    "end_time",
    "timezone",
    "capacity",
    "location_id",
    "track_id",
    "session_type_id",
)

TRUE_VALUES = {"1", "true"}
FALSE_VALUES = {"0", "false"}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?\Z")
# A whole number in a form: "5", and "5.0" as JSON Schema counts 5.0 an integer.
_INT = re.compile(r"-?[0-9]{1,20}(\.0+)?\Z")


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message


def _integer(value: Any, *, form: bool) -> int:
    if isinstance(value, str) and form and _INT.match(value.strip()):
        return int(value.strip().partition(".")[0])
    if isinstance(value, float) and value.is_integer():
        return int(value)  # JSON Schema counts 1.0 as an integer, and so do we
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid("invalid_type", "Send a whole number.")
    return value


def to_flag(value: Any, *, form: bool = False) -> bool:
    # Exactly the documented forms: "TRUE" or " 1" is 422, as the schema's enum says.
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)  # 1.0 too: JSON Schema counts it as the integer 1
    if isinstance(value, str) and value in TRUE_VALUES | FALSE_VALUES:
        return value in TRUE_VALUES
    raise _Invalid("invalid_boolean", 'Send 0 or 1 (true, false, "0" and "1" are accepted too).')


def to_text(value: Any, *, form: bool = False) -> str:
    if not isinstance(value, str):
        raise _Invalid("invalid_type", "Send a string.")
    return value


def to_date(value: Any, *, form: bool = False) -> dt.date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid("invalid_type", 'Send a date as "YYYY-MM-DD" or null.')
    if _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise _Invalid("invalid_date", f'{value[:40]!r} is not a calendar date; send "YYYY-MM-DD".')


def to_time(value: Any, *, form: bool = False) -> dt.time | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid("invalid_type", 'Send a time as "HH:MM:SS" or "HH:MM", or null.')
    match = _TIME.match(value)
    if match:
        hour, minute, second = (int(part or 0) for part in match.groups())
        try:
            return dt.time(hour, minute, second)
        except ValueError:
            pass
    raise _Invalid("invalid_time", f'{value[:40]!r} is not a time of day; send "HH:MM:SS".')


def to_timezone(value: Any, *, form: bool = False) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Invalid(
            "invalid_type", 'Send an IANA time zone name such as "Europe/Berlin", or null.'
        )
    return value


def to_capacity(value: Any, *, form: bool = False) -> int | None:
    if value is None:
        return None
    number = _integer(value, form=form)
    if not -MAX_INT <= number <= MAX_INT:
        raise _Invalid("out_of_range", "Capacity must be between 0 and 1,000,000.")
    return number


def to_duration(value: Any, *, form: bool = False) -> int:
    if value is None:
        raise _Invalid("invalid_type", "Send the length in whole minutes, 1 to 1,440.")
    number = _integer(value, form=form)
    if not -MAX_INT <= number <= MAX_INT:
        raise _Invalid("out_of_range", "The length is 1 to 1,440 minutes.")
    return number


def _reference(kind: str) -> Callable[..., int | None]:
    def convert(value: Any, *, form: bool = False) -> int | None:
        if value is None:
            return None
        number = _integer(value, form=form)
        if not 1 <= number <= MAX_ID:
            raise _Invalid(
                "does_not_exist", f"There is no {kind} with this id in the session's event."
            )
        return number

    return convert


def to_event_id(value: Any, *, form: bool = False) -> int:
    if value is None:
        raise _Invalid("required", "Send the id of the session's event.")
    number = _integer(value, form=form)
    if not 1 <= number <= MAX_ID:
        raise _Invalid("does_not_exist", "There is no event with this id.")
    return number


def to_custom_fields(value: Any, *, form: bool = False) -> dict[str, Any]:
    if form:
        raise _Invalid("invalid_type", "Custom fields can be sent only in a JSON body.")
    if not isinstance(value, dict):
        raise _Invalid("invalid_type", 'Send custom fields as an object like {"c_12": "value"}.')
    return value


def to_ids(value: Any, *, form: bool, field: str, noun: str, most: int) -> list[int]:
    """A list of at most ``most`` ids, sent as ``field`` in a JSON body (a form body cannot
    carry a list)."""
    if form:
        raise _Invalid("invalid_type", f"{field} can be sent only in a JSON body.")
    if not isinstance(value, list) or len(value) > most:
        raise _Invalid("invalid_type", f"Send {field} as a list of at most {most} ids.")
    ids = []
    for item in value:
        if type(item) is float and item.is_integer():
            item = int(item)
        if type(item) is not int or not 0 < item <= MAX_ID:
            raise _Invalid("invalid_type", f"Each {noun} id is a positive whole number.")
        ids.append(item)
    return ids


def to_speaker_ids(value: Any, *, form: bool = False) -> list[int]:
    return to_ids(
        value, form=form, field="speaker_ids", noun="speaker", most=validators.SPEAKERS_MAX
    )


CONVERTERS: dict[str, Callable[..., Any]] = {
    **dict.fromkeys(FLAG_FIELDS, to_flag),
    **dict.fromkeys(TEXT_FIELDS, to_text),
    "date": to_date,
    "start_time": to_time,
    "end_time": to_time,
    "timezone": to_timezone,
    "capacity": to_capacity,
    "location_id": _reference("location"),
    "track_id": _reference("track"),
    "session_type_id": _reference("session type"),
    "duration_minutes": to_duration,
    "event_id": to_event_id,
    "custom_fields": to_custom_fields,
    "speaker_ids": to_speaker_ids,
}
assert set(CONVERTERS) == set(services.SESSION_WRITABLE_FIELDS)


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _same_as_stored(name: str, value: Any, session: Session, *, form: bool) -> bool:
    stored = {
        "id": session.pk,
        "secure_id": session.secure_id,
        "version": session.version,
        "seats_taken": session.seats_taken,
        "waitlist_count": session.waitlist_count,
        "interest_count": session.interest_count,
    }
    if name in stored:
        if form:  # every form value is a string: "12" is the id 12
            return value == str(stored[name])
        return type(value) is type(stored[name]) and value == stored[name]
    if name == "speaker_confirmations":
        return not form and value == speaker_confirmations(session)
    if name == "times_with_timezone":
        return value == times_with_timezone(session) or (
            form and value == "" and session.starts_at is None
        )
    if name == "direct_link":
        # The link is answered absolute; any host with the session's own path is the same.
        if value is None or (form and value == ""):
            return session.session_status != "live"
        return (
            isinstance(value, str)
            and session.session_status == "live"
            and value.endswith(f"/sessions/{session.pk}/")
        )
    if form and value == "":
        value = None  # as for the nullable writable fields
    current = getattr(session, name)
    if current is None or value is None:
        return current is None and value is None
    return _instant(value) == current


def body_as_dict(data: Any) -> tuple[dict[str, Any], bool]:
    """The parsed body as a plain dict, and whether it came from a form."""
    if isinstance(data, QueryDict):
        return {key: data[key] for key in data}, True
    return data, False


def session_input(
    payload: Mapping[str, Any], *, form: bool, creating: bool, current: Session | None = None
) -> dict[str, Any]:
    """Typed ``data`` for ``session_create``/``session_update``; ``PayloadInvalid`` otherwise.

    For an update, ``current`` is the stored session, needed only when the payload names a
    read-only field or ``event_id``: those sent with their stored values are dropped.
    """
    errors: list[FieldError] = []
    data: dict[str, Any] = {}
    for name, raw in payload.items():
        if name in READ_ONLY_FIELDS:
            if current is None or not _same_as_stored(name, raw, current, form=form):
                errors.append(
                    FieldError(name, "read_only", f"{name} is read-only and cannot be changed.")
                )
            continue
        converter = CONVERTERS.get(name)
        if converter is None:
            errors.append(
                FieldError(name, "unknown_field", f"{name[:100]!r} is not a field of a session.")
            )
            continue
        value = None if form and raw == "" and name in FORM_NULLABLE else raw
        try:
            data[name] = converter(value, form=form)
        except _Invalid as exc:
            errors.append(FieldError(name, exc.code, exc.message))
    event_id = data.pop("event_id", None) if current is not None else None
    if event_id is not None:
        # The service's own rule, asked before the service runs: given another event's id it
        # would validate the session against that event, whose dates its errors would show.
        try:
            validators.validate_event_unchanged(
                original_event_id=current.event_id, event_id=event_id
            )
        except ValidationError as exc:
            errors.extend(translate_validation_error(exc)[0])
    if creating:
        if "event_id" not in payload:
            errors.append(FieldError("event_id", "required", "Send the id of the session's event."))
        if "name" not in payload:
            errors.append(FieldError("name", "required", "Send a name for the session."))
    if errors:
        raise PayloadInvalid(errors)
    return data
