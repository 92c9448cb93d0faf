"""The attempts that deliver a webhook: sign the body, send it, log the answer, retry.

Deliveries are made by ``sessions_app.webhooks.outbox`` from the history rows; each attempt
is the task ``deliver_webhook``, run by the worker, which calls ``delivery_attempt``. The
request itself goes through ``transport`` (timeouts and the receiver address guard).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from sessions_app.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from sessions_app.webhooks import sealing, transport


def signature(secret: str, body: bytes) -> str:
    """``X-Webhook-Signature``: the hex HMAC-SHA256 of the body, keyed with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_retry(*, delivery_id: int, organisation_id: int | None = None) -> bool:
    """Staff: try a failed delivery again now (a new series of attempts). False when it is
    not failed or its subscription is off."""
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.select_for_update().filter(
            pk=delivery_id, state=DeliveryState.FAILED, subscription__active=True
        )
        if organisation_id is not None:
            deliveries = deliveries.filter(subscription__organisation_id=organisation_id)
        delivery = deliveries.first()
        if delivery is None:
            return False
        now = timezone.now()
        delivery.state = DeliveryState.PENDING
        # The day of retries counts from now.
        delivery.created_at = delivery.next_attempt_at = now
        delivery.save(update_fields=["state", "created_at", "next_attempt_at"])
        deliver_webhook.enqueue(delivery.pk)
    return True


# --- Attempts -------------------------------------------------------------------------------


def _retry_delay(attempt: int) -> float:
    delays = settings.WEBHOOKS["RETRY_DELAYS"]
    return float(delays[min(attempt, len(delays)) - 1])


def _begin(delivery_id: int) -> tuple[WebhookDelivery, WebhookAttempt, str] | str:
    config = settings.WEBHOOKS
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "gone"
        if delivery.state != DeliveryState.PENDING:
            return "done already"
        if delivery.locked_until is not None and delivery.locked_until > now:
            return "running in another worker"
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return "not due yet"
        subscription = delivery.subscription
        if not subscription.active:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = "Not sent: the subscription is switched off."
            delivery.save(update_fields=["state", "next_attempt_at", "last_error"])
            return "subscription off"
        delivery.attempt_count += 1
        delivery.locked_until = now + dt.timedelta(seconds=config["LEASE_SECONDS"])
        delivery.save(update_fields=["attempt_count", "locked_until"])
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=delivery.attempt_count, started_at=now
        )
        return delivery, attempt, sealing.unseal(subscription.sealed_secret)


def _switch_off(subscription: WebhookSubscription, now: dt.datetime, last_error: str) -> None:
    subscription.active = False
    subscription.disabled_at = now
    since = subscription.failing_since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    subscription.disabled_reason = (
        f"Switched off: every delivery failed since {since}. Last error: {last_error}"
    )[:500]
    subscription.save(update_fields=["active", "disabled_at", "disabled_reason", "updated_at"])
    subscription.deliveries.filter(state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED,
        next_attempt_at=None,
        locked_until=None,
        last_error="Not sent: the subscription was switched off.",
    )


def _finish(delivery_id: int, attempt: WebhookAttempt, answer: transport.Answer) -> str:
    config = settings.WEBHOOKS
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription")
            .get(pk=delivery_id)
        )
        WebhookAttempt.objects.filter(pk=attempt.pk).update(
            finished_at=now,
            status_code=answer.status_code,
            duration_ms=answer.duration_ms,
            error=answer.error[:500],
        )
        if delivery.state != DeliveryState.PENDING:
            return "done already"
        # None: a worker that took this attempt for lost has queued the next one.
        ours = delivery.locked_until is not None
        delivery.locked_until = None
        delivery.last_status_code = answer.status_code
        delivery.last_duration_ms = answer.duration_ms
        delivery.last_error = answer.error[:500]
        subscription = WebhookSubscription.objects.select_for_update().get(
            pk=delivery.subscription_id
        )
        if answer.ok:
            delivery.state = DeliveryState.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            if subscription.failing_since is not None:
                subscription.failing_since = None
                subscription.save(update_fields=["failing_since", "updated_at"])
            outcome = "delivered"
        else:
            if subscription.failing_since is None:
                subscription.failing_since = attempt.started_at
                subscription.save(update_fields=["failing_since", "updated_at"])
            retry_for = dt.timedelta(seconds=config["RETRY_FOR_SECONDS"])
            if now - subscription.failing_since >= dt.timedelta(
                seconds=config["DISABLE_AFTER_SECONDS"]
            ):
                delivery.state = DeliveryState.FAILED
                delivery.next_attempt_at = None
                _switch_off(subscription, now, delivery.last_error or "no answer")
                outcome = "failed; subscription switched off"
            elif now - delivery.created_at >= retry_for:
                delivery.state = DeliveryState.FAILED
                delivery.next_attempt_at = None
                outcome = "failed for good"
            elif ours:
                delivery.next_attempt_at = now + dt.timedelta(
                    seconds=_retry_delay(delivery.attempt_count)
                )
                deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
                outcome = "failed; retry queued"
            else:
                outcome = "failed; retry already queued"
        delivery.save(
            update_fields=[
                "state",
                "locked_until",
                "last_status_code",
                "last_duration_ms",
                "last_error",
                "delivered_at",
                "next_attempt_at",
            ]
        )
    return outcome


def delivery_attempt(*, delivery_id: int) -> str:
    """One attempt of a delivery, if it is due: what happened, in a few words.

    Side effects in order: the attempt is logged as started and the delivery leased (one
    commit, so a worker that dies mid-attempt leaves a trace); the POST, signed; then the
    attempt's outcome, and the delivery delivered, queued again after the backoff, or
    failed after RETRY_FOR_SECONDS. A subscription failing for DISABLE_AFTER_SECONDS is
    switched off with the reason its staff see.
    """
    begun = _begin(delivery_id)
    if isinstance(begun, str):
        return begun
    delivery, attempt, secret = begun
    body = delivery.body.encode()
    answer = transport.post(
        delivery.subscription.url,
        body,
        {
            "X-Webhook-Id": str(delivery.change_id),
            "X-Webhook-Event": delivery.event_type,
            "X-Webhook-Attempt": str(attempt.number),
            "X-Webhook-Signature": signature(secret, body),
        },
        timeout=settings.WEBHOOKS["TIMEOUT_SECONDS"],
    )
    return _finish(delivery.pk, attempt, answer)


@task(queue_name="webhooks")
def deliver_webhook(delivery_id: int) -> str:
    """One attempt of a webhook delivery (it re-queues itself after a failure)."""
    return delivery_attempt(delivery_id=delivery_id)
