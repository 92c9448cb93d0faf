"""What a schedule must respect beyond the rooms and the speakers' other sessions: when each
speaker can be there, and slots held for something that is not a session."""

from __future__ import annotations

from django.conf import settings
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


class ScheduleProposal(models.Model):
    """A suggestion asked for on the grid: made by the background worker, reviewed, and
    accepted in part or in whole (and undone as one step)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        RUNNING = "running", "Working"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        ACCEPTED = "accepted", "Accepted"
        UNDONE = "undone", "Undone"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="schedule_proposals")
    day = models.DateField(null=True, blank=True)
    move_placed = models.BooleanField(default=False)
    # Only these sessions are placed (or moved); empty: every session of the day or event.
    session_ids = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    progress = models.CharField(max_length=200, blank=True)
    # {"status", "moves": [...], "before": {...}, "after": {...}, "reasons": {...}}
    result = models.JSONField(default=dict, blank=True)
    # What accepting did: {"applied": {id: version after}, "before": {id: move back}, ...}
    accepted = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Suggestion #{self.pk} for {self.event}"


class LocationOpening(models.Model):
    """A time a room is open. A room with none is open whenever the event runs; with some,
    schedule suggestions use it only inside them."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="openings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["location", "starts_at"]
        verbose_name = "opening hours"
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="opening_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.location}: {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%H:%M}"
