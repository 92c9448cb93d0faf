"""Organisations, their members, events, and what an event defines: tracks, locations and
custom fields."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from sessions_app import validators
from sessions_app.enums import (
    CHOICE_FIELD_TYPES,
    CustomFieldType,
    InterestOnPublish,
    MemberRole,
    ProposedProgramme,
)
from sessions_app.models.fields import no_nul as _no_nul
from sessions_app.models.fields import one_line


class Organisation(models.Model):
    name = models.CharField(max_length=200, validators=[_no_nul])
    slug = models.SlugField(max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organisations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Registrants' personal data is erased this many days after an event ends (housekeeping,
    # sessions_app.privacy.retention); null: kept until someone asks.
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Erase each event's registrants and the messages to its people this many "
        "days after the event ends (the seats and counts stay). Empty: keep them.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in an organisation; a user may hold both roles."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=MemberRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.get_role_display()} of {self.organisation}"


class Event(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="events")
    name = models.CharField(max_length=255, validators=[_no_nul])
    slug = models.SlugField(max_length=100)
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="IANA time zone, e.g. Europe/Berlin."
    )
    start_date = models.DateField()
    end_date = models.DateField()
    # The custom field definitions that session writes validate against, kept in step with
    # CustomField and CustomFieldChoice by sessions_app.services.receivers. Every write
    # already reads the event row, so this saves it a query; build_custom_field_schema() is
    # the source.
    custom_field_schema = models.JSONField(default=dict, blank=True, editable=False)
    # How many sessions the event has, kept by database triggers (migration 0009) on every
    # insert and delete of a session, whichever way it comes: lists answer their total from
    # here instead of counting up to 100,000 rows. A session never changes event.
    session_count = models.PositiveIntegerField(default=0, editable=False)
    # Messages to speakers and registrants wait for an organiser to send them (pretalx's
    # outbox), instead of going out at once.
    hold_messages = models.BooleanField(
        default=False,
        help_text="Hold messages to speakers and registrants for review in the outbox "
        "instead of sending them at once.",
    )
    # Before the schedule exists: the approved sessions on the public agenda, and
    # registrants' interest in them (sessions_app.services.attendance).
    proposed_programme = models.CharField(
        max_length=10,
        choices=ProposedProgramme.choices,
        default=ProposedProgramme.OFF,
        help_text="Show the approved sessions that are not on the agenda yet (the proposed "
        "programme) on the public agenda, and let registrants mark their interest in them.",
    )
    # When the organisation's retention erased the event's registrants (null: not yet).
    personal_data_erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    interest_on_publish = models.CharField(
        max_length=10,
        choices=InterestOnPublish.choices,
        default=InterestOnPublish.SEAT,
        help_text="When a session registrants are interested in goes live: seat them first "
        "come first served up to its capacity (the rest wait), or tell them it is bookable.",
    )
    # The sites that may show the agenda in their own pages (sessions_app.public.embed):
    # their origins, and no other, are let read it from a browser (CORS).
    embed_origins = models.TextField(
        blank=True,
        validators=[validators.validate_embed_origins],
        help_text="The websites allowed to show this event's agenda with the embed snippet, "
        "one origin per line (e.g. https://www.acme.example). Empty: none.",
    )

    class Meta:
        ordering = ["start_date", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="event_unique_slug"),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="event_dates_in_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def embed_origin_list(self) -> list[str]:
        return validators.embed_origins(self.embed_origins)

    def allows_embed(self, origin: str | None) -> bool:
        return bool(origin) and origin in self.embed_origin_list()

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if not validators.is_valid_timezone(self.timezone):
            errors["timezone"] = [
                ValidationError(
                    f"{self.timezone!r} is not a known IANA time zone.", code="invalid_timezone"
                )
            ]
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = [
                ValidationError(
                    "The end date cannot be before the start date.", code="invalid_date_range"
                )
            ]
        if errors:
            raise ValidationError(errors)

    @property
    def session_field_definitions(self) -> dict[str, dict[str, Any]]:
        """``{"c_<id>": {"type", "required", "label", "choice_ids"}}`` for validation."""
        return self.custom_field_schema

    def build_custom_field_schema(self) -> dict[str, dict[str, Any]]:
        """The definitions as stored in ``custom_field_schema``, read from the rows (one query)."""
        definitions: dict[str, dict[str, Any]] = {}
        rows = (
            CustomField.objects.filter(event_id=self.pk)
            .order_by("sort_order", "id", "choices__sort_order", "choices__id")
            .values_list("id", "field_type", "required", "label", "choices__id")
        )
        for field_id, field_type, required, label, choice_id in rows:
            definition = definitions.setdefault(
                f"c_{field_id}",
                {"type": field_type, "required": required, "label": label, "choice_ids": []},
            )
            if choice_id is not None:
                definition["choice_ids"].append(choice_id)
        return definitions


class AgendaVersion(models.Model):
    """How many times what the public agenda of ``event`` shows has changed: bumped by
    database triggers (migration 0026) in the transaction of every write to the event, its
    organisation, tracks, rooms and speakers, its live sessions (seats taken included) and
    their speaker links, whichever way the write comes. The agenda, its session pages and
    feeds answer "has it changed?" from this row alone; it only grows, so a version read
    before a page is built never names a different page later. No row yet reads as 0."""

    # No foreign key in the database: deleting an event deletes its sessions, whose triggers
    # may write this row again after the delete took it (SQLite runs them at once). A row
    # left behind names an id that is never handed out again.
    event = models.OneToOneField(
        Event,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="agenda_version",
        db_constraint=False,
    )
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.event_id}@{self.version}"


class Track(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tracks")
    name = models.CharField(max_length=255, validators=[_no_nul])
    color = models.CharField(
        max_length=7,
        default="#3b82f6",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}\Z", "Enter a colour as #rrggbb.")],
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SessionType(models.Model):
    """A kind of session in an event (talk, workshop, lightning talk) and its usual length."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="session_types")
    name = models.CharField(max_length=100, validators=[_no_nul, one_line])
    default_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(validators.DURATION_MAX)],
        help_text="The length a session of this type takes unless it sets its own.",
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "name"], name="session_type_name_once"),
            models.CheckConstraint(
                condition=Q(default_minutes__gte=1, default_minutes__lte=validators.DURATION_MAX),
                name="session_type_minutes_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.default_minutes} min)"


class Location(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=255, validators=[_no_nul])
    capacity = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(validators.CAPACITY_MAX)],
        help_text="Leave empty for no limit.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=0),
                name="location_capacity_non_negative",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.pk and self.capacity is not None:
            over = self.sessions.filter(capacity__gt=self.capacity).order_by("capacity").last()
            if over is not None:
                raise ValidationError(
                    {
                        "capacity": ValidationError(
                            f'Session "{over.name}" (#{over.pk}) already has a capacity of '
                            f"{over.capacity}; lower it first.",
                            code="below_session_capacity",
                        )
                    }
                )


class CustomField(models.Model):
    """A session field that an event defines for itself; on the wire it is ``c_<id>``."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="custom_fields")
    label = models.CharField(max_length=255, validators=[_no_nul])
    field_type = models.CharField(max_length=20, choices=CustomFieldType.choices)
    required = models.BooleanField(default=False)
    sort_order = models.PositiveIntegerField(default=0)
    help_text = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.key})"

    @property
    def key(self) -> str:
        return f"c_{self.pk}"

    @property
    def has_choices(self) -> bool:
        return self.field_type in CHOICE_FIELD_TYPES


class CustomFieldChoice(models.Model):
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="choices")
    label = models.CharField(max_length=255, validators=[_no_nul])
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.label
