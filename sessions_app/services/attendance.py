"""Registrants and the sessions they select: every rule about seats lives here.

One service for every door (API, admin, the registrant's own page). Each call runs in one
transaction and locks what its rules depend on, always in the same order: the event (only
when registrants are created or an included session goes live), the registrant, then the
session. Holding the session's row lock while counting its seats is what keeps 200
concurrent selections of 150 seats at exactly 150; holding the registrant's keeps two
overlapping sessions from both being taken by one registrant. A refusal raises
``ValidationError`` (codes in ``validators.SELECTION_CODES``) before anything is written.

What happens to selections when the session changes:

- unpublished (live → approved): they stay, seats and waitlist, and count again when it is
  live again; nobody can take a new seat meanwhile, and a seat can still be given up;
- rescheduled so that two of a registrant's sessions now overlap: the organiser's schedule
  wins and both selections stay; the registrant's page points the overlap out;
- deleted (only possible when not live): its selections go with it;
- capacity raised (or made unlimited): the first waiting registrants take the new seats in
  the same transaction;
- included and live: every registrant of the event is seated, beyond capacity if need be,
  because the organiser decided that everyone attends.

Before the schedule exists a registrant may mark interest in an approved session that is
not live: a selection in state ``interested``, which holds no seat and no capacity and only
moves the session's ``interest_count``. When the session goes live, the event's
``interest_on_publish`` decides in the same transaction: ``seat`` seats the interested first
come first served up to capacity and puts the rest on the waitlist (a registrant whose other
seat overlaps where either session forbids it stays interested), ``tell`` leaves them
interested; the history entry says which, and each registrant is told by message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Lower
from django.utils import timezone

from sessions_app import selectors, validators
from sessions_app.enums import HistoryAction, InterestOnPublish, SelectionControl, SessionStatus
from sessions_app.models import Event, Registrant, Selection, SelectionState, Session
from sessions_app.services import journal
from sessions_app.services.actors import Actor

REGISTRANT_WRITABLE_FIELDS = frozenset({"first_name", "last_name", "email"})
SELECTED = SelectionState.SELECTED
WAITLISTED = SelectionState.WAITLISTED
INTERESTED = SelectionState.INTERESTED


@dataclass(frozen=True)
class SelectionResult:
    selection: Selection
    created: bool  # False: the registrant already held the session this way


# --- Locks ---------------------------------------------------------------------------------


def _lock_registrant(registrant_id: int, organisation_id: int | None = None) -> Registrant:
    registrants = Registrant.objects.select_for_update(of=("self",), no_key=True).select_related(
        "event"
    )
    if organisation_id is not None:
        registrants = registrants.filter(event__organisation_id=organisation_id)
    return registrants.get(pk=registrant_id)


def _lock_session(*, event_id: int, session_id: int) -> Session:
    session = (
        Session.objects.select_for_update(of=("self",), no_key=True)
        .select_related("event")
        .filter(pk=session_id, event_id=event_id)
        .first()
    )
    if session is None:
        raise ValidationError(
            {
                "session_id": ValidationError(
                    "There is no session with this id in the registrant's event.",
                    code="does_not_exist",
                )
            }
        )
    return session


# --- Counters and history ------------------------------------------------------------------


# The session's counter of the registrants in each state.
_COUNTERS = {
    SELECTED: "seats_taken",
    WAITLISTED: "waitlist_count",
    INTERESTED: "interest_count",
}


def _count(session: Session, by: dict[str, int]) -> dict[str, Any]:
    """Move the session's counters (row already locked) by ``{state: how many}``; the
    history ``changes`` for it."""
    changes = {}
    update = {}
    for state, step in by.items():
        if step:
            name = _COUNTERS[state]
            old = getattr(session, name)
            changes[name] = {"old": old, "new": old + step}
            setattr(session, name, old + step)
            update[name] = F(name) + step
    session.updated_at = timezone.now()
    Session.objects.filter(pk=session.pk).update(**update, updated_at=session.updated_at)
    return changes


def _moves(old_state: str | None, new_state: str | None) -> dict[str, int]:
    """``_count``'s ``by`` for one selection going from one state to another (None: none)."""
    by = dict.fromkeys(_COUNTERS, 0)
    if old_state is not None:
        by[old_state] -= 1
    if new_state is not None:
        by[new_state] += 1
    return by


def _one_by_one(session: Session, moves: list[tuple[Registrant, str | None, str | None]]):
    """For selections moved together (a waitlist served, interests published or dropped):
    one history ``changes`` per registrant, each with the counters as that one move left
    them, for ``journal.record_many``; the counters themselves move once for all."""
    running = {name: getattr(session, name) for name in _COUNTERS.values()}
    total = dict.fromkeys(_COUNTERS, 0)
    entries = []
    for registrant, old, new in moves:
        entry = _registrant_change(registrant, old, new)
        for state, step in _moves(old, new).items():
            if step:
                name = _COUNTERS[state]
                entry[name] = {"old": running[name], "new": running[name] + step}
                running[name] += step
                total[state] += step
        entries.append(entry)
    _count(session, total)
    return entries


def _registrant_change(registrant: Registrant, old: str | None, new: str | None) -> dict:
    return {f"registrant.{registrant.pk}": {"old": old, "new": new}}


def _log(session: Session, actor: Actor, action: str, changes: dict, note: str = "") -> None:
    journal.record(session, actor=actor, action=action, changes=changes, note=note)
    journal.announce(session, action)


# --- Rules ---------------------------------------------------------------------------------


def _decide(
    registrant: Registrant,
    session: Session,
    existing: Selection | None,
    *,
    waitlist: bool,
    override_capacity: bool,
) -> str | None:
    """The state the selection should take, or None when the registrant already has it."""
    validators.validate_selectable(status=session.session_status)
    if session.session_status != SessionStatus.LIVE:  # approved, not on the agenda yet
        return None if existing is not None else INTERESTED
    if existing is not None and existing.state == SELECTED:
        return None
    if existing is None or existing.state == INTERESTED:
        validators.validate_no_selection_conflict(
            conflicts=selectors.selection_conflicts(registrant_id=registrant.pk, session=session)
        )
    try:
        if not override_capacity:
            validators.validate_seat_free(
                capacity=session.capacity,
                seats_taken=session.seats_taken,
                sold_out_message=session.sold_out_message,
            )
    except ValidationError:
        if not waitlist:
            raise
        return None if existing is not None else WAITLISTED
    return SELECTED


def _add(
    registrant: Registrant,
    session: Session,
    *,
    actor: Actor,
    waitlist: bool = False,
    override_capacity: bool = False,
    validate_only: bool = False,
) -> SelectionResult:
    existing = Selection.objects.filter(registrant=registrant, session=session).first()
    state = _decide(
        registrant, session, existing, waitlist=waitlist, override_capacity=override_capacity
    )
    if state is None:
        return SelectionResult(existing, created=False)
    if validate_only:
        return SelectionResult(
            Selection(registrant=registrant, session=session, state=state, saved_at=timezone.now()),
            created=True,
        )
    seated = state == SELECTED
    action = {
        SELECTED: HistoryAction.SELECTION_CREATED,
        WAITLISTED: HistoryAction.SELECTION_WAITLISTED,
        INTERESTED: HistoryAction.SELECTION_INTERESTED,
    }[state]
    note = "Seated beyond capacity by staff." if override_capacity and seated else ""
    selection = _place(registrant, session, existing, state, actor=actor, action=action, note=note)
    return SelectionResult(selection, created=True)


def _place(
    registrant: Registrant,
    session: Session,
    existing: Selection | None,
    state: str,
    *,
    actor: Actor,
    action: HistoryAction,
    note: str = "",
) -> Selection:
    """Write the registrant's new ``state`` (a new selection, or a waiting one seated),
    move the session's counters and write the history entry."""
    old_state = existing.state if existing is not None else None
    now = timezone.now()
    if existing is not None:
        existing.state, existing.saved_at = state, now
        existing.save(update_fields=["state", "saved_at"])
        selection = existing
    else:
        selection = Selection.objects.create(
            registrant=registrant, session=session, state=state, saved_at=now
        )
    changes = _count(session, _moves(old_state, state))
    changes.update(_registrant_change(registrant, old_state, state))
    _log(session, actor, action.value, changes, note)
    return selection


def promote_waiting(session: Session, *, actor: Actor) -> list[Selection]:
    """Seat the first waiting registrants while seats are free (session row locked).

    Called by every write that frees a seat or adds seats; each promotion is one history
    entry. Waiting places were checked for conflicts when they were taken.
    """
    if session.waitlist_count <= 0:
        return []
    free = None if session.capacity is None else session.capacity - session.seats_taken
    if free is not None and free <= 0:
        return []
    queue = (
        Selection.objects.filter(session=session, state=WAITLISTED)
        .select_related("registrant")
        .order_by("saved_at", "id")
    )
    promoted = list(queue if free is None else queue[:free])
    if not promoted:
        return []
    now = timezone.now()
    Selection.objects.filter(pk__in=[s.pk for s in promoted]).update(state=SELECTED, saved_at=now)
    for selection in promoted:
        selection.state, selection.saved_at = SELECTED, now
    # One counter update and one insert of the entries, however many are seated.
    entries = _one_by_one(session, [(s.registrant, WAITLISTED, SELECTED) for s in promoted])
    action = HistoryAction.SELECTION_PROMOTED.value
    journal.record_many(session, actor=actor, action=action, changes=entries)
    journal.announce(session, action)
    return promoted


def _remove(registrant: Registrant, session: Session, *, actor: Actor, override_lock: bool) -> None:
    selection = Selection.objects.filter(registrant=registrant, session=session).first()
    if selection is None:
        raise Selection.DoesNotExist(
            f"Registrant {registrant.pk} has no seat or waitlist place in session {session.pk}."
        )
    if selection.state == SELECTED:
        validators.validate_can_give_up(
            included=session.selection_control == SelectionControl.INCLUDED,
            locked=session.locked_when_saved,
            override=override_lock and actor.is_staff,
        )
    selection.delete()
    seated = selection.state == SELECTED
    changes = _count(session, _moves(selection.state, None))
    changes.update(_registrant_change(registrant, selection.state, None))
    note = "Lock overridden by staff." if override_lock and actor.is_staff and seated else ""
    _log(session, actor, HistoryAction.SELECTION_DELETED.value, changes, note)
    if seated:
        promote_waiting(session, actor=actor)


# --- Services ------------------------------------------------------------------------------


def selection_add(
    *,
    registrant_id: int,
    session_id: int,
    actor: Actor,
    waitlist: bool = False,
    override_capacity: bool = False,
    validate_only: bool = False,
    organisation_id: int | None = None,
) -> SelectionResult:
    """Give the registrant a seat in the session, or a place on its waitlist.

    Side effects, in order: locks the registrant (``Registrant.DoesNotExist`` if not in
    ``organisation_id``, when given) and the session (``ValidationError`` ``does_not_exist``
    if not in the registrant's event); refuses ``not_selectable`` (not live),
    ``selection_conflict`` (overlap with a held or awaited session where either forbids it)
    and ``sold_out`` (full, unless ``waitlist``: then the registrant waits, or
    ``override_capacity`` by staff); saves the selection, moves the session's counters and
    ``updated_at`` (not its version: attendance is not an edit of the session), writes one
    history entry (``selection.created`` or ``selection.waitlisted``) and announces on
    commit. Asking again for what the registrant already has changes nothing
    (``created`` False). ``validate_only`` runs every check and writes nothing.
    """
    override_capacity = override_capacity and actor.is_staff
    with transaction.atomic():
        registrant = _lock_registrant(registrant_id, organisation_id)
        session = _lock_session(event_id=registrant.event_id, session_id=session_id)
        return _add(
            registrant,
            session,
            actor=actor,
            waitlist=waitlist,
            override_capacity=override_capacity,
            validate_only=validate_only,
        )


def selection_remove(
    *,
    registrant_id: int,
    session_id: int,
    actor: Actor,
    override_lock: bool = False,
    organisation_id: int | None = None,
) -> None:
    """Give up a seat or a waitlist place.

    Side effects, in order: locks the registrant and the session; refuses ``included`` and
    ``locked`` seats (staff may ``override_lock`` both); deletes the selection, moves the
    counters, writes ``selection.deleted``; a freed seat goes to the first waiting
    registrant (``selection.promoted``); announces on commit. ``Selection.DoesNotExist``
    when the registrant has neither.
    """
    with transaction.atomic():
        registrant = _lock_registrant(registrant_id, organisation_id)
        session = _lock_session(event_id=registrant.event_id, session_id=session_id)
        _remove(registrant, session, actor=actor, override_lock=override_lock)


def _lock_sessions(session_ids: Iterable[int], *, event_id: int) -> list[Session]:
    return list(
        Session.objects.select_for_update(of=("self",), no_key=True)
        .select_related("event")
        .filter(pk__in=list(session_ids), event_id=event_id)
        .order_by("pk")
    )


def _clean_registrant(registrant: Registrant) -> None:
    _check_registrant(registrant)
    taken = _same_email(registrant.event_id, registrant.email).exclude(pk=registrant.pk).exists()
    if taken:
        raise _email_taken()


def _same_email(event_id: int, email: str):
    """The event's registrants with ``email``, in any case: lower() on both sides, as the
    unique constraint has it, so that its index answers (an iexact lookup read every
    registrant of the table, at every registration)."""
    return (
        Registrant.objects.filter(event_id=event_id)
        .annotate(lowered=Lower("email"))
        .filter(lowered=Lower(Value(email)))
    )


def _check_registrant(registrant: Registrant) -> None:
    """The registrant's own fields, without a query."""
    validators.validate_no_null_characters(
        values={"first_name": registrant.first_name, "last_name": registrant.last_name}
    )
    registrant.email = (registrant.email or "").strip()
    registrant.full_clean(exclude=["event"], validate_constraints=False)


def _email_taken() -> ValidationError:
    return ValidationError(
        {
            "email": ValidationError(
                "This event already has a registrant with this email.", code="email_taken"
            )
        }
    )


def _save_registrant(registrant: Registrant, **kwargs) -> None:
    # No savepoint of its own: the callers' own atomic block (a savepoint where they are
    # nested, as in an import) is what a taken email rolls back.
    try:
        with transaction.atomic(savepoint=False):
            registrant.save(**kwargs)
    except IntegrityError as exc:  # the unique email, taken by a concurrent write
        raise _email_taken() from exc


def registrant_create(
    *,
    event_id: int,
    data: Mapping[str, Any],
    actor: Actor,
    session_ids: list[int] | None = None,
    organisation_id: int | None = None,
    then: Callable[[Registrant], object] | None = None,
) -> Registrant:
    """Register someone for an event and give them their first sessions; ``then(registrant)``
    last, in the same transaction (a door's own write that must stand or fall with it, such
    as the welcome message).

    Side effects, in order: locks the event against a session made live and included, not
    against other registrations (``_share_event``; ``Event.DoesNotExist`` if not in
    ``organisation_id``), validates (``email_taken`` for an email the event has, in any
    case) and saves the registrant; seats them in every live included session (beyond
    capacity, no conflict check); then, with ``session_ids``, selects those sessions by the
    usual rules (a refusal refuses the whole registration), or without it, the live
    sessions ``selected_by_default`` that have a free seat and no conflict (the others are
    skipped). Each selection writes its history entry and announces on commit.
    """
    unknown = set(data) - REGISTRANT_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not writable registrant fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        event = _share_event(event_id, organisation_id)
        registrant = Registrant(event=event, **data)
        _clean_registrant(registrant)
        _save_registrant(registrant)
        live = Session.objects.filter(event_id=event.pk, session_status=SessionStatus.LIVE)
        included = live.filter(selection_control=SelectionControl.INCLUDED)
        for session in _lock_sessions(included.values_list("pk", flat=True), event_id=event.pk):
            _seat_included(registrant, session, actor=actor)
        if session_ids is None:
            defaults = live.filter(
                selection_control=SelectionControl.OPTIONAL, selected_by_default=True
            ).values_list("pk", flat=True)
            for session in _lock_sessions(defaults, event_id=event.pk):
                try:
                    _add(registrant, session, actor=actor)
                except ValidationError:
                    continue  # full or in conflict: the default is skipped, not an error
        else:
            for session_id in dict.fromkeys(session_ids):
                session = _lock_session(event_id=event.pk, session_id=session_id)
                _add(registrant, session, actor=actor)
        if then is not None:
            then(registrant)
    return registrant


def registrants_create_many(
    *, event_id: int, rows: list[Mapping[str, Any]], actor: Actor
) -> list[Registrant | ValidationError]:
    """Register many people at once (an import): for each row, in order, the registrant or
    the refusal (the same as ``registrant_create``'s: names, email, ``email_taken`` for an
    email the event has or an earlier row of ``rows`` has, in any case).

    Where the event seats registrants as they register (a live session included or selected
    by default), each row goes through ``registrant_create`` (its own savepoint). Otherwise
    the rows are checked in Python, the taken emails read in one query and the registrants
    written in one insert: a handful of statements for the lot, not ten a row. A row
    registered meanwhile by someone else with the same email makes the insert fail: then
    the rows go one by one. All in the caller's transaction (or one of its own)."""
    with transaction.atomic():
        event = _share_event(event_id, None)
        live = Session.objects.filter(event_id=event.pk, session_status=SessionStatus.LIVE)
        seats_at_registration = live.filter(
            Q(selection_control=SelectionControl.INCLUDED)
            | Q(selection_control=SelectionControl.OPTIONAL, selected_by_default=True)
        ).exists()
        if not seats_at_registration:
            try:
                with transaction.atomic():
                    return _create_in_bulk(event, rows)
            except IntegrityError:
                pass  # an email registered meanwhile: row by row, each told apart
        return [_create_or_refusal(event.pk, row, actor) for row in rows]


def _create_or_refusal(event_id: int, row: Mapping[str, Any], actor: Actor):
    try:
        return registrant_create(event_id=event_id, data=row, actor=actor)
    except ValidationError as exc:
        return exc


def _create_in_bulk(event: Event, rows: list[Mapping[str, Any]]) -> list:
    outcomes: list[Registrant | ValidationError] = []
    for row in rows:
        unknown = set(row) - REGISTRANT_WRITABLE_FIELDS
        if unknown:
            raise TypeError(f"Not writable registrant fields: {', '.join(sorted(unknown))}")
        registrant = Registrant(event=event, **row)
        try:
            _check_registrant(registrant)
        except ValidationError as exc:
            outcomes.append(exc)
            continue
        outcomes.append(registrant)
    emails = {r.email.lower() for r in outcomes if isinstance(r, Registrant)}
    taken = set(
        Registrant.objects.filter(event_id=event.pk)
        .annotate(lowered=Lower("email"))
        .filter(lowered__in=emails)
        .values_list("lowered", flat=True)
    )
    new = []
    for index, outcome in enumerate(outcomes):
        if not isinstance(outcome, Registrant):
            continue
        email = outcome.email.lower()
        if email in taken:  # the event's, or an earlier row's
            outcomes[index] = _email_taken()
            continue
        taken.add(email)
        new.append(outcome)
    Registrant.objects.bulk_create(new)
    return outcomes


def _share_event(event_id: int, organisation_id: int | None) -> Event:
    """The event of a new registrant, locked FOR SHARE on PostgreSQL: a session made live
    and included (which seats everyone, holding the event FOR NO KEY UPDATE:
    ``sessions._lock_event_of``) waits for the registrations under way, and they for it,
    but registrations go on side by side (in a rush, one exclusive lock made them queue on
    the event's row). ``Event.DoesNotExist`` if not in ``organisation_id``. SQLite's write
    transactions run one at a time anyway."""
    if not -(2**63) <= event_id < 2**63:  # no row can have it (the ORM's lookups say so too)
        raise Event.DoesNotExist("No event matches the given query.")
    sql = f"SELECT * FROM {Event._meta.db_table} WHERE id = %s"  # noqa: S608 - our own table
    params: list[int] = [event_id]
    if organisation_id is not None:
        sql += " AND organisation_id = %s"
        params.append(organisation_id)
    if connection.vendor == "postgresql":
        sql += " FOR SHARE"
    found = list(Event.objects.raw(sql, params))
    if not found:
        raise Event.DoesNotExist("No event matches the given query.")
    return found[0]


def _seat_included(registrant: Registrant, session: Session, *, actor: Actor) -> None:
    """Seat a registrant who has just been created (so holds nothing yet)."""
    _place(
        registrant,
        session,
        None,
        SELECTED,
        actor=actor,
        action=HistoryAction.SELECTION_CREATED,
        note="Included session.",
    )


def seat_everyone_included(session: Session, *, actor: Actor) -> int:
    """Seat every registrant of the event in ``session`` (locked; live and included).

    Called by the session service when a session becomes live and included; the caller
    holds the event's lock, so no registrant is created meanwhile. Those who waited or were
    interested are seated too. One history entry.
    """
    was_interested = session.interest_count
    waiting = Selection.objects.filter(session=session, state__in=[WAITLISTED, INTERESTED])
    promoted = waiting.update(state=SELECTED, saved_at=timezone.now())
    missing = Registrant.objects.filter(event_id=session.event_id).exclude(
        selections__session=session
    )
    new = Selection.objects.bulk_create(
        Selection(registrant_id=pk, session=session, state=SELECTED)
        for pk in missing.values_list("pk", flat=True)
    )
    seated = promoted + len(new)
    if seated:
        changes = _count(
            session,
            {
                SELECTED: seated,
                WAITLISTED: -(promoted - was_interested),
                INTERESTED: -was_interested,
            },
        )
        _log(
            session,
            actor,
            HistoryAction.SELECTION_INCLUDED.value,
            changes,
            f"{seated} registrant(s) seated: the session is included for everyone.",
        )
    return seated


def publish_interests(session: Session, *, actor: Actor) -> int:
    """What the interests in ``session`` become now that it is live (row locked by the
    caller, in the transaction that publishes it): by the event's ``interest_on_publish``,
    seats first come first served up to capacity and the rest waitlisted, or interests still.

    One history entry per registrant in one insert (``selection.converted``, or
    ``selection.bookable`` for those who stay interested), which the notices read to tell
    each of them. Returns how many interests there were.
    """
    interests = list(
        Selection.objects.filter(session=session, state=INTERESTED)
        .select_related("registrant")
        .order_by("saved_at", "id")
    )
    if not interests:
        return 0
    seat = session.event.interest_on_publish == InterestOnPublish.SEAT
    blocked = (
        selectors.registrants_in_conflict(
            session=session, registrant_ids=[s.registrant_id for s in interests]
        )
        if seat
        else set()
    )
    free = None if session.capacity is None else max(session.capacity - session.seats_taken, 0)
    outcome: dict[str, list[Selection]] = {SELECTED: [], WAITLISTED: [], INTERESTED: []}
    for selection in interests:
        if not seat or selection.registrant_id in blocked:
            state = INTERESTED
        elif free is None or free > 0:
            state = SELECTED
            free = None if free is None else free - 1
        else:
            state = WAITLISTED
        outcome[state].append(selection)
    now = timezone.now()
    for state in (SELECTED, WAITLISTED):
        if outcome[state]:
            Selection.objects.filter(pk__in=[s.pk for s in outcome[state]]).update(
                state=state, saved_at=now
            )
    converted = [
        (selection.registrant, INTERESTED, state)
        for state in (SELECTED, WAITLISTED)
        for selection in outcome[state]
    ]
    if converted:
        entries = _one_by_one(session, converted)
        action = HistoryAction.SELECTION_CONVERTED.value
        journal.record_many(session, actor=actor, action=action, changes=entries)
        journal.announce(session, action)
    if outcome[INTERESTED]:
        action = HistoryAction.SELECTION_BOOKABLE.value
        journal.record_many(
            session,
            actor=actor,
            action=action,
            changes=[
                _registrant_change(s.registrant, INTERESTED, INTERESTED)
                for s in outcome[INTERESTED]
            ],
        )
    return len(interests)


def drop_interests(session: Session, *, actor: Actor) -> int:
    """The interests in ``session`` (locked), which is no longer accepted: deleted, one
    ``selection.deleted`` entry per registrant in one insert, the counter back to 0."""
    interests = list(
        Selection.objects.filter(session=session, state=INTERESTED).select_related("registrant")
    )
    if not interests:
        return 0
    Selection.objects.filter(pk__in=[s.pk for s in interests]).delete()
    entries = _one_by_one(session, [(s.registrant, INTERESTED, None) for s in interests])
    action = HistoryAction.SELECTION_DELETED.value
    journal.record_many(session, actor=actor, action=action, changes=entries)
    journal.announce(session, action)
    return len(interests)


def registrant_update(
    *,
    registrant_id: int,
    data: Mapping[str, Any],
    actor: Actor,
    organisation_id: int | None = None,
) -> Registrant:
    """Change a registrant's names or email (validated as on create). No selection changes."""
    unknown = set(data) - REGISTRANT_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not writable registrant fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        registrant = _lock_registrant(registrant_id, organisation_id)
        for name, value in data.items():
            setattr(registrant, name, value)
        _clean_registrant(registrant)
        registrant.updated_at = timezone.now()
        _save_registrant(registrant, update_fields=[*data, "updated_at"])
    return registrant


def registrant_delete(
    *, registrant_id: int, actor: Actor, organisation_id: int | None = None
) -> None:
    """Delete a registrant: each seat is given up (locks overridden), waiting registrants
    take the freed seats, and each session's history says so; then the row goes."""
    with transaction.atomic():
        registrant = _lock_registrant(registrant_id, organisation_id)
        held = registrant.selections.values_list("session_id", flat=True)
        for session in _lock_sessions(held, event_id=registrant.event_id):
            _remove(registrant, session, actor=actor, override_lock=True)
        registrant.delete()


def registrant_reset_link(*, registrant_id: int, organisation_id: int | None = None) -> Registrant:
    """A new page link for the registrant; the old one stops working."""
    from sessions_app.models.attendance import new_access_key

    with transaction.atomic():
        registrant = _lock_registrant(registrant_id, organisation_id)
        registrant.access_key = new_access_key()
        registrant.updated_at = timezone.now()
        registrant.save(update_fields=["access_key", "updated_at"])
    return registrant


_PAGE_TAKEN = {
    SELECTED: "You have a seat.",
    WAITLISTED: "You are on the waitlist.",
    INTERESTED: "Noted: it interests you. This holds no seat yet.",
}
_PAGE_GIVEN_UP = {
    SELECTED: "Seat given up.",
    WAITLISTED: "You left the waitlist.",
    INTERESTED: "No longer marked as interesting.",
}


@dataclass(frozen=True)
class PageOutcome:
    session: Session
    ok: bool
    message: str


def registrant_save_page(
    *, registrant: Registrant, wanted: set[int], shown: set[int]
) -> list[PageOutcome]:
    """What the registrant's page posts: the ticked sessions among those it showed.

    Each change is its own service call (a refused one leaves the others done), with the
    registrant as the actor. Returns one outcome per change, in session order.
    """
    actor = Actor(registrant=registrant)
    current = dict(
        Selection.objects.filter(registrant=registrant).values_list("session_id", "state")
    )
    sessions = {s.pk: s for s in Session.objects.filter(event_id=registrant.event_id, pk__in=shown)}

    def order(pk: int):
        return (sessions[pk].starts_at is None, sessions[pk].starts_at, pk)

    outcomes: list[PageOutcome] = []
    for pk in sorted(sessions, key=order):
        state = current.get(pk)
        try:
            if pk in wanted and state is None:
                result = selection_add(registrant_id=registrant.pk, session_id=pk, actor=actor)
                message = _PAGE_TAKEN[result.selection.state]
            elif pk not in wanted and state is not None:
                selection_remove(registrant_id=registrant.pk, session_id=pk, actor=actor)
                message = _PAGE_GIVEN_UP[state]
            else:
                continue
        except ValidationError as exc:
            messages = [m for errors in exc.message_dict.values() for m in errors]
            outcomes.append(PageOutcome(sessions[pk], False, " ".join(messages)))
            continue
        except Selection.DoesNotExist:
            continue
        outcomes.append(PageOutcome(sessions[pk], True, message))
    Registrant.objects.filter(pk=registrant.pk, page_saved_at__isnull=True).update(
        page_saved_at=timezone.now()
    )
    return outcomes
