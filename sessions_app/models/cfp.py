"""An event's call for proposals: when it is open and what it asks of speakers.

A proposal is a session like any other (``session_create`` writes it, status submitted);
this model holds only the call's own settings. The speaker's side is ``sessions_app.cfp``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone as django_timezone

from sessions_app import validators
from sessions_app.models.events import CustomField, Event, SessionType, Track
from sessions_app.models.fields import no_nul

ABSTRACT_LIMIT = validators.TEXTAREA_MAX
# What a speaker may still change once a proposal is no longer "submitted".
OPEN_AFTER_CHOICES = (("name", "Title"), ("description", "Abstract"))


class CallForProposals(models.Model):
    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="call")
    opens_at = models.DateTimeField(help_text="In the event's time zone.")
    closes_at = models.DateTimeField(help_text="In the event's time zone.")
    introduction = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(10_000), no_nul],
        help_text="Shown above the form: what the event looks for, in plain text.",
    )
    session_types = models.ManyToManyField(
        SessionType,
        blank=True,
        related_name="calls",
        help_text="What a speaker may propose; none: they do not choose.",
    )
    tracks = models.ManyToManyField(
        Track,
        blank=True,
        related_name="calls",
        help_text="Tracks a speaker may pick; none: they do not choose.",
    )
    fields = models.ManyToManyField(
        CustomField, blank=True, related_name="calls", help_text="Custom fields to ask."
    )
    required_fields = models.ManyToManyField(
        CustomField,
        blank=True,
        related_name="+",
        help_text="Of the fields asked, those a speaker must answer.",
    )
    abstract_min = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(ABSTRACT_LIMIT)], help_text="Characters."
    )
    abstract_max = models.PositiveIntegerField(
        default=2000,
        validators=[MaxValueValidator(ABSTRACT_LIMIT)],
        help_text=f"Characters, at most {ABSTRACT_LIMIT:,}.",
    )
    open_after = models.JSONField(
        default=list,
        blank=True,
        help_text="What speakers may still edit once their proposal is decided.",
    )
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)

    class Meta:
        verbose_name = "call for proposals"
        verbose_name_plural = "calls for proposals"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="call_closes_after_it_opens"
            ),
            models.CheckConstraint(
                condition=Q(abstract_max__gte=F("abstract_min")), name="call_abstract_limits"
            ),
        ]

    def __str__(self) -> str:
        return f"Call for proposals of {self.event}"

    def clean(self) -> None:
        errors = {}
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = ValidationError(
                "The call must close after it opens.", code="invalid_time_range"
            )
        limits = (self.abstract_min, self.abstract_max)
        if None not in limits and limits[1] < limits[0]:
            errors["abstract_max"] = ValidationError(
                "The longest abstract cannot be shorter than the shortest.", code="invalid"
            )
        known = {name for name, _label in OPEN_AFTER_CHOICES}
        if not isinstance(self.open_after, list) or not set(self.open_after) <= known:
            errors["open_after"] = ValidationError("Choose from the title and the abstract.")
        if errors:
            raise ValidationError(errors)

    def is_open(self, now=None) -> bool:
        now = now or django_timezone.now()
        return self.opens_at <= now < self.closes_at
