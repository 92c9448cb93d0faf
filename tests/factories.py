"""Plain factory functions: each makes one row with sensible defaults, no hidden extras."""

import datetime as dt
import itertools

from django.contrib.auth import get_user_model

from sessions_app import services, validators
from sessions_app.enums import CustomFieldType, MemberRole
from sessions_app.models import (
    CustomField,
    CustomFieldChoice,
    Event,
    Location,
    Membership,
    Organisation,
    Session,
    Track,
)

_seq = itertools.count(1)
EVENT_START = dt.date(2030, 6, 10)


def organisation(**kwargs) -> Organisation:
    n = next(_seq)
    return Organisation.objects.create(
        **{"name": f"Organisation {n}", "slug": f"org-{n}", **kwargs}
    )


def user(*, organisation=None, roles=(), **kwargs):
    n = next(_seq)
    password = kwargs.pop("password", "pass-word-123")
    u = get_user_model().objects.create_user(
        **{"username": f"user{n}", "password": password, "is_staff": True, **kwargs}
    )
    for role in roles:
        Membership.objects.create(organisation=organisation, user=u, role=MemberRole(role))
    return u


def event(**kwargs) -> Event:
    n = next(_seq)
    if "organisation" not in kwargs:
        kwargs["organisation"] = organisation()
    return Event.objects.create(
        **{
            "name": f"Event {n}",
            "slug": f"event-{n}",
            "timezone": "Europe/Berlin",
            "start_date": EVENT_START,
            "end_date": EVENT_START + dt.timedelta(days=2),
            **kwargs,
        }
    )


def track(*, event, **kwargs) -> Track:
    return Track.objects.create(event=event, **{"name": f"Track {next(_seq)}", **kwargs})


def location(*, event, **kwargs) -> Location:
    return Location.objects.create(event=event, **{"name": f"Room {next(_seq)}", **kwargs})


def custom_field(*, event, field_type=CustomFieldType.TEXT, choices=(), **kwargs) -> CustomField:
    field = CustomField.objects.create(
        event=event, field_type=field_type, **{"label": f"Field {next(_seq)}", **kwargs}
    )
    for order, label in enumerate(choices):
        CustomFieldChoice.objects.create(field=field, label=label, sort_order=order)
    return field


def session(*, event, **kwargs) -> Session:
    """A session saved directly (no service, no history): for arranging a test's world."""
    s = Session(event=event, **{"name": f"Session {next(_seq)}", **kwargs})
    if "duration_minutes" not in kwargs:
        # As the session service does: times carry their length.
        times = [
            dt.time.fromisoformat(t) if isinstance(t, str) else t
            for t in (s.start_time, s.end_time)
        ]
        minutes = validators.minutes_between(*times)
        if minutes is not None and minutes > 0:
            s.duration_minutes = minutes
    s.save()
    return s


def scheduled(*, event, day=0, start="10:00", end="11:00", **kwargs) -> Session:
    return session(
        event=event,
        date=event.start_date + dt.timedelta(days=day),
        start_time=dt.time.fromisoformat(start),
        end_time=dt.time.fromisoformat(end),
        **kwargs,
    )


def create_via_service(*, event, actor=services.SYSTEM, **data) -> Session:
    return services.session_create(event=event, data=data, actor=actor)


def api_client(*, organisation, **kwargs):
    from sessions_app.models import ApiClient

    return ApiClient.objects.create(
        organisation=organisation,
        **{
            "name": f"Client {next(_seq)}",
            "client_type": ApiClient.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": ApiClient.GRANT_CLIENT_CREDENTIALS,
            **kwargs,
        },
    )


def registrant(*, event, **kwargs):
    """A registrant saved directly (no service: no included or default seats)."""
    from sessions_app.models import Registrant

    n = next(_seq)
    return Registrant.objects.create(
        event=event,
        **{
            "first_name": f"Ada{n}",
            "last_name": "Lovelace",
            "email": f"ada{n}@example.org",
            **kwargs,
        },
    )


def live(*, event, day=0, start="10:00", end="11:00", **kwargs) -> Session:
    """A live (selectable) session."""
    return scheduled(event=event, day=day, start=start, end=end, session_status="live", **kwargs)


def message(*, event, speaker=None, registrant=None, **kwargs):
    """A held message saved directly (no outbox): to ``speaker`` (an approval) or to
    ``registrant`` (a welcome)."""
    from sessions_app.enums import MessageState, NoticeKind
    from sessions_app.models import Message

    person = registrant or speaker
    return Message.objects.create(
        event=event,
        speaker=speaker,
        registrant=registrant,
        **{
            "kind": NoticeKind.REGISTRANT_WELCOME if registrant else NoticeKind.SPEAKER_APPROVED,
            "state": MessageState.HELD,
            "to_email": getattr(person, "email", "") or "someone@example.org",
            "to_name": getattr(person, "full_name", "Someone"),
            "subject": "Hello",
            "body": "Hello",
            **kwargs,
        },
    )
