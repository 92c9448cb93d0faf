"""Two organisations side by side, with the people who work in them."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group

from sessions_app.enums import CustomFieldType, MemberRole, SessionStatus
from sessions_app.models import Event, Location, Session, Track
from tests import factories


def staff(organisation, *roles, **kwargs):
    user = factories.user(organisation=organisation, roles=roles, **kwargs)
    names = {MemberRole.ORGANISER: "Organisers", MemberRole.REVIEWER: "Reviewers"}
    for role in roles:
        user.groups.add(Group.objects.get(name=names[MemberRole(role)]))
    return user


@dataclass
class Org:
    """One organisation's world: an event with tracks, rooms, fields, sessions and people."""

    organiser: object
    reviewer: object
    event: Event
    track: Track
    other_track: Track
    room: Location
    other_room: Location
    held: Session  # approved, 10:00-11:00 in ``room`` on day 0
    proposal: Session  # submitted, 12:00-13:00 in ``room``


def make_org(label: str) -> Org:
    organisation = factories.organisation(name=f"{label} Org", slug=f"{label.lower()}-org")
    event = factories.event(organisation=organisation, name=f"{label} Summit")
    track = factories.track(event=event, name=f"{label} Track", color="#2563eb")
    other_track = factories.track(event=event, name=f"{label} Second Track", color="#16a34a")
    room = factories.location(event=event, name=f"{label} Hall")
    other_room = factories.location(event=event, name=f"{label} Lab")
    held = factories.scheduled(
        event=event,
        name=f"{label} keynote",
        location=room,
        track=track,
        session_status=SessionStatus.APPROVED,
    )
    proposal = factories.scheduled(
        event=event,
        name=f"{label} proposal",
        start="12:00",
        end="13:00",
        location=room,
        track=track,
    )
    return Org(
        organiser=staff(organisation, MemberRole.ORGANISER, username=f"{label.lower()}-organiser"),
        reviewer=staff(organisation, MemberRole.REVIEWER, username=f"{label.lower()}-reviewer"),
        event=event,
        track=track,
        other_track=other_track,
        room=room,
        other_room=other_room,
        held=held,
        proposal=proposal,
    )


@pytest.fixture
def acme(db):
    return make_org("Acme")


@pytest.fixture
def globex(db):
    return make_org("Globex")


@pytest.fixture
def superuser(db):
    return factories.user(username="root", is_superuser=True)


@pytest.fixture
def typed_fields(acme):
    """One custom field of each type on Acme's event, keyed by type."""
    fields = {}
    for kind in CustomFieldType:
        choices = ["Red", "Green", "Blue"] if kind in ("dropdown", "multiselect") else ()
        fields[kind.value] = factories.custom_field(
            event=acme.event, field_type=kind, label=f"My {kind.label}", choices=choices
        )
    return fields


def change_url(session) -> str:
    return f"/admin/sessions_app/session/{session.pk}/change/"


def form_data(session, **overrides) -> dict:
    """The POST body the session form would send for ``session`` as it is stored."""

    def fmt(value):
        if value is None:
            return ""
        if isinstance(value, dt.date | dt.time):
            return value.isoformat()
        return value

    data = {
        "loaded_version": session.version,
        "name": session.name,
        "admin_short_name": session.admin_short_name,
        "badge_name": session.badge_name,
        "description": session.description,
        "track": session.track_id or "",
        "location": session.location_id or "",
        "session_type": session.session_type_id or "",
        "duration_minutes": session.duration_minutes,
        "date": fmt(session.date),
        "start_time": fmt(session.start_time),
        "end_time": fmt(session.end_time),
        "timezone": session.timezone,
        "capacity": fmt(session.capacity),
        "sold_out_message": session.sold_out_message,
        "webinar_url": session.webinar_url,
        "selection_control": session.selection_control,
    }
    for flag in (
        "use_event_timezone",
        "locked_when_saved",
        "selected_by_default",
        "prevent_session_conflicts",
        "pinned",
    ):
        if getattr(session, flag):
            data[flag] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
