"""Messages to speakers and registrants, and the per-event texts they are written from.

A message is made by the notices outbox (``sessions_app.notices.compose``) from the history
row a write leaves, or, for a registrant's welcome, in the transaction that registers them:
so a refused or rolled-back write sends nothing and a committed one is never lost.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone as django_timezone

from sessions_app.enums import MessageState, NoticeKind
from sessions_app.models.attendance import Registrant
from sessions_app.models.events import Event
from sessions_app.models.fields import one_line
from sessions_app.models.people import Speaker
from sessions_app.models.sessions import Session, SessionChange


class MessageTemplate(models.Model):
    """An event's own text for one kind of message; the built-in text where it has none."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="message_templates")
    kind = models.CharField(max_length=30, choices=NoticeKind.choices)
    subject = models.CharField(max_length=200, validators=[one_line])
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["event", "kind"], name="message_template_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.event})"


class Message(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=30, choices=NoticeKind.choices)
    state = models.CharField(max_length=10, choices=MessageState.choices)
    speaker = models.ForeignKey(
        Speaker, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    registrant = models.ForeignKey(
        Registrant, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    session = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    # The history row the message came from (none for a welcome), and the last one merged in.
    change = models.ForeignKey(
        SessionChange, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    last_change_id = models.BigIntegerField(null=True, blank=True)
    to_email = models.EmailField(max_length=254, blank=True)
    to_name = models.CharField(max_length=201, blank=True)
    subject = models.CharField(max_length=300, validators=[one_line])
    body = models.TextField()
    # The placeholders' values, kept so that a merged move is written again from them.
    context = models.JSONField(default=dict, blank=True)
    # An organiser edited the text of a held message: later merges keep their text.
    edited = models.BooleanField(default=False)
    send_after = models.DateTimeField(default=django_timezone.now)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The delivery log: [{"at": iso, "outcome": "sent" | "refused" | ..., "detail": text}]
    log = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["change", "kind", "to_email"],
                condition=models.Q(change__isnull=False),
                name="message_once_per_change_and_person",
            )
        ]
        indexes = [
            models.Index(fields=["state", "send_after"], name="message_due"),
            models.Index(fields=["event", "state", "-created_at"], name="message_outbox"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email or 'no address'}"

    @property
    def message_id(self) -> str:
        """The Message-ID header: the same on every attempt, so receivers can deduplicate."""
        return f"<notice-{self.pk}-{self.event_id}@sessions-manager>"
