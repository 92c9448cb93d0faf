"""The outbox: history rows (``SessionChange``) turned into webhook deliveries.

Every service that changes a session or a selection writes its history row in the
transaction of the change, so a refused or rolled-back write leaves no row and a committed
one is never lost, whatever happens to the process after the commit. The worker
(``manage.py run_worker``) calls ``fan_out`` every ``WEBHOOKS["POLL_SECONDS"]``: it reads
the rows after the ``webhooks`` cursor, makes one delivery per row and subscription that
wants its event type (each with its first attempt queued as a task, in the same
transaction), and moves the cursor on.

Ids are handed out when a row is inserted, not when it is committed, so on PostgreSQL a
row may become visible after a higher one. The cursor therefore stops before a missing id
until the row after it is ``GAP_GRACE_SECONDS`` old (by then the missing id was rolled
back), reading the rows past it again meanwhile; a delivery is made once per row and
subscription all the same (``delivery_once_per_change``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from sessions_app.enums import webhook_event_type
from sessions_app.models import (
    DeliveryState,
    OutboxCursor,
    Session,
    SessionChange,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from sessions_app.selectors import settled_now, settled_through
from sessions_app.webhooks.delivery import deliver_webhook
from sessions_app.wire.representation import session_state

# Named as before the move by concern: log filters and alerts key on it.
logger = logging.getLogger("sessions_app.outbox")

CURSOR = "webhooks"
BATCH = 500


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _session_data(change: SessionChange, session: Session | None) -> dict[str, Any] | None:
    """The session as this change left it: kept with the change since migration 0027.

    A row written before that has no state: the session as it is now stands in for it.
    """
    if change.state is not None:
        return change.state
    return None if session is None else session_state(session)


def _registrants(changes: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for key, value in changes.items():
        prefix, _, number = key.partition(".")
        if prefix == "registrant" and number.isdigit() and isinstance(value, dict):
            found.append(
                {"registrant_id": int(number), "old": value.get("old"), "new": value.get("new")}
            )
    return found


def event_body(change: SessionChange, event_type: str, session: Session | None) -> str:
    """The JSON every subscriber of this change receives, signed as it is."""
    if event_type.startswith("registrant."):
        # An erasure: the ids alone (the row holds nothing else about the person).
        return _body(
            change,
            event_type,
            {
                "registrant_id": change.changes.get("registrant_id"),
                "event_id": change.event_id,
                "actor": change.actor_label,
            },
        )
    data: dict[str, Any] = {
        "session_id": change.session_id,
        "event_id": change.event_id,
        "actor": change.actor_label,
        "note": change.note,
        "changes": change.changes,
    }
    if event_type.startswith("selection."):
        counts = change.changes
        data["registrants"] = _registrants(counts)
        for name in ("seats_taken", "waitlist_count", "interest_count"):
            if isinstance(counts.get(name), dict):
                data[name] = counts[name].get("new")
    else:
        data["version"] = change.version
        data["session"] = (
            None if event_type == "session.deleted" else _session_data(change, session)
        )
    return _body(change, event_type, data)


def _body(change: SessionChange, event_type: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": change.pk,
            "type": event_type,
            "created_at": _utc(change.created_at),
            "data": data,
        },
        separators=(",", ":"),
        sort_keys=False,
    )


@dataclass
class FanOut:
    made: int = 0
    # A full batch was read and the cursor moved on: more rows may be waiting.
    more: bool = False

    def __bool__(self) -> bool:
        return self.more or self.made > 0


def fan_out(*, batch: int = BATCH) -> FanOut:
    """Deliveries for the outbox rows after the cursor; true while there may be more."""
    latest = SessionChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    known = OutboxCursor.objects.filter(name=CURSOR).values_list("last_id", flat=True).first()
    if known is not None and known >= latest:
        return FanOut()  # nothing new: no write, no lock (the common case, every poll)

    made: list[WebhookDelivery] = []
    with transaction.atomic():
        cursor, _ = OutboxCursor.objects.select_for_update().get_or_create(name=CURSOR)
        start = cursor.last_id
        # Rows up to the oldest active subscription's start are owed to nobody (with none,
        # to nobody at all): skip them without reading them.
        floor = WebhookSubscription.objects.filter(active=True).aggregate(
            floor=Min("since_change_id")
        )["floor"]
        # With nobody subscribed, up to what can no longer change: a subscription made
        # next gets the changes committed after it, a slow one with a lower id too.
        cursor.last_id = max(cursor.last_id, settled_now() if floor is None else floor)
        if floor is None:
            cursor.save(update_fields=["last_id", "updated_at"])
            return FanOut()
        rows = list(
            SessionChange.objects.filter(id__gt=cursor.last_id)
            .select_related("event")
            .order_by("id")[:batch]
        )
        if not rows:
            cursor.save(update_fields=["last_id", "updated_at"])
            return FanOut()
        subscriptions = defaultdict(list)
        for subscription in WebhookSubscription.objects.filter(
            active=True, organisation_id__in={row.event.organisation_id for row in rows}
        ):
            subscriptions[subscription.organisation_id].append(subscription)
        wanted = [
            (row, event_type, subscription)
            for row in rows
            if (event_type := webhook_event_type(row.action))
            for subscription in subscriptions.get(row.event.organisation_id, ())
            if subscription.since_change_id < row.pk and subscription.wants(event_type)
        ]
        if wanted:
            done = set(
                WebhookDelivery.objects.filter(
                    change_id__gte=rows[0].pk, change_id__lte=rows[-1].pk
                ).values_list("subscription_id", "change_id")
            )
            wanted = [item for item in wanted if (item[2].pk, item[0].pk) not in done]
        if wanted:
            # Only session rows from before SessionChange.state read their session.
            sessions = Session.objects.select_related("event__organisation").in_bulk(
                {
                    row.session_id
                    for row, event_type, _ in wanted
                    if row.state is None and event_type.startswith("session.")
                }
            )
            now = timezone.now()
            bodies = {
                row.pk: event_body(row, event_type, sessions.get(row.session_id))
                for row, event_type, _ in wanted
            }
            made = WebhookDelivery.objects.bulk_create(
                WebhookDelivery(
                    subscription=subscription,
                    change_id=row.pk,
                    event_type=event_type,
                    body=bodies[row.pk],
                    next_attempt_at=now,
                    created_at=now,
                )
                for row, event_type, subscription in wanted
            )
            for delivery in made:
                deliver_webhook.enqueue(delivery.pk)
        cursor.last_id = settled_through(
            cursor.last_id, [(row.pk, row.created_at) for row in rows], timezone.now()
        )
        cursor.save(update_fields=["last_id", "updated_at"])
    if made:
        logger.info("webhooks: %d deliveries queued", len(made))
    return FanOut(made=len(made), more=len(rows) == batch and cursor.last_id > start)


# A waiting delivery this late has lost its queued attempt (a task row removed by hand, a
# queue pruned too eagerly): it is queued again. A duplicate task finds it done or leased.
OVERDUE = dt.timedelta(minutes=10)


def recover_lost_attempts() -> int:
    """Attempts whose worker died (their lease ran out): logged as lost and queued again;
    and deliveries long overdue, queued again."""
    now = timezone.now()
    overdue = list(
        WebhookDelivery.objects.filter(
            state=DeliveryState.PENDING,
            locked_until__isnull=True,
            next_attempt_at__lt=now - OVERDUE,
        ).values_list("pk", flat=True)[:BATCH]
    )
    if overdue:
        with transaction.atomic():
            WebhookDelivery.objects.filter(pk__in=overdue).update(next_attempt_at=now)
            for pk in overdue:
                deliver_webhook.enqueue(pk)
        logger.warning("webhooks: %d overdue deliveries queued again", len(overdue))
    with transaction.atomic():
        lost = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.PENDING, locked_until__lt=now)
            .values_list("pk", flat=True)[:BATCH]
        )
        if not lost:
            return len(overdue)
        WebhookAttempt.objects.filter(delivery_id__in=lost, finished_at__isnull=True).update(
            finished_at=now, error="The worker stopped during this attempt; it is made again."
        )
        WebhookDelivery.objects.filter(pk__in=lost).update(
            locked_until=None,
            next_attempt_at=now,
            last_error="The worker stopped during the last attempt.",
        )
        for pk in lost:
            deliver_webhook.enqueue(pk)
    logger.warning("webhooks: %d attempts lost with their worker, queued again", len(lost))
    return len(lost) + len(overdue)
