"""Webhook subscriptions and the attempts that deliver to them.

Subscriptions are written here, from the API and the admin alike. Deliveries are made by
``sessions_app.outbox`` from the history rows; each attempt is a task in the worker
(``sessions_app.tasks.deliver_webhook``) that calls ``delivery_attempt``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sessions_app import outbound, outbox, sealing, validators
from sessions_app.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

WEBHOOK_WRITABLE_FIELDS = frozenset({"url", "events", "description", "active", "secret"})
SECRET_MIN, SECRET_MAX = 16, 200


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes) -> str:
    """``X-Webhook-Signature``: the hex HMAC-SHA256 of the body, keyed with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _validate_secret(value: Any) -> str:
    if (
        not isinstance(value, str)
        or not SECRET_MIN <= len(value) <= SECRET_MAX
        or not value.isascii()
        or not value.isprintable()
        or " " in value
    ):
        raise ValidationError(
            {
                "secret": ValidationError(
                    f"A secret is {SECRET_MIN} to {SECRET_MAX} printable ASCII characters "
                    "without spaces; leave it out to get one made for you.",
                    code="invalid",
                )
            }
        )
    return value


def _apply(subscription: WebhookSubscription, data: Mapping[str, Any]) -> str | None:
    """Set the sent fields; the new plain secret when one was set."""
    unknown = set(data) - WEBHOOK_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not writable webhook fields: {', '.join(sorted(unknown))}")
    errors: dict[str, list] = {}
    plain = None
    for name, value in data.items():
        try:
            if name == "url":
                validators.validate_webhook_url(url=value, address_allowed=outbound.address_allowed)
                subscription.url = value
            elif name == "events":
                validators.validate_webhook_events(events=value)
                subscription.events = list(dict.fromkeys(value))
            elif name == "secret":
                plain = _validate_secret(value)
                subscription.sealed_secret = sealing.seal(plain)
            elif name == "active":
                if value and not subscription.active and subscription.pk is not None:
                    # Switched on again: a clean slate for the failure clock, and the
                    # changes from now on (not those made while it was off).
                    subscription.failing_since = subscription.disabled_at = None
                    subscription.disabled_reason = ""
                    subscription.since_change_id = outbox.settled_now()
                subscription.active = bool(value)
            else:
                subscription.description = value
        except ValidationError as exc:
            for field, field_errors in exc.error_dict.items():
                errors.setdefault(field, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)
    subscription.full_clean(exclude=["organisation", "url", "events", "sealed_secret"])
    return plain


def webhook_create(
    *, organisation_id: int, data: Mapping[str, Any]
) -> tuple[WebhookSubscription, str]:
    """A subscription and its plain secret (made when ``data`` has none), to show once.

    It receives the changes committed from now on (and a change committed in the seconds
    before, while an earlier one may still commit, may come too).
    """
    missing = [name for name in ("url", "events") if name not in data]
    if missing:
        raise ValidationError(
            {name: ValidationError(f"Send {name}.", code="required") for name in missing}
        )
    subscription = WebhookSubscription(organisation_id=organisation_id)
    plain = _apply(subscription, {"secret": new_secret(), **data})
    subscription.since_change_id = outbox.settled_now()
    subscription.save()
    return subscription, plain


def webhook_update(
    *, webhook_id: int, organisation_id: int, data: Mapping[str, Any]
) -> tuple[WebhookSubscription, str | None]:
    """Change the sent fields (``active: 1`` switches a failed subscription on again);
    the new plain secret if one was sent."""
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().get(
            pk=webhook_id, organisation_id=organisation_id
        )
        plain = _apply(subscription, data)
        subscription.save()
    return subscription, plain


def webhook_delete(*, webhook_id: int, organisation_id: int) -> None:
    """Delete the subscription with its delivery log."""
    WebhookSubscription.objects.get(pk=webhook_id, organisation_id=organisation_id).delete()


def delivery_retry(*, delivery_id: int, organisation_id: int | None = None) -> bool:
    """Staff: try a failed delivery again now (a new series of attempts). False when it is
    not failed or its subscription is off."""
    from sessions_app import tasks

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
        tasks.deliver_webhook.enqueue(delivery.pk)
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


def _finish(delivery_id: int, attempt: WebhookAttempt, answer: outbound.Answer) -> str:
    from sessions_app import tasks

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
                tasks.deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
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
    answer = outbound.post(
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
