"""Speakers of an event. Who speaks in a session is the session's own field
(``speaker_ids``), written through ``session_update`` like every other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sessions_app.models import Event, SessionSpeaker, Speaker

SPEAKER_WRITABLE_FIELDS = frozenset(
    {"first_name", "last_name", "email", "company", "job_title", "bio"}
)


def _apply(speaker: Speaker, data: Mapping[str, Any]) -> None:
    unknown = set(data) - SPEAKER_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not writable speaker fields: {', '.join(sorted(unknown))}")
    for name, value in data.items():
        setattr(speaker, name, value.strip() if name != "bio" else value)
    speaker.full_clean(exclude=["event"])


def speaker_create(*, event_id: int, data: Mapping[str, Any]) -> Speaker:
    """A speaker of the event, validated (a first name is required)."""
    speaker = Speaker(event=Event.objects.get(pk=event_id))
    _apply(speaker, data)
    speaker.save()
    return speaker


def speaker_update(
    *, speaker_id: int, data: Mapping[str, Any], organisation_id: int | None = None
) -> Speaker:
    """Change the given fields; the speaker's sessions answer the new names at once."""
    with transaction.atomic():
        speakers = Speaker.objects.select_for_update(no_key=True)
        if organisation_id is not None:
            speakers = speakers.filter(event__organisation_id=organisation_id)
        speaker = speakers.get(pk=speaker_id)
        _apply(speaker, data)
        speaker.updated_at = timezone.now()
        speaker.save()
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
