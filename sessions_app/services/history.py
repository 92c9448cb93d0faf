"""What a history entry records: wire-named snapshots of a session and their difference."""

import datetime as dt
from typing import Any

# Wire name → model attribute, for every field a history entry tracks.
TRACKED_FIELDS: dict[str, str] = {
    "event_id": "event_id",
    "name": "name",
    "admin_short_name": "admin_short_name",
    "badge_name": "badge_name",
    "description": "description",
    "date": "date",
    "start_time": "start_time",
    "end_time": "end_time",
    "use_event_timezone": "use_event_timezone",
    "timezone": "timezone",
    "capacity": "capacity",
    "location_id": "location_id",
    "track_id": "track_id",
    "session_type_id": "session_type_id",
    "duration_minutes": "duration_minutes",
    "webinar_url": "webinar_url",
    "sold_out_message": "sold_out_message",
    "session_status": "session_status",
    "locked_when_saved": "locked_when_saved",
    "selection_control": "selection_control",
    "selected_by_default": "selected_by_default",
    "prevent_session_conflicts": "prevent_session_conflicts",
    "pinned": "pinned",
    "speaker_ids": "speaker_ids",
    "speaker_confirmations": "speaker_confirmations",
}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def snapshot(session: Any) -> dict[str, Any]:
    """Tracked values, JSON-ready; custom fields flattened to ``custom_fields.c_N``."""
    values = {wire: _json_value(getattr(session, attr)) for wire, attr in TRACKED_FIELDS.items()}
    values["timezone"] = values["timezone"] or None
    values["speaker_ids"] = list(values["speaker_ids"] or [])
    for key, value in (session.custom_fields or {}).items():
        values[f"custom_fields.{key}"] = value
    return values


def instants(session: Any) -> dict[str, Any]:
    return {"starts_at": _json_value(session.starts_at), "ends_at": _json_value(session.ends_at)}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"old", "new"}}`` for each field whose value differs."""
    return {
        field: {"old": before.get(field), "new": after.get(field)}
        for field in sorted(before.keys() | after.keys())
        if before.get(field) != after.get(field)
    }


def changed_attributes(changes: dict[str, Any]) -> set[str]:
    """The model attributes behind the fields of a ``diff()`` (``custom_fields.c_N`` → one)."""
    return {TRACKED_FIELDS.get(field, field.partition(".")[0]) for field in changes}
