"""Thin models: fields, database constraints, and ``clean()`` that gathers the validators."""

import datetime as dt
import secrets
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    ProhibitNullCharactersValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import F, Q
from django.utils import timezone as django_timezone
from oauth2_provider.models import AbstractApplication

from . import selectors, validators
from .enums import (
    CHOICE_FIELD_TYPES,
    CustomFieldType,
    MemberRole,
    SelectionControl,
    SessionStatus,
)

_no_nul = ProhibitNullCharactersValidator()


class Organisation(models.Model):
    name = models.CharField(max_length=200, validators=[_no_nul])
    slug = models.SlugField(max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organisations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

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
    # CustomField and CustomFieldChoice by sessions_app.receivers. Every write already reads
    # the event row, so this saves it a query; build_custom_field_schema() is the source.
    custom_field_schema = models.JSONField(default=dict, blank=True, editable=False)
    # How many sessions the event has, kept by database triggers (migration 0009) on every
    # insert and delete of a session, whichever way it comes: lists answer their total from
    # here instead of counting up to 100,000 rows. A session never changes event.
    session_count = models.PositiveIntegerField(default=0, editable=False)

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


class ApiClient(AbstractApplication):
    """An OAuth2 client (django-oauth-toolkit application) that belongs to one organisation."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_clients"
    )
    scopes = models.CharField(
        max_length=255,
        default="sessions:read sessions:write",
        help_text="Space-separated scopes this client may ask for.",
    )

    class Meta(AbstractApplication.Meta):
        verbose_name = "API client"
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    @property
    def allowed_scopes(self) -> list[str]:
        return self.scopes.split()


# What held_slot() reads; a session loaded without them is always checked for clashes.
_SLOT_ATTRS = frozenset({"session_status", "location_id", "starts_at", "ends_at"})


def new_secure_id() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


class Session(models.Model):
    # Indexed as (event, id) in Meta.indexes: an event's sessions in id order (API lists).
    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="sessions", db_index=False
    )
    name = models.CharField(max_length=255, validators=[_no_nul])
    admin_short_name = models.CharField(max_length=100, blank=True, validators=[_no_nul])
    badge_name = models.CharField(max_length=100, blank=True, validators=[_no_nul])
    description = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(validators.TEXTAREA_MAX), _no_nul],
    )

    date = models.DateField(null=True, blank=True)
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    use_event_timezone = models.BooleanField(default=True)
    timezone = models.CharField(
        max_length=64, blank=True, help_text="IANA time zone, used when not following the event's."
    )
    # Absolute instants computed from date, times and the effective zone; what clashes compare.
    starts_at = models.DateTimeField(null=True, blank=True, editable=False)
    ends_at = models.DateTimeField(null=True, blank=True, editable=False)

    capacity = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(validators.CAPACITY_MAX)],
        help_text="Leave empty for unlimited.",
    )
    # Seats already taken by attendees; capacity may not drop below it.
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    # Indexed as (location, starts_at) in Meta.indexes, which serves the clash checks too.
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sessions",
        db_index=False,
    )
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    webinar_url = models.CharField(max_length=2000, blank=True, validators=[_no_nul])
    sold_out_message = models.CharField(max_length=500, blank=True, validators=[_no_nul])
    secure_id = models.CharField(max_length=64, unique=True, default=new_secure_id, editable=False)

    session_status = models.CharField(
        max_length=20,
        choices=SessionStatus.choices,
        default=SessionStatus.SUBMITTED,
    )
    locked_when_saved = models.BooleanField(default=False)
    selection_control = models.CharField(
        max_length=20, choices=SelectionControl.choices, default=SelectionControl.OPTIONAL
    )
    selected_by_default = models.BooleanField(default=False)
    prevent_session_conflicts = models.BooleanField(default=False)
    custom_fields = models.JSONField(default=dict, blank=True)

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(default=django_timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["starts_at", "id"]
        permissions = [("review_session", "Can move sessions through the review workflow")]
        indexes = [
            models.Index(fields=["event", "id"], name="session_event_id"),
            models.Index(fields=["location", "starts_at"], name="session_location_start"),
            # The admin's session list order, whole and per event (also the schedule grid's).
            models.Index(fields=["starts_at", "name", "id"], name="session_start_order"),
            models.Index(fields=["event", "starts_at", "name", "id"], name="session_event_start"),
            models.Index(fields=["date"], name="session_date"),
            # Declared here rather than db_index=True, which on PostgreSQL adds a second,
            # LIKE-pattern index that no query uses and every write would maintain.
            models.Index(fields=["session_status"], name="session_status"),
        ]
        # On PostgreSQL migration 0008 adds a trigram index for the search (substring) on
        # name, admin_short_name, badge_name and description.
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__isnull=True)
                | Q(end_time__isnull=True)
                | Q(end_time__gt=F("start_time")),
                name="session_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=F("starts_at")),
                name="session_ends_after_starts",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True)
                | Q(capacity__gte=0, capacity__lte=validators.CAPACITY_MAX),
                name="session_capacity_in_range",
            ),
        ]
        # On PostgreSQL migration 0002 adds the exclusion constraint
        # ``session_no_location_overlap`` (btree_gist) for the holding statuses.

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.compute_instants()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "starts_at", "ends_at"}
        super().save(*args, **kwargs)
        self._remember_stored()

    def _remember_stored(self) -> None:
        # What is stored now, so clean() can refuse event moves and illegal status moves,
        # and check for a clash only when the slot the session holds is new.
        self._stored_event_id = self.event_id
        self._stored_status = self.session_status
        custom = self.custom_fields
        self._stored_custom_values = dict(custom) if isinstance(custom, dict) else {}
        self._stored_slot = self.held_slot() if self.__dict__.keys() >= _SLOT_ATTRS else None

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if {"event_id", "session_status", "custom_fields"} <= instance.__dict__.keys():
            instance._remember_stored()
        return instance

    @property
    def stored_status(self) -> str | None:
        return getattr(self, "_stored_status", None)

    @property
    def effective_timezone(self) -> str:
        return self.event.timezone if self.use_event_timezone else self.timezone

    def in_effective_zone(self, value: dt.datetime | None) -> dt.datetime | None:
        """An instant as local time of the session's effective zone (UTC if that is unknown)."""
        if value is None:
            return None
        zone_name = self.effective_timezone
        zone = zoneinfo.ZoneInfo(zone_name) if validators.is_valid_timezone(zone_name) else dt.UTC
        return value.astimezone(zone)

    def compute_instants(self) -> None:
        """Set ``starts_at``/``ends_at`` from date, times and the effective zone."""
        zone_name = self.effective_timezone
        if (
            self.date is None
            or self.start_time is None
            or self.end_time is None
            or not validators.is_valid_timezone(zone_name)
        ):
            self.starts_at = self.ends_at = None
            return
        zone = zoneinfo.ZoneInfo(zone_name)
        self.starts_at = dt.datetime.combine(self.date, self.start_time, tzinfo=zone)
        self.ends_at = dt.datetime.combine(self.date, self.end_time, tzinfo=zone)

    @property
    def holds_location(self) -> bool:
        return validators.holds_location(
            status=self.session_status, location_id=self.location_id, starts_at=self.starts_at
        )

    def held_slot(self) -> tuple[int, dt.datetime, dt.datetime] | None:
        """``(location_id, starts_at, ends_at)`` while the session holds its location."""
        if not self.holds_location:
            return None
        return (self.location_id, self.starts_at, self.ends_at)

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}

        def check(rule, **context) -> None:
            try:
                rule(**context)
            except ValidationError as exc:
                exc.update_error_dict(errors)

        if self.event_id is None:
            return  # clean_fields() reports the missing event; nothing else can be judged
        # A session never changes event; judging the rest against the other event's dates,
        # rooms and fields would only add misleading errors.
        validators.validate_event_unchanged(
            original_event_id=getattr(self, "_stored_event_id", None), event_id=self.event_id
        )
        event = self.event
        check(
            validators.validate_schedule,
            date=self.date,
            start_time=self.start_time,
            end_time=self.end_time,
        )
        check(
            validators.validate_date_within_event,
            date=self.date,
            event_start=event.start_date,
            event_end=event.end_date,
        )
        check(
            validators.validate_session_timezone,
            use_event_timezone=self.use_event_timezone,
            timezone=self.timezone or None,
        )
        location = self._related_or_error("location", Location, errors)
        track = self._related_or_error("track", Track, errors)
        check(
            validators.validate_same_event,
            event_id=self.event_id,
            location_event_id=location.event_id if location else None,
            track_event_id=track.event_id if track else None,
        )
        check(
            validators.validate_capacity,
            capacity=self.capacity,
            location_capacity=location.capacity if location else None,
            seats_taken=self.seats_taken,
        )
        check(validators.validate_webinar_url, url=self.webinar_url)
        if self.stored_status is not None:
            check(
                validators.validate_status_transition,
                current=self.stored_status,
                target=self.session_status,
            )
        check(
            validators.validate_live_has_schedule,
            status=self.session_status,
            date=self.date,
            start_time=self.start_time,
        )
        if not isinstance(self.custom_fields, dict):
            errors.setdefault("custom_fields", []).append(
                ValidationError("Custom fields must be an object.", code="invalid_type")
            )
        else:
            definitions = event.session_field_definitions
            # A value whose field definition was deleted since is dropped, not refused: only
            # a key the caller sends now can be unknown.
            stored = getattr(self, "_stored_custom_values", {})
            values = {
                key: value
                for key, value in self.custom_fields.items()
                if key in definitions or key not in stored or stored[key] != value
            }
            try:
                self.custom_fields = validators.validate_custom_values(
                    definitions=definitions, values=values
                )
            except ValidationError as exc:
                exc.update_error_dict(errors)

        if not errors:
            self.compute_instants()
            slot = self.held_slot()
            # A slot the session already held was checked when it was taken, and on
            # PostgreSQL the exclusion constraint keeps it so: only a new slot can clash.
            if slot is not None and slot != getattr(self, "_stored_slot", None):
                check(
                    validators.validate_no_overlap,
                    conflicts=selectors.session_conflicts(
                        location_id=self.location_id,
                        starts_at=self.starts_at,
                        ends_at=self.ends_at,
                        exclude_id=self.pk,
                    ),
                )
        if errors:
            raise ValidationError(errors)

    def _related_or_error(self, name: str, model, errors: dict):
        """The related row, or None with a field error when its id does not exist."""
        related_id = getattr(self, f"{name}_id")
        if related_id is None:
            return None
        cached = self._state.fields_cache.get(name)
        if cached is not None and cached.pk == related_id:
            return cached
        found = model.objects.filter(pk=related_id).first()
        if found is None:
            errors.setdefault(name, []).append(
                ValidationError(f"There is no {name} with id {related_id}.", code="does_not_exist")
            )
            return None
        setattr(self, name, found)
        return found


class SessionChange(models.Model):
    """One history entry: who changed which session, when, and each field's old and new value.

    ``session`` has no database constraint so the history outlives a deleted session.
    """

    session = models.ForeignKey(
        Session,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="changes",
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="session_changes")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="session_changes",
    )
    actor_client = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="session_changes",
    )
    # Kept as text so the entry still says who it was after the user or client is deleted.
    actor_label = models.CharField(max_length=255)
    action = models.CharField(max_length=64, db_index=True)
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=django_timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["session", "-created_at"], name="change_session_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor_user__isnull=True) | Q(actor_client__isnull=True),
                name="change_single_actor",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} on #{self.session_id} by {self.actor_label}"

    @property
    def action_label(self) -> str:
        from .enums import ACTION_LABELS

        return ACTION_LABELS.get(self.action, self.action)


class ApiRateCounter(models.Model):
    """Requests counted for one API caller in its current fixed window.

    One row per caller (``client:<pk>`` or ``ip:<address>``). The API bumps it with a
    single atomic upsert, so every worker process shares the count.
    """

    key = models.CharField(max_length=100, unique=True)
    window_start = models.BigIntegerField(help_text="Unix time the current window began.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "API rate counter"

    def __str__(self) -> str:
        return f"{self.key}: {self.count} since {self.window_start}"
