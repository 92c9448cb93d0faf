"""Pure validation rules shared by the admin, the API and the services.

Each function takes keyword-only context and raises ``ValidationError({field: error})``
with a stable ``code``; nothing here touches the database.
"""

import datetime as dt
import ipaddress
import math
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError

from sessions_app.enums import (
    CHOICE_FIELD_TYPES,
    HOLDING_STATUSES,
    WEBHOOK_EVENT_PATTERNS,
    CustomFieldType,
    SessionStatus,
    allowed_transitions,
)

CAPACITY_MAX = 1_000_000
TEXT_MAX = 255
TEXTAREA_MAX = 20_000
# A session's length in minutes: at least one, at most a day (a session lies within one date).
DURATION_MAX = 24 * 60
DURATION_DEFAULT = 60
# Refusals of a selection (API.md "Registrants and session selection"), answered 409.
SELECTION_CODES = frozenset(
    {"sold_out", "included", "locked", "not_selectable", "selection_conflict"}
)
# Codes the API answers with 409 instead of 422.
CONFLICT_CODES = (
    frozenset(
        {
            "conflict",
            "invalid_transition",
            "live_delete",
            "speaker_in_sessions",
            "type_in_use",
            "blocked_slot",
            "speaker_unavailable",
        }
    )
    | SELECTION_CODES
)


def _literal(message: str, params: dict | None) -> str:
    # Django %-formats a message that has params; names in it may hold a literal "%".
    return message.replace("%", "%%") if params else message


def _error(field: str, message: str, code: str, params: dict | None = None) -> ValidationError:
    return ValidationError(
        {field: ValidationError(_literal(message, params), code=code, params=params)}
    )


# --- what people type: numbers and dates --------------------------------------------------

_ASCII_ID = re.compile(r"[0-9]{1,18}\Z")


def ascii_int(raw: Any) -> int | None:
    """A whole number of at most 18 ASCII digits (it fits a bigint), else None.

    Every number read from a query string, a form or a file goes through this (or a Django
    form field): ``"²".isdigit()`` is True and ``int("²")`` fails, ``int("٣")`` is 3, and
    ``int`` takes "1_000" and " 7 ". None of those is an id a person meant."""
    return int(raw) if isinstance(raw, str) and _ASCII_ID.match(raw) else None


# Dates and instants outside these years are refused wherever they are read: a year 9999
# date has no next day, and year 1 has no previous one, so arithmetic on them fails.
YEAR_MIN, YEAR_MAX = 1900, 2999


def date_or_none(raw: Any) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) within YEAR_MIN..YEAR_MAX, else None."""
    if not isinstance(raw, str) or len(raw) != 10 or not raw.isascii():
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    return day if YEAR_MIN <= day.year <= YEAR_MAX else None


NEAR_EVENT = dt.timedelta(days=366)


def validate_near_event(
    *, field: str, moments: Iterable[dt.datetime], start_date: dt.date, end_date: dt.date
) -> None:
    """Times that belong to an event (a speaker's availability, a blocked slot) lie within
    a year of its dates: further off they mean nothing, and a year 9999 instant cannot even
    be shown in the event's zone."""
    lowest = dt.datetime.combine(start_date, dt.time(), tzinfo=dt.UTC) - NEAR_EVENT
    highest = dt.datetime.combine(end_date, dt.time(), tzinfo=dt.UTC) + NEAR_EVENT
    if any(not lowest <= moment <= highest for moment in moments):
        raise _error(
            field,
            f"Times must lie within a year of the event's dates ({start_date.isoformat()} "
            f"to {end_date.isoformat()}).",
            "out_of_range",
        )


def validate_schedule(
    *, date: dt.date | None, start_time: dt.time | None, end_time: dt.time | None
) -> None:
    """Date, start and end are all set or all empty, and the end is after the start."""
    values = {"date": date, "start_time": start_time, "end_time": end_time}
    missing = [name for name, value in values.items() if value is None]
    if missing and len(missing) < len(values):
        raise ValidationError(
            {
                name: ValidationError(
                    "Date, start time and end time must be set together or all left empty.",
                    code="incomplete_schedule",
                )
                for name in missing
            }
        )
    if not missing and end_time <= start_time:
        raise _error("end_time", "End time must be after start time.", "invalid_time_range")


def validate_date_within_event(
    *, date: dt.date | None, event_start: dt.date, event_end: dt.date
) -> None:
    if date is not None and not event_start <= date <= event_end:
        raise _error(
            "date",
            f"Date must be within the event, from {event_start.isoformat()} "
            f"to {event_end.isoformat()}.",
            "outside_event",
        )


def is_valid_timezone(name: str | None) -> bool:
    if not name or not isinstance(name, str) or "\x00" in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def validate_timezone_name(*, name: str | None, field: str = "timezone") -> None:
    if not is_valid_timezone(name):
        raise _error(field, f"{name!r} is not a known IANA time zone.", "invalid_timezone")


def validate_session_timezone(*, use_event_timezone: bool, timezone: str | None) -> None:
    """A session that does not follow the event's zone needs a valid zone of its own."""
    if use_event_timezone and not timezone:
        return
    if not use_event_timezone and not timezone:
        raise _error(
            "timezone",
            "A time zone is required when the event's time zone is not used.",
            "required",
        )
    validate_timezone_name(name=timezone)


def validate_capacity(
    *, capacity: int | None, location_capacity: int | None, seats_taken: int = 0
) -> None:
    if capacity is None:
        return
    if capacity < 0 or capacity > CAPACITY_MAX:
        raise _error(
            "capacity", f"Capacity must be between 0 and {CAPACITY_MAX:,}.", "out_of_range"
        )
    if location_capacity is not None and capacity > location_capacity:
        raise _error(
            "capacity",
            f"Capacity cannot exceed the location's capacity of {location_capacity}.",
            "above_location_capacity",
        )
    if capacity < seats_taken:
        raise _error(
            "capacity",
            f"Capacity cannot be below the {seats_taken} seats already taken.",
            "below_seats_taken",
        )


def validate_same_event(
    *,
    event_id: int,
    location_event_id: int | None,
    track_event_id: int | None,
    session_type_event_id: int | None = None,
) -> None:
    errors = {}
    if session_type_event_id is not None and session_type_event_id != event_id:
        errors["session_type"] = ValidationError(
            "The session type must belong to the session's event.", code="wrong_event"
        )
    if location_event_id is not None and location_event_id != event_id:
        errors["location"] = ValidationError(
            "The location must belong to the session's event.", code="wrong_event"
        )
    if track_event_id is not None and track_event_id != event_id:
        errors["track"] = ValidationError(
            "The track must belong to the session's event.", code="wrong_event"
        )
    if errors:
        raise ValidationError(errors)


def minutes_between(start: dt.time | None, end: dt.time | None) -> int | None:
    """Whole minutes from ``start`` to ``end`` on one day (None unless both are set)."""
    if start is None or end is None:
        return None
    seconds = (end.hour * 3600 + end.minute * 60 + end.second) - (
        start.hour * 3600 + start.minute * 60 + start.second
    )
    return seconds // 60


def validate_duration_agrees(
    *, duration_minutes: int | None, start_time: dt.time | None, end_time: dt.time | None
) -> None:
    """A placed session's times run exactly its length."""
    minutes = minutes_between(start_time, end_time)
    if minutes is None or duration_minutes is None or minutes <= 0:
        return  # no times yet, or an end before its start: validate_schedule's error
    if minutes != duration_minutes:
        raise _error(
            "duration_minutes",
            f"The session runs {minutes} minutes from {start_time:%H:%M} to {end_time:%H:%M} "
            f"but its length is {duration_minutes} minutes: change its length or its end time.",
            "duration_mismatch",
        )


def validate_event_unchanged(*, original_event_id: int | None, event_id: int) -> None:
    if original_event_id is not None and original_event_id != event_id:
        raise _error("event", "A session cannot be moved to another event.", "immutable")


# What an http(s) URL must look like, stated once: the API's schema declares this pattern
# for its URL fields, so a URL that the schema allows is never refused for its form.
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"  # no leading zero: 127.000.0.1 is not
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
HTTP_URL_FORM = (
    r"https?://"
    rf"(localhost|{_OCTET}(\.{_OCTET}){{3}}"
    r"|([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?)"
    rf"(:{_PORT})?([/?#][^\x00-\x20\x7f]*)?"
)
# (Control characters and spaces are spelled out: ``\s`` means other things in Python
# and in the ECMAScript regexes that schema validators use.)
_HTTP_URL = re.compile(HTTP_URL_FORM)


def is_http_url(value: str) -> bool:
    return isinstance(value, str) and _HTTP_URL.fullmatch(value) is not None


def validate_webinar_url(*, url: str) -> None:
    if url and not is_http_url(url):
        raise _error("webinar_url", "Enter a valid http or https URL.", "invalid_url")


def validate_email_address(*, email: str, field: str = "email") -> None:
    """A deliverable-looking address of at most 254 characters."""
    from django.core.validators import validate_email

    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise _error(field, f"{email[:60]!r} is not an email address.", "invalid_email") from None


WEBHOOK_URL_MAX = 2000
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def validate_webhook_url(*, url: Any, address_allowed: Callable[[str], bool]) -> None:
    """https; http only to a receiver on an address we may send to that is not public
    (loopback in development, an allowed internal network). ``address_allowed`` is the
    SSRF guard's verdict on an IP address; a name is judged again when it is resolved."""
    from urllib.parse import urlsplit

    if (
        not isinstance(url, str)
        or not url
        or len(url) > WEBHOOK_URL_MAX
        or "\x00" in url
        or not is_http_url(url)
    ):
        raise _error(
            "url",
            "Enter an https URL of at most 2,000 characters, to a host name or an IPv4 "
            "address written the usual way (e.g. 203.0.113.5), with a port from 1 to 65535 "
            "if it has one.",
            "invalid_url",
        )
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. brackets around what is not an IPv6 address
        raise _error(
            "url", "Enter an https URL of at most 2,000 characters.", "invalid_url"
        ) from None
    if parts.username is not None or parts.password is not None:
        raise _error("url", "Put no user name or password in the URL.", "invalid_url")
    host = (parts.hostname or "").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    inside = address is not None and not address.is_global
    if address is not None and not address_allowed(str(address)):
        raise _error(
            "url",
            "Webhooks are not sent to private, loopback or link-local addresses.",
            "address_not_allowed",
        )
    if host in _LOOPBACK_NAMES and not address_allowed("127.0.0.1"):
        raise _error(
            "url", "Webhooks are not sent to this server's own addresses.", "address_not_allowed"
        )
    if parts.scheme == "http" and not (inside or host in _LOOPBACK_NAMES):
        raise _error(
            "url",
            "Use https; plain http is only for a receiver on loopback or an internal network.",
            "https_required",
        )


def validate_webhook_events(*, events: Any) -> None:
    """A non-empty list of known event types or families (``session.*``, ``*``)."""
    if not isinstance(events, list) or not events or len(events) > 50:
        raise _error("events", 'Send a list of event types, e.g. ["session.updated"].', "invalid")
    unknown = [event for event in events if event not in WEBHOOK_EVENT_PATTERNS]
    if unknown:
        shown = ", ".join(repr(str(event)[:60]) for event in unknown[:5])
        raise _error(
            "events",
            f"Unknown event type {shown}; known: {', '.join(WEBHOOK_EVENT_PATTERNS)}.",
            "unknown_event_type",
        )


def validate_status_transition(*, current: str, target: str) -> None:
    """Refuse a move that the workflow table does not allow; the same status is a no-op."""
    if current == target:
        return
    allowed = [str(status) for status in allowed_transitions(current)]
    if target not in allowed:
        allowed_text = ", ".join(allowed) or "none"
        raise _error(
            "session_status",
            f"A {current} session cannot move to {target}. Allowed from {current}: {allowed_text}.",
            "invalid_transition",
            {"allowed": allowed, "current": current, "target": target},
        )


def validate_live_has_schedule(
    *, status: str, date: dt.date | None, start_time: dt.time | None
) -> None:
    if status == SessionStatus.LIVE and (date is None or start_time is None):
        raise _error(
            "session_status",
            "A session can go live only once it has a date, a start time and an end time.",
            "live_requires_schedule",
        )


def validate_not_live_for_delete(*, status: str) -> None:
    if status == SessionStatus.LIVE:
        raise _error(
            "session_status",
            "A live session cannot be deleted; unpublish it (move it to approved) first.",
            "live_delete",
            {"allowed": [str(SessionStatus.APPROVED)]},
        )


def holds_location(*, status: str, location_id: int | None, starts_at: Any) -> bool:
    return status in HOLDING_STATUSES and location_id is not None and starts_at is not None


def _conflict_error(
    field: str, code: str, message: str, conflicts: Sequence[Mapping[str, Any]]
) -> ValidationError:
    """``message`` with ``{names}`` filled in from ``conflicts`` (conflict_summary dicts),
    which the error also carries (the API answers them as ``conflicts``)."""
    names = ", ".join(f'"{c["name"]}" (#{c["id"]})' for c in conflicts)
    return _error(field, message.format(names=names), code, {"conflicts": list(conflicts)})


def validate_no_overlap(*, conflicts: Sequence[Mapping[str, Any]]) -> None:
    """``conflicts`` are the other sessions holding the room: {id, name, starts_at, ...}."""
    if conflicts:
        raise _conflict_error(
            "location",
            "conflict",
            "This location is already booked at this time by {names}.",
            conflicts,
        )


SPEAKERS_MAX = 50


def validate_speaker_ids(*, speaker_ids: Any, known_ids: Iterable[int]) -> None:
    """A list of distinct speaker ids, each one of the session's event (``known_ids``)."""
    if not isinstance(speaker_ids, list) or len(speaker_ids) > SPEAKERS_MAX:
        raise _error(
            "speaker_ids", f"Send a list of at most {SPEAKERS_MAX} speaker ids.", "invalid"
        )
    if len(set(speaker_ids)) != len(speaker_ids):
        raise _error("speaker_ids", "A speaker can be listed once.", "duplicate")
    unknown = [pk for pk in speaker_ids if pk not in set(known_ids)]
    if unknown:
        raise _error(
            "speaker_ids",
            f"The event has no speaker with id {', '.join(map(str, unknown[:10]))}.",
            "does_not_exist",
        )


def validate_speakers_free(*, conflicts: Sequence[Mapping[str, Any]]) -> None:
    """``conflicts``: held sessions overlapping this one that share a speaker with it, each
    with ``speakers`` (the shared ones, ``{"id", "name"}``)."""
    if conflicts:
        speakers = ", ".join(
            dict.fromkeys(s["name"] for c in conflicts for s in c.get("speakers", []))
        )
        speakers = (speakers or "A speaker").replace("{", "{{").replace("}", "}}")
        raise _conflict_error(
            "speaker_ids",
            "conflict",
            speakers + " already speaks at this time in {names}.",
            conflicts,
        )


def validate_not_blocked(*, blocks: Sequence[str]) -> None:
    """``blocks``: the labels of the blocked slots (breaks, lunch, reserved) the session's
    time meets in its room or in every room."""
    if blocks:
        names = ", ".join(f"\u201c{label}\u201d" for label in dict.fromkeys(blocks))
        raise ValidationError(
            {
                "start_time": ValidationError(
                    "This time is blocked for %(names)s; choose another time or room.",
                    code="blocked_slot",
                    params={"names": names},
                )
            }
        )


def validate_speakers_available(*, speakers: Sequence[str]) -> None:
    """``speakers``: the names of the session's speakers whose availability does not cover
    its time."""
    if speakers:
        names = ", ".join(dict.fromkeys(speakers))
        raise ValidationError(
            {
                "speaker_ids": ValidationError(
                    "%(names)s cannot be there at this time (outside their availability).",
                    code="speaker_unavailable",
                    params={"names": names},
                )
            }
        )


def validate_no_null_characters(*, values: Mapping[str, Any]) -> None:
    errors = {
        field: ValidationError("Null characters are not allowed.", code="null_characters")
        for field, value in values.items()
        if isinstance(value, str) and "\x00" in value
    }
    if errors:
        raise ValidationError(errors)


# --- Selections ---------------------------------------------------------------------------
# Each refusal names the field ``session_id``: the session the registrant asked about.


def validate_selectable(*, status: str) -> None:
    """A seat in a live session, or an interest in an approved one; nothing else."""
    if status not in (SessionStatus.LIVE, SessionStatus.APPROVED):
        raise _error(
            "session_id",
            "Only sessions on the agenda (live) can be selected, and approved ones marked "
            "as an interest.",
            "not_selectable",
        )


def validate_seat_free(*, capacity: int | None, seats_taken: int, sold_out_message: str) -> None:
    """A seat is free unless ``capacity`` seats are taken; the refusal carries the message."""
    if capacity is None or seats_taken < capacity:
        return
    message = sold_out_message or "This session is sold out."
    raise _error(
        "session_id",
        message,
        "sold_out",
        {"sold_out_message": sold_out_message},
    )


def validate_can_give_up(*, included: bool, locked: bool, override: bool) -> None:
    """A held seat of an included session, or of a locked one once saved, stays (staff may
    override)."""
    if override:
        return
    if included:
        raise _error(
            "session_id",
            "This session is included for every registrant and cannot be given up.",
            "included",
        )
    if locked:
        raise _error(
            "session_id",
            "This session is locked once saved and cannot be given up; ask the organiser.",
            "locked",
        )


def validate_no_selection_conflict(*, conflicts: Sequence[Mapping[str, Any]]) -> None:
    """``conflicts``: overlapping sessions the registrant has, where either forbids it."""
    if conflicts:
        raise _conflict_error(
            "session_id",
            "selection_conflict",
            "This session overlaps with {names}, which you already have.",
            conflicts,
        )


# --- Custom fields -----------------------------------------------------------------------


def _custom_error(key: str, message: str, code: str) -> ValidationError:
    params = {"key": key}
    return ValidationError(_literal(message, params), code=code, params=params)


def _choice_ids(raw: Any) -> list[int] | None:
    """``[{"id": 5}, ...]`` → ``[5, ...]``; None when the shape is wrong."""
    if not isinstance(raw, list):
        return None
    ids = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"id"}:
            return None
        choice_id = item["id"]
        if isinstance(choice_id, bool) or not isinstance(choice_id, int):
            return None
        ids.append(choice_id)
    return ids


def clean_custom_value(*, key: str, field_type: str, choice_ids: Iterable[int], value: Any) -> Any:
    """Check one custom value against its definition; return it in its stored (wire) shape.

    Checkbox values are stored as 0/1, choices as ``[{"id": N}]``.
    """
    if field_type in (CustomFieldType.TEXT, CustomFieldType.TEXTAREA, CustomFieldType.URL):
        if not isinstance(value, str):
            raise _custom_error(key, f"{key} must be a string.", "invalid_type")
        if "\x00" in value:
            raise _custom_error(key, f"{key} must not contain null characters.", "null_characters")
        limit = TEXTAREA_MAX if field_type == CustomFieldType.TEXTAREA else TEXT_MAX
        if len(value) > limit:
            raise _custom_error(key, f"{key} must be at most {limit} characters.", "too_long")
        if field_type == CustomFieldType.URL and value and not is_http_url(value):
            raise _custom_error(key, f"{key} must be a valid http or https URL.", "invalid_url")
        return value
    if field_type == CustomFieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _custom_error(key, f"{key} must be a number.", "invalid_type")
        if isinstance(value, float) and not math.isfinite(value):
            raise _custom_error(key, f"{key} must be a finite number.", "invalid_type")
        if abs(value) > 1e15:
            raise _custom_error(key, f"{key} is out of range.", "out_of_range")
        return value
    if field_type == CustomFieldType.DATE:
        if isinstance(value, str) and len(value) == 10:
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        raise _custom_error(key, f"{key} must be a date as YYYY-MM-DD.", "invalid_date")
    if field_type == CustomFieldType.CHECKBOX:
        if value in (0, 1) and not isinstance(value, float):
            return int(value)
        raise _custom_error(key, f"{key} must be 0 or 1.", "invalid_type")
    if field_type in CHOICE_FIELD_TYPES:
        ids = _choice_ids(value)
        if ids is None:
            raise _custom_error(
                key, f'{key} must be a list of choices like [{{"id": 1}}].', "invalid_type"
            )
        if field_type == CustomFieldType.DROPDOWN and len(ids) != 1:
            raise _custom_error(key, f"{key} takes exactly one choice.", "invalid_type")
        if len(set(ids)) != len(ids):
            raise _custom_error(key, f"{key} lists a choice twice.", "duplicate_choice")
        known = set(choice_ids)
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise _custom_error(key, f"{key} has no choice with id {unknown[0]}.", "invalid_choice")
        return [{"id": i} for i in ids]
    raise _custom_error(key, f"{key} has an unsupported type.", "invalid_type")


def validate_custom_values(
    *, definitions: Mapping[str, Mapping[str, Any]], values: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate merged custom values against the event's definitions.

    ``definitions`` maps ``c_<id>`` to ``{"type", "required", "choice_ids", "label"}``.
    Returns the cleaned values; raises one ``custom_fields`` error per bad key.
    """
    errors = []
    cleaned = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            errors.append(
                _custom_error(key, f"{key} is not a custom field of this event.", "unknown_field")
            )
            continue
        if value is None:
            continue
        try:
            cleaned[key] = clean_custom_value(
                key=key,
                field_type=definition["type"],
                choice_ids=definition["choice_ids"],
                value=value,
            )
        except ValidationError as exc:
            errors.append(exc)
    for key, definition in definitions.items():
        if definition["required"] and cleaned.get(key) in (None, "", []):
            if key in values and values[key] is not None and key not in cleaned:
                continue  # already reported as invalid
            errors.append(
                _custom_error(key, f"{key} ({definition['label']}) is required.", "required")
            )
    if errors:
        raise ValidationError({"custom_fields": errors})
    return cleaned


# --- the sites that may embed an event's agenda -------------------------------------------

_ORIGIN = re.compile(r"^(https?)://([a-z0-9.-]+|\[[0-9a-f:]+\])(?::([0-9]{1,5}))?$")
_LOOPBACK = {"localhost", "127.0.0.1", "[::1]"}


def embed_origins(value: str) -> list[str]:
    """The origins of an event's embed list: one per line or comma, lower case, no slash."""
    parts = re.split(r"[\s,]+", value or "")
    return [part.strip().lower().rstrip("/") for part in parts if part.strip()]


def validate_embed_origins(value: str) -> None:
    """Each an origin (scheme, host, port: no path), https except on this machine."""
    for origin in embed_origins(value):
        match = _ORIGIN.match(origin)
        if match is None or (match[3] is not None and not 0 < int(match[3]) < 65536):
            raise ValidationError(
                f"{origin!r} is not a site's origin: give https://host (and :port if not the "
                "default), with no path.",
                code="invalid_origin",
            )
        if match[1] == "http" and match[2] not in _LOOPBACK:
            raise ValidationError(
                f"{origin!r}: a site must be https:// (http only for localhost).",
                code="insecure_origin",
            )
