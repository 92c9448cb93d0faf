"""The agenda as documents other programs read: iCalendar (RFC 5545), and the frab/pretalx
schedule that conference apps import, as JSON (https://c3voc.de/schedule/schema.json) and
as XML (``schedule.xml``, c3voc's ``schedule.xml.xsd``).

Both hold the event's live sessions only, as the agenda page does.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any

import icalendar
from django.utils.text import slugify

from sessions_app.models import Event, Session

PRODID = "-//Sessions Manager//Agenda//EN"
GENERATOR = {"name": "sessions-manager", "version": "0.1.0"}
NO_ROOM = "No room"


def session_uid(session: Session, event: Event) -> str:
    """Stable for the session's whole life: calendars update the entry instead of adding one."""
    return f"session-{session.pk}@{event.organisation.slug}.sessions-manager"


def event_calendar(
    event: Event, sessions: Iterable[Session], *, url_for: Callable[[Session], str]
) -> bytes:
    """One VEVENT per live session; SEQUENCE is the session's version, so a calendar that
    already has it takes the newer one; times carry their zone (with its VTIMEZONE)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", event.name)
    calendar.add("x-wr-timezone", event.timezone)
    for session in sessions:
        if session.starts_at is None:
            continue
        links = session.speaker_links.all()
        # The entry names its speakers: renaming one changes it, though not the session.
        modified = max([session.updated_at, *(link.speaker.updated_at for link in links)])
        entry = icalendar.Event()
        entry.add("uid", session_uid(session, event))
        entry.add("sequence", session.version)
        entry.add("dtstamp", modified.astimezone(dt.UTC))
        entry.add("last-modified", modified.astimezone(dt.UTC))
        entry.add("dtstart", session.in_effective_zone(session.starts_at))
        entry.add("dtend", session.in_effective_zone(session.ends_at))
        entry.add("summary", session.name)
        speakers = ", ".join(link.speaker.full_name for link in links)
        text = "\n\n".join(part for part in (speakers, session.description) if part)
        if text:
            entry.add("description", text)
        if session.location is not None:
            entry.add("location", session.location.name)
        if session.track is not None:
            entry.add("categories", [session.track.name])
        entry.add("url", url_for(session))
        entry.add("status", "CONFIRMED")
        calendar.add_component(entry)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _acronym(event: Event) -> str:
    """The schema's acronym: lower case, digits and "_" after the first character."""
    acronym = re.sub(r"[^a-z0-9_]", "_", event.slug.lower())
    return acronym if len(acronym) >= 4 else f"{acronym}_event"[:8]


def _hh_mm(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _guid(url: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, url))


def _person(speaker, agenda_url: str) -> dict:
    """A speaker as pretalx writes a person (the schema's guid from the email, as it says)."""
    seed = (
        f"acct:{speaker.email.lower()}" if speaker.email else f"{agenda_url}#speaker-{speaker.pk}"
    )
    return {
        "code": f"SP{speaker.pk}",
        "name": speaker.full_name,
        "guid": _guid(seed),
        "biography": speaker.bio,
    }


def schedule_document(
    event: Event,
    sessions: list[Session],
    *,
    agenda_url: str,
    url_for: Callable[[Session], str],
    version: str,
) -> dict[str, Any]:
    """The schedule in the frab/pretalx JSON format: days, rooms, and each live session."""
    zone = zoneinfo.ZoneInfo(event.timezone)
    acronym = _acronym(event)
    rooms: dict[str, dict[str, Any]] = {}
    for location in sorted(event.locations.all(), key=lambda room: (room.name, room.pk)):
        rooms.setdefault(
            location.name,
            {
                "name": location.name,
                "guid": _guid(f"{agenda_url}#room-{location.pk}"),
                "description": None,
                "capacity": location.capacity,
            },
        )
    days = []
    count = (event.end_date - event.start_date).days + 1
    for index in range(count):
        date = event.start_date + dt.timedelta(days=index)
        start = dt.datetime.combine(date, dt.time(0), tzinfo=zone)
        days.append(
            {
                "index": index + 1,
                "date": date.isoformat(),
                "day_start": start.isoformat(),
                "day_end": (start + dt.timedelta(hours=23, minutes=59)).isoformat(),
                "rooms": {},
            }
        )
    by_date = {day["date"]: day for day in days}
    for session in sessions:
        if session.starts_at is None:
            continue
        local = session.starts_at.astimezone(zone)
        day = by_date.get(local.date().isoformat())
        if day is None:
            continue
        room = session.location.name if session.location is not None else NO_ROOM
        if room == NO_ROOM and NO_ROOM not in rooms:
            rooms[NO_ROOM] = {"name": NO_ROOM, "guid": _guid(f"{agenda_url}#no-room")}
        url = url_for(session)
        slug = f"{acronym}-{session.pk}-{slugify(session.name)}".strip("-_")[:120].rstrip("-_")
        day["rooms"].setdefault(room, []).append(
            {
                "id": session.pk,
                "guid": _guid(url),
                "date": local.isoformat(),
                "start": local.strftime("%H:%M"),
                "duration": _hh_mm(session.ends_at - session.starts_at),
                "room": room,
                "slug": slug,
                "url": url,
                "title": session.name,
                "subtitle": session.badge_name or "",
                "track": session.track.name if session.track is not None else None,
                "type": "Session",
                "language": "en",
                "abstract": session.admin_short_name or "",
                "description": session.description,
                "recording_license": "",
                "do_not_record": None,
                "persons": [
                    _person(link.speaker, agenda_url) for link in session.speaker_links.all()
                ],
                "links": [{"url": session.webinar_url, "title": "Join online"}]
                if session.webinar_url
                else [],
                "attachments": [],
            }
        )
    return {
        "$schema": "https://c3voc.de/schedule/schema.json",
        "generator": GENERATOR,
        "schedule": {
            "version": version,
            "base_url": agenda_url,
            "conference": {
                "acronym": acronym,
                "title": event.name,
                "start": event.start_date.isoformat(),
                "end": event.end_date.isoformat(),
                "daysCount": count,
                "timeslot_duration": "00:05",
                "time_zone_name": event.timezone,
                "url": agenda_url,
                "tracks": [
                    {"name": track.name, "color": track.color}
                    for track in sorted(event.tracks.all(), key=lambda t: (t.name, t.pk))
                ],
                "rooms": list(rooms.values()),
                "days": days,
            },
        },
    }


# Characters XML 1.0 cannot hold (controls other than tab, newline and carriage return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    return _NOT_XML.sub("", "" if value is None else str(value))


def schedule_xml(document: dict[str, Any]) -> bytes:
    """The same schedule in the frab XML format (``schedule.xml``, c3voc's
    ``schedule.xml.xsd``) that Giggity, ConfClerk and the frab tools read."""
    from xml.etree import ElementTree as ET

    schedule = document["schedule"]
    conference = schedule["conference"]
    root = ET.Element("schedule")
    ET.SubElement(root, "generator", name=GENERATOR["name"], version=GENERATOR["version"])
    ET.SubElement(root, "version").text = _text(schedule["version"])
    head = ET.SubElement(root, "conference")
    for name, value in [
        ("title", conference["title"]),
        ("acronym", conference["acronym"]),
        ("start", conference["start"]),
        ("end", conference["end"]),
        ("days", conference["daysCount"]),
        ("timeslot_duration", conference["timeslot_duration"]),
        ("base_url", schedule["base_url"]),
        ("time_zone_name", conference["time_zone_name"]),
    ]:
        ET.SubElement(head, name).text = _text(value)
    for day in conference["days"]:
        day_element = ET.SubElement(
            root,
            "day",
            index=str(day["index"]),
            date=day["date"],
            start=day["day_start"],
            end=day["day_end"],
        )
        for room_name, sessions in day["rooms"].items():
            room = ET.SubElement(day_element, "room", name=_text(room_name))
            for session in sessions:
                event = ET.SubElement(room, "event", id=str(session["id"]), guid=session["guid"])
                for name in ["date", "start", "duration", "room", "slug", "url", "title"]:
                    ET.SubElement(event, name).text = _text(session[name])
                for name in ["subtitle", "track", "type", "language", "abstract", "description"]:
                    ET.SubElement(event, name).text = _text(session[name])
                persons = ET.SubElement(event, "persons")
                for person in session["persons"]:
                    ET.SubElement(
                        persons, "person", id=person["code"].removeprefix("SP")
                    ).text = _text(person["name"])
                links = ET.SubElement(event, "links")
                for link in session["links"]:
                    ET.SubElement(links, "link", href=link["url"]).text = _text(link["title"])
                ET.SubElement(event, "attachments")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
