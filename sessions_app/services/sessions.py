"""Every write to sessions and events goes through here, whichever door it comes from.

Each service runs in one transaction: lock what its rule depends on, apply, validate
the merged object, save, write one history entry, and announce only on commit.
A refused write raises and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from sessions_app import selectors, validators
from sessions_app.enums import HistoryAction, SelectionControl, SessionStatus, status_action
from sessions_app.exceptions import StaleVersionError
from sessions_app.models import (
    Event,
    Location,
    Session,
    SessionChange,
    SessionSpeaker,
    SessionType,
    Speaker,
)
from sessions_app.models.compiled import CompiledRead
from sessions_app.services import attendance, history, journal
from sessions_app.services.actors import Actor

OVERLAP_CONSTRAINT = "session_no_location_overlap"
EXCLUSION_VIOLATION = "23P01"

# Fields a caller may write; ``custom_fields`` is a patch merged by key.
# Written by a service of its own (speaker_answer), never sent by a caller.
SERVICE_ONLY_FIELDS = frozenset({"speaker_confirmations"})
SESSION_WRITABLE_FIELDS = (frozenset(history.TRACKED_FIELDS) - SERVICE_ONLY_FIELDS) | {
    "custom_fields"
}
EVENT_WRITABLE_FIELDS = frozenset(
    {
        "name",
        "slug",
        "timezone",
        "start_date",
        "end_date",
        "hold_messages",
        "proposed_programme",
        "interest_on_publish",
        "embed_origins",
    }
)
# What the location's rules depend on (its slots, its capacity): a write that sends any of
# these locks the location first.
_LOCATION_RULE_FIELDS = frozenset(
    {
        "location_id",
        "date",
        "start_time",
        "end_time",
        "use_event_timezone",
        "timezone",
        "session_status",
        "capacity",
    }
)
# What decides whether the session takes its speakers' time: a write that sends any of
# these locks the session's speakers (the new ones when it sends speaker_ids).
_SPEAKER_RULE_FIELDS = frozenset(
    {
        "date",
        "start_time",
        "end_time",
        "use_event_timezone",
        "timezone",
        "session_status",
        "speaker_ids",
    }
)
# A write that sends these may make the session live and included: it seats everyone.
_SEATING_FIELDS = frozenset({"session_status", "selection_control"})
# Checked by Session.clean() itself (related rows already locked; capacity's whole range by
# validate_capacity, which would otherwise repeat the field's min/max errors).
_CLEANED_IN_MODEL = ["event", "location", "track", "session_type", "capacity"]
# Sent without duration_minutes, these carry the session's length with them.
_TIMES = ("start_time", "end_time")
_TIME_FIELDS = frozenset(_TIMES)
# Saved with every change besides the changed fields (Session.save adds the instants).
_ALWAYS_SAVED = ("version", "updated_at")


def merge_custom_values(*, current: Mapping[str, Any], patch: Any) -> Any:
    """Keys not sent keep their values, ``None`` clears a key. A non-object is left to clean()."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(current or {})
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _apply(session: Session, data: Mapping[str, Any], *, trusted: bool = False) -> None:
    unknown = set(data) - SESSION_WRITABLE_FIELDS - (SERVICE_ONLY_FIELDS if trusted else set())
    if unknown:
        raise TypeError(f"Not writable session fields: {', '.join(sorted(unknown))}")
    for name, value in data.items():
        if name == "custom_fields":
            session.custom_fields = merge_custom_values(current=session.custom_fields, patch=value)
        elif name == "timezone":
            session.timezone = value or ""
        else:
            setattr(session, name, value)
    if "speaker_ids" in data and session.speaker_confirmations:
        # A speaker taken off the session takes their answer with them.
        kept = {str(pk) for pk in session.speaker_ids or [] if type(pk) is int}
        session.speaker_confirmations = {
            key: value for key, value in session.speaker_confirmations.items() if key in kept
        }


# Locks are FOR NO KEY UPDATE: they queue writers of the same rows behind each other but,
# unlike FOR UPDATE, do not block the FOR KEY SHARE that PostgreSQL's foreign-key checks
# take at commit, which would let two writers deadlock on each other's referenced rows.


def _locked_session(**filters) -> QuerySet:
    # Event, track and location come along (unlocked) so that validating what did not
    # change costs no query; _lock_location locks the location when the write needs it.
    return (
        Session.objects.select_for_update(of=("self",), no_key=True)
        .select_related("event__organisation", "track", "location", "session_type")
        .filter(**filters)
    )


# Every write reads these: compiled once (sessions_app.models.compiled), the same SQL and objects.
_LOCKED_SESSION = CompiledRead(lambda pk: _locked_session(pk=pk))
_LOCKED_SESSION_OF = CompiledRead(
    lambda pk, organisation_id: _locked_session(pk=pk, event__organisation_id=organisation_id)
)
_LOCKED_LOCATION = CompiledRead(
    lambda pk: Location.objects.select_for_update(no_key=True).filter(pk=pk)
)


def _lock_location(session: Session) -> None:
    """Lock the location so that writers competing for its slots queue up behind each other."""
    if session.location_id is None:
        return
    found = _LOCKED_LOCATION.all(pk=session.location_id)
    if found:
        session.location = found[0]


def _hold_speakers(session: Session, data: Mapping[str, Any]) -> None:
    """Lock the speakers whose time the write may take, in id order, so that two writes
    placing one speaker queue up and the second sees the first; a new list must name
    distinct speakers of the session's event."""
    if _SPEAKER_RULE_FIELDS.isdisjoint(data):
        return
    ids = session.speaker_ids
    if "speaker_ids" in data and not (
        isinstance(ids, list) and all(type(pk) is int and 0 < pk < 2**63 for pk in ids)
    ):
        raise ValidationError(
            {"speaker_ids": ValidationError("Send a list of speaker ids.", code="invalid")}
        )
    if not ids:
        return
    found = list(
        Speaker.objects.select_for_update(no_key=True)
        .filter(event_id=session.event_id, pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if "speaker_ids" in data:
        validators.validate_speaker_ids(speaker_ids=ids, known_ids=found)


def _link_speakers(session: Session) -> None:
    """The SessionSpeaker rows as ``session.speaker_ids`` lists them, in that order."""
    SessionSpeaker.objects.filter(session_id=session.pk).delete()
    SessionSpeaker.objects.bulk_create(
        SessionSpeaker(session_id=session.pk, speaker_id=pk, position=position)
        for position, pk in enumerate(session.speaker_ids or [])
    )


def _settle_length(session: Session, data: Mapping[str, Any], *, creating: bool) -> None:
    """The length, where the write does not send one: times sent carry theirs, and a new
    session without times (or one given another type before it has times) takes its type's.

    A length sent with times that disagree is left to ``Session.clean`` to refuse.
    """
    if "duration_minutes" in data:
        return
    try:
        times = [Session._meta.get_field(name).to_python(getattr(session, name)) for name in _TIMES]
    except ValidationError:
        return  # clean() says what is wrong with them
    minutes = validators.minutes_between(*times)
    if minutes is not None and (creating or not _TIME_FIELDS.isdisjoint(data)):
        if minutes > 0:
            session.duration_minutes = minutes
        return
    if minutes is None and session.session_type_id and (creating or "session_type_id" in data):
        default = (
            SessionType.objects.filter(pk=session.session_type_id, event_id=session.event_id)
            .values_list("default_minutes", flat=True)
            .first()
        )
        if default is not None:
            session.duration_minutes = default


def _validate(session: Session) -> None:
    # Unique and check constraints are enforced by validators and the database; skipping
    # their per-constraint queries keeps a write within a fixed query budget.
    session.full_clean(exclude=_CLEANED_IN_MODEL, validate_unique=False, validate_constraints=False)


def _is_overlap_violation(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) != EXCLUSION_VIOLATION:
        return False
    diag = getattr(cause, "diag", None)
    return getattr(diag, "constraint_name", OVERLAP_CONSTRAINT) == OVERLAP_CONSTRAINT


def _overlap_error(session: Session) -> ValidationError:
    """The same error as the validator's, for a clash only the database caught (a race)."""
    conflicts = []
    if session.location_id and session.starts_at and session.ends_at:
        conflicts = selectors.session_conflicts(
            location_id=session.location_id,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            exclude_id=session.pk,
        )
    try:
        validators.validate_no_overlap(
            conflicts=conflicts or [{"id": None, "name": "another session"}]
        )
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


def _lock_event_of(session_id: int) -> None:
    """Lock the session's event before the session: making a session live and included
    seats every registrant, and registrant_create (which holds the event FOR SHARE) must
    not add one meanwhile."""
    list(
        Event.objects.select_for_update(of=("self",), no_key=True)
        .filter(sessions__id=session_id)
        .values_list("pk", flat=True)
    )


def _reseat(session: Session, changes: dict, *, actor: Actor) -> None:
    """What a committed change means for the seats: more room seats the waiting, a live
    included session seats everyone, publication turns interests into seats (or tells
    the interested, by the event's setting), and a session no longer accepted (rejected,
    withdrawn, back to submitted) drops its interests."""
    if "capacity" in changes:
        attendance.promote_waiting(session, actor=actor)
    included = session.selection_control == SelectionControl.INCLUDED
    live = session.session_status == SessionStatus.LIVE
    selectable = session.session_status in (SessionStatus.LIVE, SessionStatus.APPROVED)
    if included and live and not _SEATING_FIELDS.isdisjoint(changes):
        attendance.seat_everyone_included(session, actor=actor)
    elif live and "session_status" in changes and session.interest_count:
        attendance.publish_interests(session, actor=actor)
    elif "session_status" in changes and session.interest_count and not selectable:
        attendance.drop_interests(session, actor=actor)


def _lock_session(session_id: int, organisation_id: int | None = None) -> Session:
    """Lock the session; with ``organisation_id``, one of another organisation is DoesNotExist."""
    if organisation_id is None:
        return _LOCKED_SESSION.get(pk=session_id)
    return _LOCKED_SESSION_OF.get(pk=session_id, organisation_id=organisation_id)


def _write(
    *,
    session_id: int,
    data: Mapping[str, Any],
    actor: Actor,
    expected_version: int | None,
    validate_only: bool,
    note: str,
    organisation_id: int | None = None,
    trusted: bool = False,
    action: str | None = None,
) -> Session:
    validators.validate_no_null_characters(values={"note": note})
    session = None
    try:
        with transaction.atomic():
            if not _SEATING_FIELDS.isdisjoint(data):
                _lock_event_of(session_id)
            session = _lock_session(session_id, organisation_id)
            if expected_version is not None and expected_version != session.version:
                raise StaleVersionError(expected=expected_version, current=session.version)
            before = history.snapshot(session)
            _apply(session, data, trusted=trusted)
            _settle_length(session, data, creating=False)
            if not _LOCATION_RULE_FIELDS.isdisjoint(data):
                _lock_location(session)
            _hold_speakers(session, data)
            _validate(session)
            changes = history.diff(before, history.snapshot(session))
            if not changes:
                return session
            old_status = before["session_status"]
            if session.session_status != old_status:
                action = status_action(session.session_status)
            elif action is None:
                action = HistoryAction.UPDATE.value
            session.version += 1
            session.updated_at = timezone.now()
            if validate_only:
                return session
            session.save(update_fields={*history.changed_attributes(changes), *_ALWAYS_SAVED})
            if "speaker_ids" in changes:
                _link_speakers(session)
            journal.record(session, actor=actor, action=action, changes=changes, note=note)
            journal.announce(session, action)
            _reseat(session, changes, actor=actor)
    except IntegrityError as exc:
        if session is not None and _is_overlap_violation(exc):
            raise _overlap_error(session) from exc
        raise
    return session


def session_update(
    *,
    session_id: int,
    data: Mapping[str, Any],
    actor: Actor,
    expected_version: int | None = None,
    validate_only: bool = False,
    note: str = "",
    organisation_id: int | None = None,
) -> Session:
    """Change only the given fields of a session and validate the merged result.

    ``data`` maps field names (``location_id``, ``track_id``, ... as in
    ``SESSION_WRITABLE_FIELDS``) to typed values; ``custom_fields`` is merged by key.

    Side effects, in order: locks the session and its (new) location; raises
    ``StaleVersionError`` if ``expected_version`` is given and stale; raises
    ``ValidationError`` on any broken rule; if anything changed, bumps ``version``,
    sets ``updated_at``, saves, writes one ``SessionChange`` (``session.update`` or
    ``session.status.<new>``) and sends ``session_changed`` on commit. With
    ``validate_only`` it returns what the session would become and writes nothing.
    With ``organisation_id`` a session of another organisation raises
    ``Session.DoesNotExist``, checked by the locking query itself.
    """
    return _write(
        session_id=session_id,
        data=data,
        actor=actor,
        expected_version=expected_version,
        validate_only=validate_only,
        note=note,
        organisation_id=organisation_id,
    )


def session_set_status(
    *,
    session_id: int,
    status: str,
    actor: Actor,
    note: str = "",
    expected_version: int | None = None,
) -> Session:
    """Move a session along the workflow (``ALLOWED_TRANSITIONS``), with an optional note.

    Side effects as ``session_update``; the history action is ``session.status.<status>``.
    Setting the current status again changes nothing and records nothing.
    """
    return _write(
        session_id=session_id,
        data={"session_status": status},
        actor=actor,
        expected_version=expected_version,
        validate_only=False,
        note=note,
    )


def session_answer(
    *, session_id: int, data: Mapping[str, Any], actor: Actor, note: str = ""
) -> Session:
    """A speaker's answer (``speaker_confirmations``, and a status move for a decline):
    side effects as ``session_update``; the history action is ``session.speaker.answer``
    (``session.status.<new>`` when the status moves)."""
    return _write(
        session_id=session_id,
        data=data,
        actor=actor,
        expected_version=None,
        validate_only=False,
        note=note,
        trusted=True,
        action=HistoryAction.SPEAKER_ANSWER.value,
    )


def session_create(
    *,
    event: Event,
    data: Mapping[str, Any],
    actor: Actor,
    validate_only: bool = False,
) -> Session:
    """Create a session in ``event`` from ``data`` (same names as ``session_update``).

    Side effects, in order: locks the location; validates; saves with version 1;
    writes one ``session.create`` entry with every field's initial value; announces on commit.
    """
    # The caller's event object may predate a change of its custom fields: read it afresh.
    session = None
    data = {key: value for key, value in data.items() if key != "event_id"}
    try:
        with transaction.atomic():
            # A session created live and included seats every registrant: hold the event
            # (as registrant_create does) so that none registers meanwhile.
            events = Event.objects.all()
            if not _SEATING_FIELDS.isdisjoint(data) and not validate_only:
                events = events.select_for_update(no_key=True)
            session = Session(event=events.get(pk=event.pk))
            _apply(session, data)
            _settle_length(session, data, creating=True)
            _lock_location(session)
            _hold_speakers(session, data)
            _validate(session)
            if validate_only:
                session.compute_instants()
                return session
            session.save()
            if session.speaker_ids:
                _link_speakers(session)
            changes = history.diff({}, history.snapshot(session))
            journal.record(session, actor=actor, action=HistoryAction.CREATE.value, changes=changes)
            journal.announce(session, HistoryAction.CREATE.value)
            _reseat(session, changes, actor=actor)
    except IntegrityError as exc:
        if session is not None and _is_overlap_violation(exc):
            raise _overlap_error(session) from exc
        raise
    return session


def session_delete(
    *, session_id: int, actor: Actor, note: str = "", organisation_id: int | None = None
) -> None:
    """Delete a session; refused (``ValidationError``, code ``live_delete``) while it is live.

    Side effects, in order: locks the session (``Session.DoesNotExist`` if it is not in
    ``organisation_id``, when given); writes one ``session.delete`` entry holding the last
    values; deletes the row; announces on commit. The history stays.
    """
    validators.validate_no_null_characters(values={"note": note})
    with transaction.atomic():
        session = _lock_session(session_id, organisation_id)
        validators.validate_not_live_for_delete(status=session.session_status)
        changes = history.diff(history.snapshot(session), {})
        journal.record(
            session, actor=actor, action=HistoryAction.DELETE.value, changes=changes, note=note
        )
        journal.announce(session, HistoryAction.DELETE.value)
        session.delete()


def event_refresh_custom_field_schema(*, event_id: int) -> None:
    """Rebuild the event's stored custom field definitions from its CustomField rows.

    Locks the event row so that two concurrent edits of its fields leave the later picture.
    """
    with transaction.atomic():
        event = Event.objects.select_for_update(no_key=True).filter(pk=event_id).first()
        if event is None:
            return
        event.custom_field_schema = event.build_custom_field_schema()
        event.save(update_fields=["custom_field_schema"])


def _defer_overlap_check() -> bool:
    """Let a batch of moves pass through transient overlaps; checked again before commit."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {OVERLAP_CONSTRAINT} DEFERRED")
    return True


def _check_overlap_now() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {OVERLAP_CONSTRAINT} IMMEDIATE")


def event_update(*, event_id: int, data: Mapping[str, Any], actor: Actor) -> Event:
    """Change an event's name, slug, time zone or dates.

    A new time zone recomputes the instants of every session that follows the event's
    zone, in the same transaction, and is refused if that would make two sessions clash.
    New dates are refused while sessions lie outside them.

    Side effects, in order: locks the event and its sessions that follow its zone;
    validates; saves the event; updates the moved sessions' instants and versions and
    writes one ``session.reschedule`` entry for each; announces each on commit.
    """
    unknown = set(data) - EVENT_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not writable event fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        event = Event.objects.select_for_update(no_key=True).get(pk=event_id)
        old_timezone = event.timezone
        for name, value in data.items():
            setattr(event, name, value)
        event.full_clean()

        outside = event.sessions.filter(date__isnull=False).exclude(
            date__range=(event.start_date, event.end_date)
        )
        outside_count = outside.count()
        if outside_count:
            raise ValidationError(
                {
                    "start_date": ValidationError(
                        f"{outside_count} session(s) are scheduled outside these dates; "
                        "move them first.",
                        code="sessions_outside_event",
                    )
                }
            )
        event.save()
        if event.timezone != old_timezone:
            _reschedule_sessions(event, old_timezone=old_timezone, actor=actor)
    return event


def _reschedule_error(message: str, pairs, **params) -> ValidationError:
    """``message`` with ``{names}``: the sessions of the clashing pairs, each named once;
    ``params`` with their ``conflicts`` (conflict_summary) and any more given."""
    conflicts = []
    for pair in pairs:
        for session in pair:
            summary = selectors.conflict_summary(session)
            if summary not in conflicts:
                conflicts.append(summary)
    names = ", ".join(f'"{c["name"]}" (#{c["id"]})' for c in conflicts)
    # Django %-formats a message that has params: a "%" in a name stays literal.
    message = message.format(names=names).replace("%", "%%")
    return ValidationError(message, code="conflict", params={"conflicts": conflicts, **params})


def _reschedule_sessions(event: Event, *, old_timezone: str, actor: Actor) -> None:
    moved = list(
        Session.objects.select_for_update(no_key=True)
        .filter(event=event, use_event_timezone=True, date__isnull=False)
        .order_by("pk")
    )
    if not moved:
        return
    now = timezone.now()
    note = f"The event's time zone changed from {old_timezone} to {event.timezone}."
    entries = []
    for session in moved:
        session.event = event
        before = history.instants(session)
        session.compute_instants()
        session.version += 1
        session.updated_at = now
        entries.append(
            SessionChange(
                session_id=session.pk,
                event_id=event.pk,
                action=HistoryAction.RESCHEDULE.value,
                changes=history.diff(before, history.instants(session)),
                note=note,
                version=session.version,
                state=journal.state_after(session, HistoryAction.RESCHEDULE.value),
                created_at=now,
                **actor.history_fields(),
            )
        )
    # The speakers of the event, in id order as a session write holds them (after the
    # session): a write placing one of them now waits for this move, or this sees it.
    speaker_ids = list(
        Speaker.objects.select_for_update(no_key=True)
        .filter(event=event)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    deferred = _defer_overlap_check()
    Session.objects.bulk_update(moved, ["starts_at", "ends_at", "version", "updated_at"])
    location_ids = sorted({s.location_id for s in moved if s.location_id is not None})
    errors = []
    room_clashes = selectors.holders_clashing_in_locations(location_ids=location_ids)
    if room_clashes:
        errors.append(
            _reschedule_error(
                "In this time zone these sessions would overlap in their locations: {names}.",
                room_clashes,
            )
        )
    moved_ids = {s.pk for s in moved}
    speaker_clashes = [
        clash
        for clash in selectors.speakers_clashing(speaker_ids=speaker_ids)
        if moved_ids & {clash[0].pk, clash[1].pk}
    ]
    if speaker_clashes:
        speakers = list(dict.fromkeys(speaker.full_name for _, _, speaker in speaker_clashes))
        errors.append(
            _reschedule_error(
                "In this time zone " + ", ".join(speakers).replace("{", "{{").replace("}", "}}")
                + " would speak in two of these sessions at once: {names}.",
                [pair[:2] for pair in speaker_clashes],
                speakers=speakers,
            )
        )  # fmt: skip
    if errors:
        raise ValidationError({"timezone": errors})
    if deferred:
        _check_overlap_now()
    SessionChange.objects.bulk_create(entries)
    for session in moved:
        journal.announce(session, HistoryAction.RESCHEDULE.value)
