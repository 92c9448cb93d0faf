"""What a schedule must respect beyond the rooms and the speakers' other sessions: when each
speaker can be there, and slots held for something that is not a session."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from sessions_app.models.events import Event, Location
from sessions_app.models.fields import no_nul
from sessions_app.models.people import Speaker


class SpeakerAvailability(models.Model):
    """A time the speaker can be there. A speaker with none can be there at any time; with
    some, only inside one of them."""

    speaker = models.ForeignKey(Speaker, on_delete=models.CASCADE, related_name="availabilities")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["speaker", "starts_at"]
        verbose_name_plural = "speaker availabilities"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="availability_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%H:%M}"


class BlockedSlot(models.Model):
    """A time a room (or, without one, every room of the event) holds no session: a break,
    lunch, a slot reserved for a sponsor."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="blocked_slots")
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="blocked_slots",
        help_text="Empty: every room of the event.",
    )
    label = models.CharField(max_length=200, validators=[no_nul])
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["event", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="blocked_slot_ends_after_start"
            )
        ]
        indexes = [models.Index(fields=["event", "starts_at"], name="blocked_slot_by_time")]

    def __str__(self) -> str:
        return self.label
