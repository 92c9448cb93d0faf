"""A CSV import, run by the background worker rather than in the request that uploads it.

A file of thousands of rows takes longer than a request may (each row goes through the
services and their rules, a few milliseconds each): in the request, the app server's timeout
would stop it halfway, the rows so far saved and no report shown. The upload stores the
checked rows here; the worker imports them and writes the report; the admin's page of the
import shows its progress and then the report.
"""

from django.conf import settings
from django.db import models

from sessions_app.enums import ImportKind, ImportOutcome, ImportState
from sessions_app.models.events import Event


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
    # worker was killed outright stops beating, and a worker's sweep queues it again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # How many times a worker has taken the job: a run that a worker's stop or loss broke
    # off is queued again to go on from where it was, up to IMPORTS["MAX_RUNS"] runs. A
    # runner whose number is no longer the job's (the sweep gave the job to another) stops.
    runs = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} into {self.event_id}"

    @property
    def finished(self) -> bool:
        return self.state in (ImportState.DONE, ImportState.FAILED)


class ImportRowOutcome(models.Model):
    """What one row of a running import did, written in the transaction of the row's own
    write: so a run broken off anywhere goes on with exactly the first row without one, and
    a row is never imported twice (a second session from one row of the file). Folded into
    the job's report, and deleted, when the import is done."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="outcomes")
    # The row's number in the file (the header is row 1).
    row = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=ImportOutcome.choices)
    # A refused row: its number, what identifies it (id or email) and why.
    refusal = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "row"], name="import_outcome_once_per_row")
        ]

    def __str__(self) -> str:
        return f"row {self.row} of import #{self.job_id}: {self.outcome}"
