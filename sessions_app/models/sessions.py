"""Sessions and their history."""

import datetime as dt
import secrets
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone as django_timezone

from sessions_app import validators
from sessions_app.enums import HOLDING_STATUSES, SelectionControl, SessionStatus
from sessions_app.models.clashes import SUMMARY_FIELDS, conflict_summary, overlap_condition
from sessions_app.models.events import Event, Location, SessionType, Track
from sessions_app.models.fields import no_nul as _no_nul
from sessions_app.models.people import SessionSpeaker, Speaker
from sessions_app.models.planning import BlockedSlot, SpeakerAvailability

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
    # Registrants holding a seat (Selection.state "selected") and waiting for one. Kept by
    # the selection service under the session's row lock, in the transaction that changes
    # the selections, so lists answer them without counting; capacity may not drop below
    # seats_taken.
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    waitlist_count = models.PositiveIntegerField(default=0, editable=False)
    # Registrants interested in it before it is live (Selection.state "interested"), kept the
    # same way: the demand organisers see before the schedule exists.
    interest_count = models.PositiveIntegerField(default=0, editable=False)
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
    session_type = models.ForeignKey(
        SessionType, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    # Held before the session has a time, so the grid and the suggestions know how long it
    # runs; once it has times they run exactly this long (Session.clean).
    duration_minutes = models.PositiveIntegerField(
        default=validators.DURATION_DEFAULT,
        validators=[MinValueValidator(1), MaxValueValidator(validators.DURATION_MAX)],
        help_text="Length in minutes; from the session type unless set, and from the times "
        "when they are changed without it.",
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
    pinned = models.BooleanField(
        default=False, help_text="Schedule suggestions leave it where it is."
    )
    custom_fields = models.JSONField(default=dict, blank=True)
    # Speakers in billing order. The ids are kept here too (null: none yet), written with
    # the links in one transaction by the services, so a session is answered and its rules
    # judged without a query for them.
    speakers = models.ManyToManyField(
        "Speaker", through="SessionSpeaker", related_name="sessions", blank=True
    )
    speaker_ids = models.JSONField(null=True, blank=True, editable=False)
    # Each speaker's answer once the session is approved, by speaker id (as text):
    # "confirmed" or "declined"; a speaker not named has not answered. Written by
    # services.speaker_answer, with the session's history.
    speaker_confirmations = models.JSONField(default=dict, blank=True, editable=False)

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False, db_index=True)
    # Indexed with the event in Meta.indexes.
    updated_at = models.DateTimeField(default=django_timezone.now, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        permissions = [("review_session", "Can move sessions through the review workflow")]
        indexes = [
            models.Index(fields=["event", "id"], name="session_event_id"),
            models.Index(fields=["location", "starts_at"], name="session_location_start"),
            # The admin's session list order, whole and per event (also the schedule grid's).
            models.Index(fields=["starts_at", "name", "id"], name="session_start_order"),
            models.Index(fields=["event", "starts_at", "name", "id"], name="session_event_start"),
            # The filters by date, status and last change, with the event: a list scoped to
            # the organisation's events counts its matches from the index alone.
            models.Index(fields=["date", "event"], name="session_date_event"),
            # Declared here rather than db_index=True, which on PostgreSQL adds a second,
            # LIKE-pattern index that no query uses and every write would maintain.
            models.Index(fields=["session_status", "event"], name="session_status_event"),
            models.Index(fields=["updated_at", "event"], name="session_updated_event"),
            # The API's sorts by name and by start time (read backwards for the descending
            # name; on PostgreSQL migration 0020 adds the descending date and start time,
            # NULLS LAST, which SQLite's CREATE INDEX cannot say).
            models.Index(fields=["name", "id"], name="session_name"),
            models.Index(fields=["start_time", "id"], name="session_start_time"),
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
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=validators.DURATION_MAX),
                name="session_duration_in_range",
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
        self._stored_speaker_slot = (
            self.speaker_slot() if self.__dict__.keys() >= _SLOT_ATTRS else None
        )
        if "speaker_ids" in self.__dict__:
            self._stored_speaker_ids = list(self.speaker_ids or [])

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
    def seats_left(self) -> int | None:
        """Free seats, or None when the capacity is unlimited."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_sold_out(self) -> bool:
        return self.capacity is not None and self.seats_taken >= self.capacity

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

    def speaker_slot(self) -> tuple[dt.datetime, dt.datetime] | None:
        """``(starts_at, ends_at)`` while the session takes its speakers' time: a holding
        status and a schedule (with or without a location: a webinar's speaker is busy)."""
        if self.session_status not in HOLDING_STATUSES or self.starts_at is None:
            return None
        return (self.starts_at, self.ends_at)

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
        session_type = self._related_or_error("session_type", SessionType, errors)
        check(
            validators.validate_same_event,
            event_id=self.event_id,
            location_event_id=location.event_id if location else None,
            track_event_id=track.event_id if track else None,
            session_type_event_id=session_type.event_id if session_type else None,
        )
        check(
            validators.validate_duration_agrees,
            duration_minutes=self.duration_minutes,
            start_time=self.start_time,
            end_time=self.end_time,
        )
        check(
            validators.validate_capacity,
            capacity=self.capacity,
            location_capacity=location.capacity if location else None,
            seats_taken=self.seats_taken,
        )
        check(validators.validate_webinar_url, url=self.webinar_url)
        # A status that is not one is refused by clean_fields(); it is no move to judge.
        if self.stored_status is not None and self.session_status in SessionStatus.values:
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
                    conflicts=session_conflicts(
                        location_id=self.location_id,
                        starts_at=self.starts_at,
                        ends_at=self.ends_at,
                        exclude_id=self.pk,
                    ),
                )
            self._check_speakers(check)
            self._check_blocks_and_availability(check)
        if errors:
            raise ValidationError(errors)

    def _check_blocks_and_availability(self, check) -> None:
        """A held session keeps out of blocked slots, and its speakers' time inside their
        availability: checked, in one query, when it takes a new time or room, or a speaker
        new to it."""
        slot = self.speaker_slot()
        if slot is None:
            return
        moved = slot != getattr(self, "_stored_speaker_slot", None) or self.held_slot() != getattr(
            self, "_stored_slot", None
        )
        speakers = list(self.speaker_ids or [])
        if not moved:
            known = set(getattr(self, "_stored_speaker_ids", ()))
            speakers = [pk for pk in speakers if pk not in known]
        if not moved and not speakers:
            return
        blocks, unavailable = placement_refusals(
            event_id=self.event_id,
            location_id=self.location_id,
            starts_at=slot[0],
            ends_at=slot[1],
            speaker_ids=speakers,
            blocks=moved,
        )
        check(validators.validate_not_blocked, blocks=blocks)
        check(validators.validate_speakers_available, speakers=unavailable)

    def _check_speakers(self, check) -> None:
        """A speaker is in one place at a time: only a new slot, or a speaker new to a slot
        already held, can clash (the service holds the speakers' rows meanwhile)."""
        slot = self.speaker_slot()
        speakers = list(self.speaker_ids or [])
        if slot is None or not speakers:
            return
        if slot == getattr(self, "_stored_speaker_slot", None):
            known = set(getattr(self, "_stored_speaker_ids", ()))
            speakers = [pk for pk in speakers if pk not in known]
        if speakers:
            check(
                validators.validate_speakers_free,
                conflicts=speaker_conflicts(
                    speaker_ids=speakers, starts_at=slot[0], ends_at=slot[1], exclude_id=self.pk
                ),
            )

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
    # Indexed as (event, id) in Meta.indexes: an event's changes in order, what the live
    # agenda's stream reads after the last id it sent.
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="session_changes", db_index=False
    )
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
    actor_registrant = models.ForeignKey(
        "Registrant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="session_changes",
    )
    # Kept as text so the entry still says who it was after the user or client is deleted.
    actor_label = models.CharField(max_length=255)
    action = models.CharField(max_length=64, db_index=True)
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField()
    # The session as the API answered it right after this change (its version is
    # ``version``), for the webhook of the change: written with the change, so a delivery
    # made later says what this change made, not what the session is by then. Null for
    # selections and deletions (their webhooks carry no session) and for rows written
    # before it existed.
    state = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=django_timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["session", "-created_at"], name="change_session_recent"),
            models.Index(fields=["event", "id"], name="change_event_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor_user__isnull=True) | Q(actor_client__isnull=True),
                name="change_single_actor",
            ),
            models.CheckConstraint(
                condition=Q(actor_registrant__isnull=True)
                | Q(actor_user__isnull=True, actor_client__isnull=True),
                name="change_registrant_alone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} on #{self.session_id} by {self.actor_label}"

    @property
    def action_label(self) -> str:
        from sessions_app.enums import ACTION_LABELS

        return ACTION_LABELS.get(self.action, self.action)


# The clash checks that Session.clean() runs; the selectors offer them to everyone else.


def sessions_overlapping(
    *,
    location_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    exclude_id: int | None = None,
) -> QuerySet:
    """Sessions holding ``location_id`` whose half-open interval meets [starts_at, ends_at)."""
    qs = Session.objects.filter(
        overlap_condition(starts_at=starts_at, ends_at=ends_at),
        location_id=location_id,
        session_status__in=HOLDING_STATUSES,
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.order_by("starts_at", "id")


def session_conflicts(
    *,
    location_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    exclude_id: int | None = None,
) -> list[dict[str, Any]]:
    return [
        conflict_summary(other)
        for other in sessions_overlapping(
            location_id=location_id, starts_at=starts_at, ends_at=ends_at, exclude_id=exclude_id
        )
        .select_related("event")
        .only(*SUMMARY_FIELDS)
    ]


def placement_refusals(
    *,
    event_id: int,
    location_id: int | None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    speaker_ids: list[int],
    blocks: bool,
) -> tuple[list[str], list[str]]:
    """The labels of the blocked slots [starts_at, ends_at) meets in the location (or in
    every room), and the names of the speakers with availability that does not cover it;
    one query for both."""

    parts = []
    if blocks:
        room = (
            Q(location__isnull=True) | Q(location_id=location_id)
            if location_id
            else Q(location__isnull=True)
        )
        parts.append(
            BlockedSlot.objects.filter(
                room, event_id=event_id, starts_at__lt=ends_at, ends_at__gt=starts_at
            )
            .annotate(kind=Value("block", output_field=CharField()))
            .order_by()
            .values_list("kind", "label")
        )
    if speaker_ids:
        has_any = SpeakerAvailability.objects.filter(speaker=OuterRef("pk"))
        covers = has_any.filter(starts_at__lte=starts_at, ends_at__gte=ends_at)
        parts.append(
            Speaker.objects.filter(Exists(has_any), pk__in=speaker_ids)
            .exclude(Exists(covers))
            .annotate(
                kind=Value("speaker", output_field=CharField()),
                name=Concat("first_name", Value(" "), "last_name", output_field=CharField()),
            )
            .order_by()
            .values_list("kind", "name")
        )
    if not parts:
        return [], []
    query = parts[0] if len(parts) == 1 else parts[0].union(parts[1], all=True)
    rows = list(query)
    return (
        [label for kind, label in rows if kind == "block"],
        [name.strip() for kind, name in rows if kind == "speaker"],
    )


def speaker_conflicts(
    *,
    speaker_ids: list[int],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    exclude_id: int | None = None,
) -> list[dict[str, Any]]:
    """Held sessions meeting [starts_at, ends_at) that have one of ``speaker_ids``, as
    ``conflict_summary`` names them, each with the shared ``speakers`` ({id, name})."""
    links = (
        SessionSpeaker.objects.filter(
            overlap_condition(starts_at=starts_at, ends_at=ends_at, prefix="session__"),
            session__session_status__in=HOLDING_STATUSES,
            speaker_id__in=speaker_ids,
        )
        .exclude(session_id=exclude_id)
        .select_related("session__event", "speaker")
        .order_by("session__starts_at", "session_id", "position")
    )
    found: dict[int, dict[str, Any]] = {}
    for link in links:
        entry = found.get(link.session_id)
        if entry is None:
            entry = found[link.session_id] = {**conflict_summary(link.session), "speakers": []}
        entry["speakers"].append({"id": link.speaker_id, "name": link.speaker.full_name})
    return list(found.values())
