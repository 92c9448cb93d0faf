"""A CSV import, run by the background worker rather than in the request that uploads it.

A file of thousands of rows takes longer than a request may (each row goes through the
services and their rules, a few milliseconds each): in the request, the app server's timeout
would stop it halfway, the rows so far saved and no report shown. The upload stores the
checked rows here; the worker imports them and writes the report; the admin's page of the
import shows its progress and then the report.
"""

from django.conf import settings
from django.db import models

from sessions_app.enums import ImportKind, ImportState

from .events import Event


class ImportJob(models.Model):
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=ImportState.choices, default=ImportState.QUEUED)
    # The file's rows as read and checked at upload; emptied once imported.
    rows = models.JSONField(default=list)
    total = models.PositiveIntegerField()
    processed = models.PositiveIntegerField(default=0)
    # What the import did: counts and the refused rows (row number, why).
    report = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    # Written as the worker claims the job and with each progress count: a running job whose
    # worker was killed outright stops beating, and the next worker's sweep fails it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} into {self.event_id}"

    @property
    def finished(self) -> bool:
        return self.state in (ImportState.DONE, ImportState.FAILED)
