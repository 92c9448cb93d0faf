"""The programme committee: an event's review settings, its criteria, its reviewers, who
reviews which proposal, and the reviews. Writes are in ``services.reviews``; the
committee's table is read by ``selectors.reviews``."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone as django_timezone

from sessions_app.models.events import Event
from sessions_app.models.fields import no_nul, one_line
from sessions_app.models.sessions import Session

COMMENT_MAX = 5_000


class ReviewScale(models.TextChoices):
    FIVE = "five", "1 to 5"
    YES_NO = "yes_no", "yes or no"


# The values each scale takes; yes and no count as 1 and 0.
SCALE_VALUES = {ReviewScale.FIVE: (1, 2, 3, 4, 5), ReviewScale.YES_NO: (0, 1)}


class ReviewSettings(models.Model):
    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="review_settings")
    opens_at = models.DateTimeField(help_text="Reviews can be given from then (event's zone).")
    closes_at = models.DateTimeField(help_text="... and changed until then.")
    reviewers_per_proposal = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    blind = models.BooleanField(
        default=False,
        help_text="Hide the speakers (names, bios, emails) from every reviewer of the event.",
    )
    others_first = models.BooleanField(
        "see others' reviews first",
        default=False,
        help_text="A reviewer sees the others' reviews of a proposal before giving their own.",
    )

    class Meta:
        verbose_name = "review settings"
        verbose_name_plural = "review settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="review_window_in_order"
            )
        ]

    def __str__(self) -> str:
        return f"Review settings of {self.event}"

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError(
                {"closes_at": ValidationError("The window must close after it opens.")}
            )

    def is_open(self, now=None) -> bool:
        now = now or django_timezone.now()
        return self.opens_at <= now < self.closes_at


class ReviewCriterion(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="review_criteria")
    name = models.CharField(max_length=100, validators=[no_nul, one_line])
    weight = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    scale = models.CharField(max_length=10, choices=ReviewScale.choices, default=ReviewScale.FIVE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["event", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "name"], name="review_criterion_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} (weight {self.weight}, {self.get_scale_display()})"

    @property
    def top(self) -> int:
        return max(SCALE_VALUES[self.scale])


class Reviewer(models.Model):
    """A member of an event's programme committee."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="committees"
    )
    blind = models.BooleanField(
        default=False,
        help_text="Never sees who the speakers are (also when the event is not blind).",
    )

    class Meta:
        ordering = ["event", "user__username"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="reviewer_once")]

    def __str__(self) -> str:
        return f"{self.user} on {self.event}"


class ReviewAssignment(models.Model):
    """A proposal given to a reviewer; ``abstained`` when they declared a conflict of
    interest (another reviewer then takes it)."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_assignments"
    )
    abstained = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "reviewer"], name="assignment_once")
        ]
        indexes = [models.Index(fields=["reviewer", "session"], name="assignment_reviewer")]

    def __str__(self) -> str:
        return f"{self.session_id} to {self.reviewer_id}"


class Review(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    # Score per criterion, by criterion id (as text).
    scores = models.JSONField(default=dict)
    # The weighted mean of the scores on a 0-1 scale (each criterion's value over its top):
    # kept with the review, so that the committee's table reads one number per review.
    total = models.FloatField()
    comment = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(COMMENT_MAX), no_nul],
        help_text="For the committee.",
    )
    speaker_comment = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(COMMENT_MAX), no_nul],
        help_text="Sent to the speakers with the decision.",
    )
    created_at = models.DateTimeField(default=django_timezone.now)
    updated_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering = ["session_id", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "reviewer"], name="review_once")]
        indexes = [models.Index(fields=["reviewer", "session"], name="review_reviewer")]

    def __str__(self) -> str:
        return f"Review of {self.session_id} by {self.reviewer_id}"


class Comparison(models.Model):
    """A reviewer's judgement that one proposal is better than another (comparison mode);
    one per reviewer and pair, the latest kept."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="comparisons")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comparisons"
    )
    winner = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    loser = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(winner=F("loser")), name="comparison_of_two")
        ]
        indexes = [models.Index(fields=["event", "reviewer"], name="comparison_reviewer")]

    def __str__(self) -> str:
        return f"{self.winner_id} over {self.loser_id} by {self.reviewer_id}"
