"""A speaker's own calendar feed: their published sessions, at an address that needs no
sign-in (calendar apps cannot sign in) and that only they know (a signed token)."""

from __future__ import annotations

import datetime as dt
import hashlib

import icalendar
from django.contrib.auth import get_user_model
from django.core import signing

from sessions_app.enums import SessionStatus
from sessions_app.services.proposals import proposals_of

_SALT = "sessions_app.cfp.calendar"


def _address_mark(email: str) -> str:
    # The token is signed, not encrypted: it names the address by a digest, not in clear.
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def feed_token(user) -> str:
    """Stays the same for the person (their account and address): subscribe once."""
    return signing.dumps({"u": user.pk, "e": _address_mark(user.email)}, salt=_SALT)


def user_of(token: str):
    """The account the token names; BadSignature for a forged one or a changed address."""
    data = signing.loads(token[:400], salt=_SALT)
    user = get_user_model().objects.filter(pk=data.get("u"), is_staff=False, is_active=True).first()
    if user is None or _address_mark(user.email) != data.get("e"):
        raise signing.BadSignature("No such speaker.")
    return user


def ical(user) -> bytes:
    """One VEVENT per published session of theirs (SEQUENCE: the session's version)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Sessions Manager//Speaker//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "My sessions")
    sessions = proposals_of(user).filter(session_status=SessionStatus.LIVE, starts_at__isnull=False)
    for session in sessions:
        entry = icalendar.Event()
        entry.add("uid", f"session-{session.pk}@{session.event.organisation.slug}.sessions-manager")
        entry.add("sequence", session.version)
        entry.add("dtstamp", session.updated_at.astimezone(dt.UTC))
        entry.add("dtstart", session.in_effective_zone(session.starts_at))
        entry.add("dtend", session.in_effective_zone(session.ends_at))
        entry.add("summary", f"{session.name} ({session.event.name})")
        if session.location is not None:
            entry.add("location", session.location.name)
        entry.add("status", "CONFIRMED")
        calendar.add_component(entry)
    calendar.add_missing_timezones()
    return calendar.to_ical()
