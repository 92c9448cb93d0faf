"""An organisation's retention: its events' registrants erased ``retention_days`` after each
event ends, by housekeeping (``ops.housekeeping.run``), one event per transaction.

For an event that is due, as an erasure on request does for one person
(``privacy.erasure``), without telling webhook subscribers one registrant at a time:

- every registrant is pseudonymised (name ``Erased``, address ``erased-<id>@erased.invalid``,
  no notices, a new page link); seats, waitlist places and counts stay;
- every message of the event (to registrants and speakers) loses its address, name,
  subject, body and log;
- a history entry a registrant made says ``registrant (erased)``; the admin's log of the
  event's registrants names them by id only;
- the event's finished webhook deliveries and finished imports go.

The event is marked (``Event.personal_data_erased_at``) and the erasure recorded as a
``PrivacyRequest`` of kind ``retention`` (counts only), which the staff UI lists beside the
requests. Speakers stay: their names are the programme's.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sessions_app.enums import ImportState, JobState
from sessions_app.models import (
    DeliveryState,
    Event,
    ImportJob,
    Message,
    PrivacyRequest,
    Registrant,
    SessionChange,
    WebhookDelivery,
)
from sessions_app.privacy.erasure import (
    ERASED,
    ERASED_ACTOR,
    forget_admin_log,
    pseudonymise_registrants,
)

logger = logging.getLogger("sessions_app.privacy")

BATCH = 500
WHO = "housekeeping (the organisation's retention)"


def due(today: dt.date) -> list[Event]:
    """The events whose registrants are due to be erased on ``today``. (Adding a column of
    days to a date is not portable between SQLite and PostgreSQL: the events that ended and
    are not erased yet are read, and their dates compared here.)"""
    candidates = (
        Event.objects.filter(
            organisation__retention_days__isnull=False,
            personal_data_erased_at__isnull=True,
            end_date__lt=today,
        )
        .select_related("organisation")
        .order_by("end_date", "pk")
    )
    return [
        event
        for event in candidates
        if event.end_date + dt.timedelta(days=event.organisation.retention_days) < today
    ]


def erase_event(event: Event) -> dict[str, int]:
    """Erase the event's registrants and messages (see the module); how many of each."""
    done: dict[str, int] = {}
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.personal_data_erased_at is not None:
            return {}  # another worker did it
        now = timezone.now()
        ids = list(Registrant.objects.filter(event=event).values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            pseudonymise_registrants(
                list(Registrant.objects.filter(pk__in=ids[start : start + BATCH])), now
            )
        done["registrants"] = len(ids)
        done["messages"] = (
            Message.objects.filter(event=event)
            .exclude(to_email="", to_name="", body="")
            .update(to_email="", to_name="", subject=ERASED, body="", context={}, log=[])
        )
        done["history"] = (
            SessionChange.objects.filter(event=event, actor_registrant_id__isnull=False)
            .exclude(actor_label=ERASED_ACTOR)
            .update(actor_label=ERASED_ACTOR)
        )
        kind = ContentType.objects.get_for_model(Registrant)
        done["admin_log"] = forget_admin_log(
            LogEntry.objects.filter(content_type=kind, object_id__in=[str(i) for i in ids])
        )
        done["webhook_deliveries"] = (
            WebhookDelivery.objects.filter(
                change_id__in=SessionChange.objects.filter(event=event).values("pk"),
                state__in=[DeliveryState.DELIVERED, DeliveryState.FAILED],
            )
            .delete()[1]
            .get(WebhookDelivery._meta.label, 0)
        )
        done["imports"] = (
            ImportJob.objects.filter(
                Q(event=event), state__in=[ImportState.DONE, ImportState.FAILED]
            )
            .delete()[1]
            .get(ImportJob._meta.label, 0)
        )
        Event.objects.filter(pk=event.pk).update(personal_data_erased_at=now)
        PrivacyRequest.objects.create(
            organisation_id=event.organisation_id, event=event,
            kind=PrivacyRequest.Kind.RETENTION, state=JobState.DONE, requested_by=WHO,
            counts={k: v for k, v in done.items() if v}, finished_at=now,
        )  # fmt: skip
    return done


def run(today: dt.date | None = None) -> dict[str, int]:
    """Erase every event that is due; how many events and registrants."""
    today = today or timezone.localdate()
    events = registrants = 0
    for event in due(today):
        done = erase_event(event)
        if done:
            events += 1
            registrants += done["registrants"]
            logger.info("retention: event %s erased: %s", event.pk, done)
    return {"events erased": events, "registrants erased": registrants}
