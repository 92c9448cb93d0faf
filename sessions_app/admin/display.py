"""How sessions and their history read on the staff pages."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.html import format_html

from sessions_app.enums import HOLDING_STATUSES, CustomFieldType, HistoryAction, SessionStatus
from sessions_app.models import CustomField, Location, Session, SessionChange, Track

# The label of the button for each move; the table of which moves exist is enums'.
MOVE_LABELS: dict[tuple[str, str], str] = {
    (SessionStatus.SUBMITTED, SessionStatus.APPROVED): "Approve",
    (SessionStatus.SUBMITTED, SessionStatus.REJECTED): "Reject",
    (SessionStatus.APPROVED, SessionStatus.CONVERTED): "Convert",
    (SessionStatus.APPROVED, SessionStatus.LIVE): "Publish (go live)",
    (SessionStatus.APPROVED, SessionStatus.REJECTED): "Reject",
    (SessionStatus.APPROVED, SessionStatus.SUBMITTED): "Back to submitted",
    (SessionStatus.CONVERTED, SessionStatus.LIVE): "Publish (go live)",
    (SessionStatus.CONVERTED, SessionStatus.APPROVED): "Back to approved",
    (SessionStatus.LIVE, SessionStatus.APPROVED): "Unpublish",
    (SessionStatus.REJECTED, SessionStatus.SUBMITTED): "Reopen",
}


def move_label(current: str, target: str) -> str:
    return MOVE_LABELS.get((current, target), f"Move to {SessionStatus(target).label.lower()}")


def status_badge(status: str) -> str:
    return format_html(
        '<span class="sm-badge sm-status-{}">{}</span>', status, SessionStatus(status).label
    )


def speaker_answers(session: Session) -> str:
    """``2 of 3 confirmed, 1 declined`` for an approved session with speakers; else empty."""
    if session.session_status not in HOLDING_STATUSES or not session.speaker_ids:
        return ""
    answers = session.speaker_confirmations or {}
    given = [answers.get(str(pk)) for pk in session.speaker_ids]
    text = f"{given.count('confirmed')} of {len(given)} confirmed"
    if "declined" in given:
        text += f", {given.count('declined')} declined"
    return text


def time_range(session: Session) -> str:
    """``10:30-11:30 CEST``: the zone's abbreviation, its IANA name on hover."""
    if session.start_time is None or session.end_time is None:
        return format_html('<span class="sm-muted">{}</span>', "not scheduled")
    zone = session.effective_timezone
    abbreviation = ""
    if session.starts_at is not None and zone:
        try:
            abbreviation = session.starts_at.astimezone(zoneinfo.ZoneInfo(zone)).tzname()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            abbreviation = ""
    return format_html(
        '{}\u2013{} <span class="sm-zone" title="{}">{}</span>',
        session.start_time.strftime("%H:%M"),
        session.end_time.strftime("%H:%M"),
        zone,
        # A session in its own zone says which; the event's zone needs only its short name.
        abbreviation if abbreviation and session.use_event_timezone else zone,
    )


def local_moment(moment: dt.datetime, zone_name: str, fmt: str = "%a %-d %b %Y, %H:%M") -> str:
    """A stored instant in the event's zone, with the zone's abbreviation (server time is UTC)."""
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    local = moment.astimezone(zone)
    return f"{local.strftime(fmt)} {local.tzname()}"


DARK_TEXT = "#000000"


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of ``#rrggbb``; ValueError if it is not one."""
    if len(colour) != 7 or colour[0] != "#":
        raise ValueError(colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(one: str, other: str) -> float:
    light, dark = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour_for(background: str) -> str:
    """Black or white text, whichever has the higher WCAG contrast on ``#rrggbb``. On any
    colour one of them reaches 4.58:1, above the AA minimum of 4.5:1 for normal text."""
    try:
        dark, white = contrast_ratio(background, DARK_TEXT), contrast_ratio(background, "#ffffff")
    except (ValueError, TypeError):
        return DARK_TEXT
    return DARK_TEXT if dark >= white else "#ffffff"


# --- history ---------------------------------------------------------------------------------
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?")


def _readable_date(value: str) -> str:
    """``2027-01-04`` as ``Mon 4 Jan 2027``; anything else as it is."""
    try:
        return f"{dt.date.fromisoformat(value):%a %-d %b %Y}"
    except ValueError:
        return value


def _readable_instant(value: str, zone_name: str) -> str:
    """A stored ISO instant in the event's zone, with the zone's abbreviation."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return local_moment(moment, zone_name)


FIELD_LABELS = {
    "event_id": "Event",
    "location_id": "Location",
    "track_id": "Track",
    "session_status": "Status",
    "starts_at": "Starts at",
    "ends_at": "Ends at",
}


@dataclass
class HistoryRow:
    entry: SessionChange
    actor_kind: str
    changes: list[tuple[str, str, str]]
    when: str  # in the event's zone
    actor: str = ""  # who, as shown (a speaker is "a speaker" to a blind reviewer)
    note: str = ""


def _label_for(field: str, custom: dict[str, CustomField]) -> str:
    if field.startswith("custom_fields."):
        key = field.removeprefix("custom_fields.")
        definition = custom.get(key)
        return f"{definition.label} ({key})" if definition else key
    if field in FIELD_LABELS:
        return FIELD_LABELS[field]
    try:
        return str(Session._meta.get_field(field).verbose_name).capitalize()
    except Exception:  # an unknown name is shown as it is
        return field


def history_rows(
    session: Session, entries: list[SessionChange], *, blind: bool = False
) -> list[HistoryRow]:
    """Entries with readable values: names for ids, labels for choices (a fixed few queries).
    For a blind reviewer, a speaker's own changes name no one and carry no note."""
    ids: dict[str, set[int]] = {"track_id": set(), "location_id": set()}
    event_names = {session.event_id: session.event.name}
    for entry in entries:
        for field, change in (entry.changes or {}).items():
            if field in ids:
                ids[field].update(v for v in (change.get("old"), change.get("new")) if v)
    names = {
        "track_id": dict(Track.objects.filter(pk__in=ids["track_id"]).values_list("pk", "name"))
        if ids["track_id"]
        else {},
        "location_id": dict(
            Location.objects.filter(pk__in=ids["location_id"]).values_list("pk", "name")
        )
        if ids["location_id"]
        else {},
    }
    custom = {
        field.key: field
        for field in CustomField.objects.filter(event_id=session.event_id).prefetch_related(
            "choices"
        )
    }
    choice_labels = {
        choice.pk: choice.label for field in custom.values() for choice in field.choices.all()
    }

    checkboxes = {
        f"custom_fields.{field.key}"
        for field in custom.values()
        if field.field_type == CustomFieldType.CHECKBOX
    }

    def readable(field: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if field in checkboxes:  # stored as 0/1
            value = bool(value)
        if field == "event_id":
            return f"{event_names.get(value, 'another event')} (#{value})"
        if field in names:
            return f"{names[field].get(value, 'deleted')} (#{value})"
        if field == "session_status":
            try:
                return SessionStatus(value).label
            except ValueError:
                return str(value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            return _readable_date(str(value))
        if field in ("start_time", "end_time") and _ISO_TIME.fullmatch(str(value)):
            return str(value)[:5]
        if field in ("starts_at", "ends_at"):
            return _readable_instant(str(value), session.event.timezone)
        if isinstance(value, list) and all(isinstance(i, dict) and "id" in i for i in value):
            return ", ".join(choice_labels.get(i["id"], f"#{i['id']}") for i in value) or "—"
        return str(value)

    speakers_accounts = set()
    if blind:
        speakers_accounts = set(
            get_user_model()
            .objects.filter(
                pk__in={e.actor_user_id for e in entries if e.actor_user_id}, is_staff=False
            )
            .values_list("pk", flat=True)
        )
    rows = []
    for entry in entries:
        kind = "client" if entry.actor_client_id else "user" if entry.actor_user_id else "system"
        changes = [
            (
                _label_for(field, custom),
                readable(field, c.get("old")),
                readable(field, c.get("new")),
            )
            for field, c in sorted((entry.changes or {}).items())
            # A new session's empty fields say nothing; leave them out.
            if entry.action != HistoryAction.CREATE or c.get("new") not in (None, "", [])
        ]
        when = local_moment(entry.created_at, session.event.timezone, "%a %-d %b %Y, %H:%M:%S")
        actor, note = entry.actor_label, entry.note
        if blind and kind == "user" and entry.actor_user_id in speakers_accounts:
            actor, note = "a speaker", ""
        rows.append(
            HistoryRow(
                entry=entry, actor_kind=kind, changes=changes, when=when, actor=actor, note=note
            )
        )
    return rows
