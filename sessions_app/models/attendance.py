"""Registrants of an event and the sessions they select.

The rules (capacity, waitlist, included, locked, conflicts) live in
``sessions_app.services.attendance``; these models only hold what they decide.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone as django_timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from sessions_app.models.events import Event
from sessions_app.models.fields import no_nul, one_line
from sessions_app.models.sessions import Session

_PAGE_KEY_SALT = "sessions_app.registrant.page"


def new_access_key() -> str:
    return secrets.token_urlsafe(16)


class Registrant(models.Model):
    """Someone registered for an event, who picks sessions on their own page.

    The page link is ``/attend/<id>/<token>/`` where the token is an HMAC of a random
    per-registrant key with ``SECRET_KEY``: unguessable, never stored, so a copy of the
    database alone opens no page, and a new ``access_key`` revokes the old link.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrants")
    first_name = models.CharField(max_length=100, validators=[no_nul, one_line])
    last_name = models.CharField(max_length=100, blank=True, validators=[no_nul, one_line])
    email = models.EmailField(max_length=254)
    access_key = models.CharField(max_length=64, default=new_access_key, editable=False)
    # When the registrant first saved their page: until then sessions selected by default
    # are shown ticked even where the registrant does not hold them.
    # The registrant stopped the notices (from their page or the List-Unsubscribe link).
    notices_off = models.BooleanField(default=False)
    page_saved_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    updated_at = models.DateTimeField(default=django_timezone.now, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "event",
                name="registrant_unique_email",
                violation_error_code="email_taken",
                violation_error_message="This event already has a registrant with this email.",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "last_name", "first_name", "id"], name="registrant_name")
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def page_token(self, secret: str | None = None) -> str:
        return salted_hmac(
            _PAGE_KEY_SALT, f"{self.pk}:{self.access_key}", secret=secret, algorithm="sha256"
        ).hexdigest()[:40]

    def page_token_matches(self, token: str) -> bool:
        """With the current ``SECRET_KEY`` or one of ``SECRET_KEY_FALLBACKS`` (rotation)."""
        secrets_ = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        return any(constant_time_compare(self.page_token(secret), token) for secret in secrets_)

    def get_selection_path(self) -> str:
        return reverse("attend:page", args=[self.pk, self.page_token()])

    def selection_url(self, request=None) -> str:
        path = self.get_selection_path()
        if request is not None:
            return request.build_absolute_uri(path)
        return settings.SITE_URL.rstrip("/") + path


class SelectionState(models.TextChoices):
    SELECTED = "selected", "Selected"
    WAITLISTED = "waitlisted", "Waitlisted"
    # In an approved session that is not on the agenda yet: no seat, no capacity held.
    INTERESTED = "interested", "Interested"


class Selection(models.Model):
    """A registrant's seat in a session, their place on its waitlist, or their interest in
    it before it is on the agenda.

    The waitlist is served first come, first served: in ``saved_at`` order, then id; so are
    interests when the session goes live.
    """

    registrant = models.ForeignKey(Registrant, on_delete=models.CASCADE, related_name="selections")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="selections")
    state = models.CharField(max_length=12, choices=SelectionState.choices)
    saved_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering = ["saved_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["registrant", "session"], name="selection_unique"),
            models.CheckConstraint(
                condition=Q(state__in=SelectionState.values), name="selection_state_known"
            ),
        ]
        indexes = [
            # A session's attendees and its waitlist in order.
            models.Index(fields=["session", "state", "saved_at", "id"], name="selection_queue")
        ]

    def __str__(self) -> str:
        return f"{self.registrant_id} → {self.session_id} ({self.state})"
