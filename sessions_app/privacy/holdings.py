"""What an organisation holds about one person, found by their email address across its
events (GDPR art. 15): the registrant and speaker rows with that address, and every record
that names them (messages, history entries, webhook deliveries, imports, reviews, the
admin's log).

One finder serves the export and the erasure (``privacy.erasure``): the erasure changes
exactly the records the export lists, so an export made before an erasure holds every
record the erasure removed or rewrote.

A record names the person where it holds their address or one of their full names
(case-insensitive, as a whole word), or points at one of their rows by id (a message to
them, a history entry that one of them made or that changed one of their seats).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet
from django.db.models.functions import Lower

from sessions_app.models import (
    ImportJob,
    ImportRowOutcome,
    Message,
    Registrant,
    Review,
    SessionChange,
    SessionSpeaker,
    Speaker,
    SpeakerAvailability,
    WebhookAttempt,
    WebhookDelivery,
)

# A name shorter than this is not searched for in other records: it would match too much.
SHORTEST_NAME = 4


@dataclass
class Person:
    """One person in one organisation: the rows with their address, and what identifies
    them in the text of other records."""

    organisation_id: int
    email: str
    registrants: list[Registrant] = field(default_factory=list)
    speakers: list[Speaker] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.registrants or self.speakers)

    @property
    def needles(self) -> list[str]:
        """Their address and full names, as searched for in other records."""
        names = {row.full_name for row in [*self.registrants, *self.speakers]}
        names = {name for name in names if len(name) >= SHORTEST_NAME}
        return [self.email, *sorted(names, key=str.lower)]

    @property
    def pattern(self) -> re.Pattern:
        """Any needle, as a whole word, in any case."""
        words = "|".join(re.escape(n) for n in sorted(self.needles, key=len, reverse=True))
        return re.compile(rf"(?<![\w.@+-])(?:{words})(?![\w@-])", re.IGNORECASE)


def find(*, organisation_id: int, email: str) -> Person:
    """The person with ``email`` in the organisation (no rows: nothing is held)."""
    email = email.strip().lower()
    same = {"lowered": email}
    registrants = list(
        Registrant.objects.annotate(lowered=Lower("email"))
        .filter(event__organisation_id=organisation_id, **same)
        .select_related("event")
        .order_by("event_id", "id")
    )
    speakers = list(
        Speaker.objects.annotate(lowered=Lower("email"))
        .filter(event__organisation_id=organisation_id, **same)
        .select_related("event")
        .order_by("event_id", "id")
    )
    return Person(organisation_id, email, registrants, speakers)


# --- The records that name the person ------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A kind of record: the organisation's rows, the fields that may name a person, and
    which of them are JSON."""

    name: str
    model: type[Model]
    organisation: str  # the lookup to the organisation's id
    fields: tuple[str, ...]
    json_fields: tuple[str, ...] = ()
    # Text fields that hold a JSON document (a webhook's body, as it was signed).
    json_text_fields: tuple[str, ...] = ()

    @property
    def searched(self) -> tuple[str, ...]:
        return self.fields + self.json_fields + self.json_text_fields


PLACES = (
    Place(
        "messages",
        Message,
        "event__organisation_id",
        ("to_email", "to_name", "subject", "body", "last_error"),
        ("context", "log"),
    ),
    Place(
        "history",
        SessionChange,
        "event__organisation_id",
        ("actor_label", "note"),
        ("changes", "state"),
    ),
    Place(
        "webhook_deliveries",
        WebhookDelivery,
        "subscription__organisation_id",
        ("last_error",),
        json_text_fields=("body",),
    ),
    Place(
        "webhook_attempts",
        WebhookAttempt,
        "delivery__subscription__organisation_id",
        ("error",),
    ),
    Place("imports", ImportJob, "event__organisation_id", ("error",), ("rows", "report")),
    Place("import_rows", ImportRowOutcome, "job__event__organisation_id", (), ("refusal",)),
    Place("reviews", Review, "session__event__organisation_id", ("comment", "speaker_comment")),
)


def _mentions(place: Place, person: Person) -> Q:
    """Rows whose text holds a needle (a first sieve: the whole-word test is in Python)."""
    terms = []
    for needle in person.needles:
        # JSON keeps non-ASCII letters escaped on some databases: look for both spellings.
        spellings = {needle, json.dumps(needle)[1:-1]}
        for name in place.searched:
            terms += [Q(**{f"{name}__icontains": spelling}) for spelling in spellings]
    return reduce(or_, terms)


def _pointing(place: Place, person: Person) -> Q | None:
    """Rows that point at one of the person's rows by id."""
    registrant_ids = [r.pk for r in person.registrants]
    speaker_ids = [s.pk for s in person.speakers]
    if place.model is Message:
        return Q(registrant_id__in=registrant_ids) | Q(speaker_id__in=speaker_ids)
    if place.model is SessionChange and registrant_ids:
        keys = [f"registrant.{pk}" for pk in registrant_ids]
        return (
            Q(actor_registrant_id__in=registrant_ids)
            | Q(changes__has_any_keys=keys)
            | Q(action="registrant.erased", changes__registrant_id__in=registrant_ids)
        )
    return None


def _text(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _text(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _text(item)


def dumped(value: Any) -> str:
    """A JSON document as the outbox writes a webhook's body."""
    return json.dumps(value, separators=(",", ":"))


def parsed(text: str) -> Any:
    """A JSON document's value, or the text itself where it is none."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def value_of(row: Model, place: Place, name: str) -> Any:
    value = getattr(row, name)
    return parsed(value) if name in place.json_text_fields else value


def names_person(row: Model, place: Place, person: Person) -> bool:
    pattern = person.pattern
    return any(
        pattern.search(text)
        for name in place.searched
        for text in _text(value_of(row, place, name))
    )


def records(place: Place, person: Person) -> list[Model]:
    """The organisation's rows of ``place`` that name the person or point at their rows."""
    rows = place.model.objects.filter(**{place.organisation: person.organisation_id})
    pointing = _pointing(place, person)
    found = rows.filter(
        _mentions(place, person) | pointing if pointing else _mentions(place, person)
    )
    by_id = set()
    if pointing is not None:
        by_id = set(rows.filter(pointing).values_list("pk", flat=True))
    return [
        row for row in found.order_by("pk") if row.pk in by_id or names_person(row, place, person)
    ]


def admin_log(person: Person) -> QuerySet:
    """The admin's log entries about the person's rows (``object_repr`` names them)."""
    kinds = ContentType.objects.get_for_models(Registrant, Speaker)
    return LogEntry.objects.filter(
        Q(content_type=kinds[Registrant], object_id__in=[str(r.pk) for r in person.registrants])
        | Q(content_type=kinds[Speaker], object_id__in=[str(s.pk) for s in person.speakers])
    ).order_by("pk")


# --- The export ----------------------------------------------------------------------------


def _when(value) -> str | None:
    return None if value is None else value.isoformat()


def _registrant(registrant: Registrant) -> dict[str, Any]:
    return {
        "id": registrant.pk,
        "event_id": registrant.event_id,
        "event": registrant.event.name,
        "first_name": registrant.first_name,
        "last_name": registrant.last_name,
        "email": registrant.email,
        "notices_off": registrant.notices_off,
        "created_at": _when(registrant.created_at),
        "updated_at": _when(registrant.updated_at),
        "selections": [
            {
                "session_id": selection.session_id,
                "session": selection.session.name,
                "state": selection.state,
                "saved_at": _when(selection.saved_at),
            }
            for selection in registrant.selections.select_related("session").order_by("pk")
        ],
    }


def _speaker(speaker: Speaker) -> dict[str, Any]:
    return {
        "id": speaker.pk,
        "event_id": speaker.event_id,
        "event": speaker.event.name,
        **{
            name: getattr(speaker, name)
            for name in ("first_name", "last_name", "email", "company", "job_title", "bio", "links")
        },
        "has_photo": hasattr(speaker, "photo"),
        "sessions": [
            {"id": link.session_id, "name": link.session.name}
            for link in SessionSpeaker.objects.filter(speaker=speaker)
            .select_related("session")
            .order_by("session_id")
        ],
        "availability": [
            {"starts_at": _when(slot.starts_at), "ends_at": _when(slot.ends_at)}
            for slot in SpeakerAvailability.objects.filter(speaker=speaker).order_by("starts_at")
        ],
    }


def _record(row: Model, place: Place) -> dict[str, Any]:
    item: dict[str, Any] = {"id": row.pk}
    for name in place.searched:
        item[name] = value_of(row, place, name)
    for name in ("event_id", "session_id", "kind", "state", "action", "event_type"):
        if hasattr(row, name):
            item[name] = getattr(row, name)
    for name in ("created_at", "sent_at", "started_at"):
        if hasattr(row, name):
            item[name] = _when(getattr(row, name))
    return item


def export(person: Person) -> dict[str, Any]:
    """Everything held about the person, as JSON-ready data: their rows, then every record
    that names them, by kind."""
    data: dict[str, Any] = {
        "email": person.email,
        "registrants": [_registrant(r) for r in person.registrants],
        "speakers": [_speaker(s) for s in person.speakers],
    }
    if not person.found:
        return {**data, **{place.name: [] for place in PLACES}, "admin_log": []}
    for place in PLACES:
        data[place.name] = [_record(row, place) for row in records(place, person)]
    data["admin_log"] = [
        {
            "id": entry.pk,
            "action_time": _when(entry.action_time),
            "object_repr": entry.object_repr,
            "change_message": entry.get_change_message(),
        }
        for entry in admin_log(person)
    ]
    return data


def counts(data: dict[str, Any]) -> dict[str, int]:
    """How many of each kind an export holds (kinds it has none of left out): what its audit
    entry keeps."""
    return {name: len(value) for name, value in data.items() if isinstance(value, list) and value}
