"""Webhook subscriptions: made, changed and deleted here, from the API and the admin alike.

A subscription receives the changes committed after it starts (``since_change_id``, the
history's settled point); its secret is sealed at rest (``sealing``) and shown once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from sessions_app import validators
from sessions_app.models import WebhookSubscription
from sessions_app.selectors import settled_now
from sessions_app.webhooks import sealing, transport

WEBHOOK_WRITABLE_FIELDS = frozenset({"url", "events", "description", "active", "secret"})
SECRET_MIN, SECRET_MAX = 16, 200


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


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
                validators.validate_webhook_url(
                    url=value, address_allowed=transport.address_allowed
                )
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
                    subscription.since_change_id = settled_now()
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
    subscription.since_change_id = settled_now()
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
