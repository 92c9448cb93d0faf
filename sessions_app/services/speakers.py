"""Speakers of an event. Who speaks in a session is the session's own field
(``speaker_ids``), written through ``session_update`` like every other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sessions_app import validators
from sessions_app.models import Event, SessionSpeaker, Speaker, SpeakerAvailability

SPEAKER_WRITABLE_FIELDS = frozenset(
    {"first_name", "last_name", "email", "company", "job_title", "bio"}
)


def _apply(speaker: Speaker, data: Mapping[str, Any]) -> None:
    unknown = set(data) - SPEAKER_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not writable speaker fields: {', '.join(sorted(unknown))}")
    for name, value in data.items():
        # The length is that of what was sent (as the API schema's maxLength says), not of
        # what is left once the ends are stripped.
        limit = Speaker._meta.get_field(name).max_length
        if limit and isinstance(value, str) and len(value) > limit:
            raise ValidationError(
                {
                    name: ValidationError(
                        f"Ensure this value has at most {limit} characters (it has {len(value)}).",
                        code="max_length",
                    )
                }
            )
        setattr(speaker, name, value.strip() if name != "bio" else value)
    speaker.full_clean(exclude=["event"])


def _set_availability(speaker: Speaker, windows) -> None:
    """Replace the speaker's availability: ``[(starts_at, ends_at), ...]`` (aware), each
    ending after it starts and within a year of the event's dates; an empty list: available
    at any time."""
    event = speaker.event
    for starts_at, ends_at in windows:
        validators.validate_near_event(
            field="availability",
            moments=(starts_at, ends_at),
            start_date=event.start_date,
            end_date=event.end_date,
        )
        if ends_at <= starts_at:
            raise ValidationError(
                {
                    "availability": ValidationError(
                        "Each time must end after it starts.", code="invalid_time_range"
                    )
                }
            )
    SpeakerAvailability.objects.filter(speaker=speaker).delete()
    SpeakerAvailability.objects.bulk_create(
        SpeakerAvailability(speaker=speaker, starts_at=lo, ends_at=hi) for lo, hi in windows
    )


def speaker_create(
    *, event_id: int, data: Mapping[str, Any], availability: list | None = None
) -> Speaker:
    """A speaker of the event, validated (a first name is required); with ``availability``,
    the times they can be there."""
    with transaction.atomic():
        speaker = Speaker(event=Event.objects.get(pk=event_id))
        _apply(speaker, data)
        speaker.save()
        if availability is not None:
            _set_availability(speaker, availability)
    return speaker


def speaker_update(
    *,
    speaker_id: int,
    data: Mapping[str, Any],
    organisation_id: int | None = None,
    availability: list | None = None,
) -> Speaker:
    """Change the given fields; the speaker's sessions answer the new names at once. With
    ``availability``, it replaces their times (it binds sessions that move afterwards)."""
    with transaction.atomic():
        speakers = Speaker.objects.select_for_update(no_key=True)
        if organisation_id is not None:
            speakers = speakers.filter(event__organisation_id=organisation_id)
        speaker = speakers.get(pk=speaker_id)
        _apply(speaker, data)
        speaker.updated_at = timezone.now()
        speaker.save()
        if availability is not None:
            _set_availability(speaker, availability)
    return speaker


def speaker_delete(*, speaker_id: int, organisation_id: int | None = None) -> None:
    """Delete a speaker who speaks in no session; one who does is refused (``ValidationError``
    code ``speaker_in_sessions``): take them off their sessions first, which their
    sessions' history then records."""
    with transaction.atomic():
        speakers = Speaker.objects.select_for_update()
        if organisation_id is not None:
            speakers = speakers.filter(event__organisation_id=organisation_id)
        speaker = speakers.get(pk=speaker_id)
        # Under the row lock: a session write adding this speaker waits for us, or went first
        # and is seen here.
        session_ids = list(
            SessionSpeaker.objects.filter(speaker=speaker)
            .order_by("session_id")
            .values_list("session_id", flat=True)[:11]
        )
        if session_ids:
            shown = ", ".join(f"#{pk}" for pk in session_ids[:10])
            raise ValidationError(
                {
                    "session_ids": ValidationError(
                        f"{speaker.full_name} speaks in session {shown}"
                        f"{' and more' if len(session_ids) > 10 else ''}; take them off "
                        "their sessions first.",
                        code="speaker_in_sessions",
                        params={"session_ids": session_ids[:10]},
                    )
                }
            )
        speaker.delete()
