"""A session export written by the background worker: a list longer than one request can
write (``admin.tables.EXPORT_MAX_ROWS``) is prepared in the background and then downloaded.

The sessions are the list as its user saw it when they asked (its filters, search and
order, in their organisation), kept as ids; the file is kept in the database, so that any
app server can hand it out, until housekeeping deletes it (``EXPORTS["KEEP_HOURS"]``).
"""

from django.conf import settings
from django.db import models

from sessions_app.enums import ExportFormat, JobState


class ExportJob(models.Model):
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_format = models.CharField(max_length=4, choices=ExportFormat.choices)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    # The list's session ids in its order; emptied once the file is written.
    session_ids = models.JSONField(default=list)
    # The events of those sessions: the file is handed out only while its user may still
    # see every one of them (a member who left the organisation may not).
    event_ids = models.JSONField(default=list)
    total = models.PositiveIntegerField()
    processed = models.PositiveIntegerField(default=0)
    content = models.BinaryField(null=True, editable=False)
    filename = models.CharField(max_length=100)
    error = models.TextField(blank=True)
    # Written as the worker claims the job and with each chunk: one silent for long lost
    # its worker, and a worker's sweep fails it (a new export is a click away).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="export_job_mine")]

    def __str__(self) -> str:
        return f"{self.get_file_format_display()} export #{self.pk} ({self.total} sessions)"

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)
