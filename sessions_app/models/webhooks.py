"""Webhook subscriptions of an organisation, the deliveries made to them and each attempt.

The outbox they are fed from is the history (``SessionChange``): every service writes its
row in the transaction of the change. ``sessions_app.webhooks.outbox`` turns new rows into
deliveries, ``sessions_app.webhooks.delivery`` makes the attempts.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone

from sessions_app.models.events import Organisation
from sessions_app.models.fields import no_nul


class WebhookSubscription(models.Model):
    """An organisation's receiver: changes of the listed event types are POSTed to ``url``."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=2000, validators=[no_nul])
    # Event types ("session.updated"), a family ("session.*") or everything ("*").
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True, validators=[no_nul])
    # The signing secret, encrypted with a key derived from SECRET_KEY
    # (sessions_app.webhooks.sealing): signing needs it back, so it cannot be hashed like a
    # client secret.
    sealed_secret = models.TextField(editable=False)
    active = models.BooleanField(default=True)
    # Changes up to this outbox id happened before the subscription existed.
    since_change_id = models.BigIntegerField(default=0, editable=False)
    # The first failed attempt since the last success; a day of failures switches it off.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation_id", "id"]
        verbose_name = "webhook subscription"

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        for pattern in self.events:
            if pattern == "*" or pattern == event_type:
                return True
            if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
                return True
        return False


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one subscription: the exact body signed, and where its attempts stand."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The outbox row (SessionChange id): the event's id, the same in every attempt.
    change_id = models.BigIntegerField()
    event_type = models.CharField(max_length=64)
    body = models.TextField()
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # While an attempt runs: past this, its worker is taken for dead and the attempt is made
    # again (at least once).
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "change_id"], name="delivery_once_per_change"
            )
        ]
        indexes = [
            models.Index(
                fields=["locked_until"],
                name="delivery_running",
                condition=Q(state="pending", locked_until__isnull=False),
            ),
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_waiting",
                condition=Q(state="pending", locked_until__isnull=True),
            ),
            models.Index(fields=["subscription", "-id"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.change_id} to {self.subscription_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: written when it starts, completed when it ends."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=django_timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_unique")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class OutboxCursor(models.Model):
    """How far a consumer of the outbox has read: every row up to ``last_id`` is done."""

    name = models.CharField(max_length=50, unique=True)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_id}"
