"""Requests about one person's data in an organisation (GDPR art. 15 and 17): an export of
everything held about them, or its erasure. The rows are the audit trail of those requests
(who asked, when, what was found or done) and hold no personal data: an erasure keeps the
address it is for only until the worker has erased it. Housekeeping's erasures of ended
events (an organisation's retention) are recorded here too, one entry per event."""

from django.db import models
from django.utils import timezone as django_timezone

from sessions_app.enums import JobState
from sessions_app.models.events import Organisation


class PrivacyRequest(models.Model):
    class Kind(models.TextChoices):
        EXPORT = "export", "Export"
        ERASURE = "erasure", "Erasure"
        # Housekeeping's erasure of an ended event's registrants (the organisation's
        # retention): one entry per event.
        RETENTION = "retention", "Retention"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="privacy_requests"
    )
    # The event a retention erased (null for a person's request, which spans the events).
    event = models.ForeignKey(
        "sessions_app.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    # Who asked: a staff user's name or an API client's, as the history names them.
    requested_by = models.CharField(max_length=255)
    # The address an erasure is for, until it is done (then blank, whatever the outcome).
    email = models.EmailField(max_length=254, blank=True, editable=False)
    # What was found (an export) or erased (an erasure), per kind of record: numbers only.
    counts = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "personal data request"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"
