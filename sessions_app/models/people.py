"""Speakers of an event and the sessions they speak in (ordered, as billed).

The rule that a speaker is in one place at a time lives with the session's rules
(``Session.clean``, ``validators.validate_speakers_free``); the writes in
``sessions_app.services.speakers`` and the session service.
"""

from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone as django_timezone

from sessions_app.models.events import Event
from sessions_app.models.fields import no_nul, one_line

BIO_MAX = 10_000
LINKS_MAX = 2_000
PHOTO_MAX_BYTES = 2 * 1024 * 1024


class Speaker(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="speakers")
    first_name = models.CharField(max_length=100, validators=[no_nul, one_line])
    last_name = models.CharField(max_length=100, blank=True, validators=[no_nul, one_line])
    email = models.EmailField(max_length=254, blank=True, validators=[no_nul])
    company = models.CharField(max_length=200, blank=True, validators=[no_nul, one_line])
    job_title = models.CharField(max_length=200, blank=True, validators=[no_nul, one_line])
    bio = models.TextField(blank=True, validators=[MaxLengthValidator(BIO_MAX), no_nul])
    # Their own links (site, social profiles), one http(s) URL a line.
    links = models.TextField(blank=True, validators=[MaxLengthValidator(LINKS_MAX), no_nul])
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    updated_at = models.DateTimeField(default=django_timezone.now, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["event", "last_name", "first_name"], name="speaker_event")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class SpeakerPhoto(models.Model):
    """A speaker's photo, checked to be an image within ``PHOTO_MAX_BYTES``
    (services.proposals.read_photo). In the database, so that every app server answers it,
    and in a table of its own, so that reading speakers never reads their photos."""

    speaker = models.OneToOneField(
        Speaker, on_delete=models.CASCADE, primary_key=True, related_name="photo"
    )
    content = models.BinaryField()
    content_type = models.CharField(max_length=20)
    updated_at = models.DateTimeField(default=django_timezone.now)

    def __str__(self) -> str:
        return f"Photo of speaker {self.speaker_id}"


class SessionSpeaker(models.Model):
    """A speaker in a session, at ``position`` in its billing order (0 first).

    The session keeps the same list in ``Session.speaker_ids``, written in the same
    transaction, so answering a session costs no query for it; these rows serve the
    queries that start from the speaker (their sessions, the clash check).
    """

    session = models.ForeignKey("Session", on_delete=models.CASCADE, related_name="speaker_links")
    speaker = models.ForeignKey(Speaker, on_delete=models.CASCADE, related_name="session_links")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["session_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "speaker"], name="session_speaker_once")
        ]
        indexes = [models.Index(fields=["speaker", "session"], name="speaker_sessions")]

    def __str__(self) -> str:
        return f"{self.speaker_id} in {self.session_id}"
