"""Erasing one person's data in an organisation on request (GDPR art. 17), in the
background worker, in one transaction.

What it does, in order (``holdings.find`` decides who and where):

1. Every record that names the person (``holdings.PLACES``): their address and full names
   are replaced by ``[erased]`` wherever they appear (a history entry's texts and the
   session it kept, a webhook's body, an import's rows, a review's comment); a message to
   them loses its address, name, subject and body; a history entry they made keeps that
   a registrant made it (``registrant (erased)``), not who. The admin's log of their rows
   names the row by its id only.
2. Their registrant rows are pseudonymised: name ``Erased``, address
   ``erased-<id>@erased.invalid``, no notices, a new page link. Their seats, waitlist
   places and interests stay, so every count and seat stays right; one history entry per
   registrant (``registrant.erased``, ids only) tells the webhook subscribers.
3. Their speaker rows lose name, address, company, job title, biography, links and photo
   (the sessions keep a speaker called ``Erased``); the agenda shows it at once. Session
   exports of those events made before are removed; their speaker account goes where no
   organisation keeps a speaker with the address.

The request's row (``PrivacyRequest``) is the audit entry: who asked, when, and how many
records of each kind were erased; the address is blanked once the erasure is done.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Model
from django.db.models.functions import Lower
from django.utils import timezone
from django_tasks import task

from sessions_app.enums import HistoryAction, JobState
from sessions_app.models import (
    ExportJob,
    Message,
    PrivacyRequest,
    Registrant,
    SessionChange,
    Speaker,
    SpeakerPhoto,
)
from sessions_app.models.attendance import new_access_key
from sessions_app.privacy import holdings
from sessions_app.privacy.holdings import Person, Place

logger = logging.getLogger("sessions_app.privacy")

ERASED = "[erased]"
ERASED_NAME = "Erased"
ERASED_ACTOR = "registrant (erased)"
NO_SESSION = 0  # the session id of a history entry about no session


def erased_email(registrant_id: int) -> str:
    return f"erased-{registrant_id}@erased.invalid"


REGISTRANT_FIELDS = ["first_name", "last_name", "email", "notices_off", "access_key", "updated_at"]


def pseudonymise_registrants(registrants: list[Registrant], now) -> None:
    """Name ``Erased``, address ``erased-<id>@erased.invalid``, no notices, a new page link;
    their seats stay (one UPDATE for the lot). Shared with ``privacy.retention``."""
    for row in registrants:
        row.first_name, row.last_name, row.email = ERASED_NAME, "", erased_email(row.pk)
        row.notices_off, row.access_key, row.updated_at = True, new_access_key(), now
    Registrant.objects.bulk_update(registrants, REGISTRANT_FIELDS)


def forget_admin_log(entries) -> int:
    """The admin's log entries about erased rows name the row by its id only."""
    count = 0
    for entry in entries.select_related("content_type"):
        entry.object_repr = f"{entry.content_type.name} #{entry.object_id} ({ERASED})"
        entry.change_message = ""
        entry.save(update_fields=["object_repr", "change_message"])
        count += 1
    return count


# In a record that holds the person's address (an imported row, a refusal), these name them
# too, whatever they hold.
PERSONAL_KEYS = frozenset(
    {"first_name", "last_name", "name", "full_name", "email", "company", "job_title", "bio"}
)


def scrub(value: Any, pattern: re.Pattern, email: str = "") -> Any:
    """``value`` with every match of ``pattern`` replaced, in strings, keys and lists; in a
    dict that holds ``email`` as a value, the values of ``PERSONAL_KEYS`` too."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, dict):
        theirs = bool(email) and any(
            isinstance(item, str) and item.strip().lower() == email for item in value.values()
        )
        return {
            scrub(key, pattern, email): (
                ERASED
                if theirs and key in PERSONAL_KEYS and isinstance(item, str) and item
                else scrub(item, pattern, email)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item, pattern, email) for item in value]
    return value


def _rewrite(row: Model, place: Place, person: Person) -> list[str]:
    """Scrub ``row``'s fields of the person; the names of the fields changed."""
    pattern = person.pattern
    changed = []
    if isinstance(row, Message) and (
        row.registrant_id in {r.pk for r in person.registrants}
        or row.speaker_id in {s.pk for s in person.speakers}
        or row.to_email.lower() == person.email
    ):
        row.to_email, row.to_name, row.subject, row.body, row.context = "", "", ERASED, "", {}
        changed += ["to_email", "to_name", "subject", "body", "context"]
    if isinstance(row, SessionChange) and row.actor_registrant_id in {
        r.pk for r in person.registrants
    }:
        row.actor_label = ERASED_ACTOR
        changed.append("actor_label")
    for name in place.searched:
        before = getattr(row, name)
        if name in place.json_text_fields:
            value = holdings.parsed(before)
            after = (
                holdings.dumped(scrub(value, pattern, person.email))
                if not isinstance(value, str)
                else pattern.sub(ERASED, before)
            )
        else:
            after = scrub(before, pattern, person.email)
        if after != before:
            setattr(row, name, after)
            changed.append(name)
    return sorted(set(changed))


def erase(*, organisation_id: int, email: str, requested_by: str) -> dict[str, int]:
    """Erase the person with ``email`` in the organisation (see the module); how many
    records of each kind were erased (empty: nobody has the address)."""
    done: Counter[str] = Counter()
    with transaction.atomic():
        person = holdings.find(organisation_id=organisation_id, email=email)
        if not person.found:
            return {}
        # Their rows locked: a concurrent write to them waits for the erasure.
        list(
            Registrant.objects.select_for_update().filter(pk__in=[r.pk for r in person.registrants])
        )
        list(Speaker.objects.select_for_update().filter(pk__in=[s.pk for s in person.speakers]))
        for place in holdings.PLACES:
            for row in holdings.records(place, person):
                fields = _rewrite(row, place, person)
                if fields:
                    row.save(update_fields=fields)
                    done[place.name] += 1
        if forgotten := forget_admin_log(holdings.admin_log(person)):
            done["admin_log"] += forgotten
        now = timezone.now()
        pseudonymise_registrants(list(person.registrants), now)
        SessionChange.objects.bulk_create(
            SessionChange(
                session_id=NO_SESSION,
                event_id=registrant.event_id,
                action=HistoryAction.REGISTRANT_ERASED,
                changes={"registrant_id": registrant.pk},
                version=0,
                actor_label=requested_by,
            )
            for registrant in person.registrants
        )
        if person.registrants:
            done["registrants"] += len(person.registrants)
        for speaker in person.speakers:
            Speaker.objects.filter(pk=speaker.pk).update(
                first_name=ERASED_NAME, last_name="", email="", company="", job_title="",
                bio="", links="", updated_at=now,
            )  # fmt: skip
            done["speaker_photos"] += SpeakerPhoto.objects.filter(speaker_id=speaker.pk).delete()[0]
            done["speakers"] += 1
        events = {s.event_id for s in person.speakers}
        if events:
            files = ExportJob.objects.filter(content__isnull=False).values_list("pk", "event_ids")
            removed = [pk for pk, event_ids in files if events & set(event_ids)]
            if removed:
                done["session_exports"] += ExportJob.objects.filter(pk__in=removed).update(
                    content=None, error="Removed: a person's data in it was erased on request."
                )
            done["speaker_accounts"] += _speaker_account_gone(person.email)
    return dict(done)


def _speaker_account_gone(email: str) -> int:
    """The speaker account of the address, where no organisation keeps a speaker with it
    (a staff account is never touched)."""
    if Speaker.objects.annotate(lowered=Lower("email")).filter(lowered=email).exists():
        return 0
    accounts = get_user_model().objects.annotate(lowered=Lower("email"))
    return (
        accounts.filter(lowered=email, is_staff=False, is_superuser=False)
        .delete()[1]
        .get(get_user_model()._meta.label, 0)
    )


# --- The request, in the background ----------------------------------------------------------


def start(*, organisation_id: int, email: str, requested_by: str) -> PrivacyRequest:
    """An erasure of ``email``'s data in the organisation, queued for the worker."""
    request = PrivacyRequest.objects.create(
        organisation_id=organisation_id,
        kind=PrivacyRequest.Kind.ERASURE,
        requested_by=requested_by[:255],
        email=email.strip().lower(),
    )
    erase_person.enqueue(request.pk)
    return request


def run(request_id: int) -> str:
    with transaction.atomic():
        request = (
            PrivacyRequest.objects.select_for_update()
            .filter(pk=request_id, kind=PrivacyRequest.Kind.ERASURE, state=JobState.QUEUED)
            .first()
        )
        if request is None:
            return "not queued"
        request.state = JobState.RUNNING
        request.save(update_fields=["state"])
    try:
        counts = erase(
            organisation_id=request.organisation_id,
            email=request.email,
            requested_by=request.requested_by,
        )
    except Exception as exc:  # said in the request; the address goes all the same
        logger.exception("privacy: erasure %s failed", request_id)
        PrivacyRequest.objects.filter(pk=request_id).update(
            state=JobState.FAILED, email="", error=f"{type(exc).__name__}"[:500],
            finished_at=timezone.now(),
        )  # fmt: skip
        return JobState.FAILED
    PrivacyRequest.objects.filter(pk=request_id).update(
        state=JobState.DONE, email="", counts=counts, finished_at=timezone.now()
    )
    logger.info("privacy: erasure %s done: %s", request_id, counts or "nobody found")
    return JobState.DONE


@task()
def erase_person(request_id: int) -> str:
    return run(request_id)
