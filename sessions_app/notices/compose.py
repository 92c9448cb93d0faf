"""The notices outbox: history rows (``SessionChange``) turned into messages to people.

The worker calls ``compose`` beside the webhooks' ``fan_out``, with a cursor of its own
(``OutboxCursor`` "notices") that reads the history in the same settled order. Each row
says what happened to a session; the people it concerns are its speakers (from the row's
``state``, the session as the change left it) and the registrants who hold a seat in it.
A new cursor starts at the settled point: nobody is written to about the past.

A move (time or room) of a session that holds its slot waits ``COALESCE_SECONDS`` before it
is sent: a later move of the same session merges into the same message, which keeps the
first "was" and takes the latest "now" (and is dropped if the session is back where it
was). An event set to hold messages keeps them in its outbox for an organiser to send.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from sessions_app.enums import (
    HOLDING_STATUSES,
    MOVE_KINDS,
    UNHELD_KINDS,
    HistoryAction,
    MessageState,
    NoticeKind,
    SessionStatus,
)
from sessions_app.models import (
    Event,
    Location,
    Message,
    MessageTemplate,
    OutboxCursor,
    Registrant,
    Review,
    Selection,
    SelectionState,
    Session,
    SessionChange,
    Speaker,
)
from sessions_app.notices import texts
from sessions_app.notices.delivery import send_message
from sessions_app.selectors import settled_now, settled_through

logger = logging.getLogger("sessions_app.notices")

CURSOR = "notices"
BATCH = 500
MOVE_FIELDS = ("date", "start_time", "end_time", "location_id", "timezone", "use_event_timezone")
NOT_SCHEDULED = "not scheduled yet"
NO_ROOM = "room to be announced"


@dataclass
class Draft:
    kind: str
    event: Event
    change: SessionChange | None
    to_email: str
    to_name: str
    context: dict[str, str]
    speaker: Speaker | None = None
    registrant: Registrant | None = None
    session_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def when(values: dict[str, Any], event: Event) -> str:
    """``Mon 4 Jan 2027, 09:00-10:00 CET`` from a session's date and times, in its zone."""
    day, start, end = values.get("date"), values.get("start_time"), values.get("end_time")
    if not (day and start and end):
        return NOT_SCHEDULED
    zone_name = event.timezone if values.get("use_event_timezone", True) else values.get("timezone")
    try:
        zone = zoneinfo.ZoneInfo(zone_name or event.timezone)
        begins = dt.datetime.combine(
            dt.date.fromisoformat(day), dt.time.fromisoformat(start), tzinfo=zone
        )
        ends = dt.datetime.combine(begins.date(), dt.time.fromisoformat(end), tzinfo=zone)
    except (ValueError, TypeError, zoneinfo.ZoneInfoNotFoundError):
        return NOT_SCHEDULED
    return f"{begins:%a %-d %b %Y, %H:%M}\u2013{ends:%H:%M} {begins.tzname()}"


def _old_values(change: SessionChange, state: dict[str, Any]) -> dict[str, Any]:
    old = dict(state)
    for name, pair in (change.changes or {}).items():
        if isinstance(pair, dict) and "old" in pair:
            old[name] = pair["old"]
    return old


def _state_of(session: Session) -> dict[str, Any]:
    """What the texts read of a session, as ``SessionChange.state`` has it."""
    return {
        "name": session.name,
        "date": session.date.isoformat() if session.date else None,
        "start_time": session.start_time.isoformat() if session.start_time else None,
        "end_time": session.end_time.isoformat() if session.end_time else None,
        "timezone": session.timezone,
        "use_event_timezone": session.use_event_timezone,
        "location_id": session.location_id,
        "session_status": session.session_status,
        "speaker_ids": [],
    }


def _session_link(event: Event, session_id: int) -> str:
    base = settings.SITE_URL.rstrip("/")
    return f"{base}/agenda/{event.organisation.slug}/{event.slug}/sessions/{session_id}/"


def registrant_link(registrant: Registrant) -> str:
    """What a registrant's message holds where their own page's link goes: a mark that
    ``delivery`` replaces with the link when it sends. The link opens and changes their page
    without a password, so it is never stored in a message (the outbox, the API and the
    roles that read messages would all hold it) and always the current one when it goes."""
    return texts.PAGE_LINK


# The history rows that name registrants one by one (``registrant.<id>`` keys), and what
# each is told by the state it went to.
_TOLD_ONE_BY_ONE = {
    HistoryAction.SELECTION_PROMOTED: {SelectionState.SELECTED: NoticeKind.REGISTRANT_SEATED},
    HistoryAction.SELECTION_CONVERTED: {
        SelectionState.SELECTED: NoticeKind.REGISTRANT_INTEREST_SEATED,
        SelectionState.WAITLISTED: NoticeKind.REGISTRANT_INTEREST_WAITLISTED,
    },
    HistoryAction.SELECTION_BOOKABLE: {SelectionState.INTERESTED: NoticeKind.REGISTRANT_BOOKABLE},
}


class _Plans:
    """What one batch of rows asks for, with the names and people it needs read in bulk."""

    def __init__(self, rows: list[SessionChange]) -> None:
        self.rows = rows
        states = [row.state or {} for row in rows]
        olds = [row.changes or {} for row in rows]
        location_ids = {s.get("location_id") for s in states} | {
            (c.get("location_id") or {}).get("old") for c in olds
        }
        self.rooms = dict(
            Location.objects.filter(pk__in={i for i in location_ids if i}).values_list("pk", "name")
        )
        speaker_ids = {i for s in states for i in s.get("speaker_ids") or []} | {
            i for c in olds for i in (c.get("speaker_ids") or {}).get("old") or []
        }
        self.speakers = Speaker.objects.in_bulk(speaker_ids)
        session_ids = {row.session_id for row in rows if row.session_id}
        self.holders: dict[int, list[Registrant]] = {}
        for selection in Selection.objects.filter(
            session_id__in=session_ids, state=SelectionState.SELECTED
        ).select_related("registrant"):
            self.holders.setdefault(selection.session_id, []).append(selection.registrant)
        promoted = {
            int(key.partition(".")[2])
            for row in rows
            if row.action in _TOLD_ONE_BY_ONE
            for key in (row.changes or {})
            if key.startswith("registrant.") and key.partition(".")[2].isdigit()
        }
        self.registrants = Registrant.objects.in_bulk(promoted)
        # What the reviewers wrote for the speakers, for the decisions' messages.
        decided = {
            row.session_id
            for row in rows
            if row.action in (HistoryAction.STATUS_APPROVED, HistoryAction.STATUS_REJECTED)
        }
        self.comments: dict[int, list[str]] = defaultdict(list)
        if decided:
            for session_id, text in (
                Review.objects.filter(session_id__in=decided)
                .exclude(speaker_comment="")
                .order_by("pk")
                .values_list("session_id", "speaker_comment")
            ):
                self.comments[session_id].append(text)
        # Selection rows keep no session state: the session as it is now stands in.
        self.sessions = {
            session.pk: _state_of(session)
            for session in Session.objects.filter(
                pk__in={row.session_id for row in rows if row.state is None and row.session_id}
            )
        }
        missing = {s.get("location_id") for s in self.sessions.values()} - set(self.rooms)
        self.rooms |= dict(
            Location.objects.filter(pk__in={i for i in missing if i}).values_list("pk", "name")
        )

    def room(self, location_id) -> str:
        return self.rooms.get(location_id, NO_ROOM) if location_id else NO_ROOM

    def drafts(self, row: SessionChange) -> list[Draft]:
        event = row.event
        action = row.action
        changes = row.changes or {}
        state = row.state or self.sessions.get(row.session_id) or {}
        if action == HistoryAction.DELETE:
            state = {k: v.get("old") for k, v in changes.items() if isinstance(v, dict)}
        status = state.get("session_status")
        old_status = (changes.get("session_status") or {}).get("old", status)
        context = {
            "event": event.name,
            "session": state.get("name") or "",
            "time": when(state, event),
            "room": self.room(state.get("location_id")),
            "link": _session_link(event, row.session_id) if row.session_id else "",
        }
        to_speakers: str | None = None
        to_holders: str | None = None
        if action == HistoryAction.STATUS_APPROVED and old_status in (
            SessionStatus.SUBMITTED,
            SessionStatus.REJECTED,
        ):  # not when a published session is taken off the agenda
            to_speakers = NoticeKind.SPEAKER_APPROVED
        elif action == HistoryAction.STATUS_REJECTED:
            to_speakers = NoticeKind.SPEAKER_REJECTED
        elif action == HistoryAction.STATUS_LIVE:
            to_speakers = NoticeKind.SPEAKER_PUBLISHED
        elif action == HistoryAction.DELETE and status in HOLDING_STATUSES:
            to_speakers = NoticeKind.SPEAKER_CANCELLED
        elif action in (HistoryAction.UPDATE, HistoryAction.RESCHEDULE):
            old = _old_values(row, state)
            moved = any(name in changes for name in MOVE_FIELDS)
            was = when(old, event)
            if moved and status in HOLDING_STATUSES and was != NOT_SCHEDULED:
                context |= {
                    "old_time": was,
                    "new_time": context["time"],
                    "old_room": self.room(old.get("location_id")),
                    "new_room": context["room"],
                }
                if (context["old_time"], context["old_room"]) != (
                    context["new_time"],
                    context["new_room"],
                ):
                    to_speakers = NoticeKind.SPEAKER_MOVED
                    if status == SessionStatus.LIVE:
                        to_holders = NoticeKind.REGISTRANT_MOVED
        if (
            action.startswith("session.status.")
            and old_status == SessionStatus.LIVE
            and status != SessionStatus.LIVE
        ):
            to_holders = NoticeKind.REGISTRANT_CANCELLED

        # A deleted session is gone: its messages name it, but point at nothing.
        session_id = None if action == HistoryAction.DELETE else row.session_id
        if session_id is None:
            context["link"] = ""
        drafts = []
        if to_speakers in (NoticeKind.SPEAKER_APPROVED, NoticeKind.SPEAKER_REJECTED):
            context["comments"] = texts.reviewers_words(self.comments.get(row.session_id, []))
        if to_speakers:
            ids = state.get("speaker_ids") or []
            for speaker in (self.speakers.get(i) for i in ids):
                if speaker is not None:
                    drafts.append(
                        Draft(
                            to_speakers, event, row, speaker.email, speaker.full_name,
                            {**context, "name": speaker.full_name},
                            speaker=speaker, session_id=session_id,
                        )
                    )  # fmt: skip
        if to_holders:
            for registrant in self.holders.get(row.session_id, []):
                drafts.append(self._to_registrant(to_holders, row, registrant, context))
        if action in _TOLD_ONE_BY_ONE:
            for key, pair in changes.items():
                number = key.partition(".")[2]
                if not (key.startswith("registrant.") and number.isdigit()):
                    continue
                registrant = self.registrants.get(int(number))
                kind = _TOLD_ONE_BY_ONE[action].get((pair or {}).get("new"))
                if registrant is not None and kind is not None:
                    drafts.append(self._to_registrant(kind, row, registrant, context))
        return drafts

    def _to_registrant(self, kind, row, registrant, context) -> Draft:
        return Draft(
            kind, row.event, row, registrant.email, registrant.full_name,
            {**context, "name": registrant.full_name, "link": registrant_link(registrant)},
            registrant=registrant, session_id=row.session_id,
        )  # fmt: skip


def _custom_texts(event_ids: set[int]) -> dict[int, dict[str, tuple[str, str]]]:
    found: dict[int, dict[str, tuple[str, str]]] = {}
    for template in MessageTemplate.objects.filter(event_id__in=event_ids):
        found.setdefault(template.event_id, {})[template.kind] = (template.subject, template.body)
    return found


def _waiting_moves(drafts: list[Draft]) -> dict[tuple, Message]:
    """The unsent move messages the drafts' moves may merge into, locked, in one query:
    by (kind, session, address), the newest of each."""
    moves = [d for d in drafts if d.kind in MOVE_KINDS]
    if not moves:
        return {}
    found: dict[tuple, Message] = {}
    for message in (
        Message.objects.select_for_update()
        .filter(
            kind__in=MOVE_KINDS,
            session_id__in={d.session_id for d in moves},
            state__in=[MessageState.HELD, MessageState.QUEUED],
        )
        .order_by("id")
    ):
        found[(message.kind, message.session_id, message.to_email)] = message
    return found


def _write(
    draft: Draft,
    custom: dict[str, tuple[str, str]],
    now: dt.datetime,
    waiting_moves: dict[tuple, Message],
) -> Message | None:
    """A new message for the draft, or the draft merged into a waiting one; None if nothing
    is to be sent (a registrant who stopped the notices, a move merged or undone)."""
    if draft.registrant is not None and draft.registrant.notices_off:
        return None
    text = texts.text_for(draft.kind, custom)
    if draft.kind in MOVE_KINDS:
        waiting = waiting_moves.get((draft.kind, draft.session_id, draft.to_email))
        if waiting is not None and waiting.state != MessageState.DISCARDED:
            if waiting.last_change_id is not None and draft.change.pk <= waiting.last_change_id:
                return None  # read again after a gap: merged already
            context = {**draft.context, **{k: waiting.context[k] for k in ("old_time", "old_room")}}
            waiting.context = context
            waiting.last_change_id = draft.change.pk
            if not waiting.edited:
                waiting.subject, waiting.body = texts.render(text, context)
            back = (context["old_time"], context["old_room"]) == (
                context["new_time"], context["new_room"],
            )  # fmt: skip
            if back:
                waiting.state = MessageState.DISCARDED
            waiting.log = [
                *waiting.log,
                {
                    "at": now.isoformat(),
                    "outcome": "discarded" if back else "merged",
                    "detail": "back where it was" if back else f"change #{draft.change.pk}",
                },
            ]
            waiting.save()
            return None
    subject, body = texts.render(text, draft.context)
    held = draft.event.hold_messages and draft.kind not in UNHELD_KINDS
    state = MessageState.HELD if held else MessageState.QUEUED
    log = []
    if not draft.to_email:
        state = MessageState.FAILED
        log = [{"at": now.isoformat(), "outcome": "failed", "detail": "no email address"}]
    delay = settings.NOTICES["COALESCE_SECONDS"] if draft.kind in MOVE_KINDS else 0
    message = Message.objects.create(
        event=draft.event,
        kind=draft.kind,
        state=state,
        speaker=draft.speaker,
        registrant=draft.registrant,
        session_id=draft.session_id,
        change=draft.change,
        last_change_id=draft.change.pk if draft.change else None,
        to_email=draft.to_email,
        to_name=draft.to_name,
        subject=subject,
        body=body,
        context=draft.context,
        send_after=now + dt.timedelta(seconds=delay),
        created_at=now,
        last_error="no email address" if not draft.to_email else "",
        log=log,
    )
    if draft.kind in MOVE_KINDS and state != MessageState.FAILED:
        waiting_moves[(draft.kind, draft.session_id, draft.to_email)] = message
    return message


def queue(message: Message) -> None:
    """Have the worker send it at its time. The task queue is in the database: the task is
    written in the caller's transaction, and goes with it if that rolls back."""
    if message.send_after > timezone.now():
        send_message.using(run_after=message.send_after).enqueue(message.pk)
    else:
        send_message.enqueue(message.pk)


def compose(*, batch: int = BATCH) -> bool:
    """Messages for the history rows after the cursor; true while there may be more."""
    latest = SessionChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    known = OutboxCursor.objects.filter(name=CURSOR).values_list("last_id", flat=True).first()
    if known is not None and known >= latest:
        return False
    made: list[Message] = []
    with transaction.atomic():
        cursor, created = OutboxCursor.objects.select_for_update().get_or_create(name=CURSOR)
        if created:  # nobody is written to about what happened before the notices
            cursor.last_id = settled_now()
        rows = list(
            SessionChange.objects.filter(id__gt=cursor.last_id)
            .select_related("event__organisation")
            .order_by("id")[:batch]
        )
        if rows:
            plans = _Plans(rows)
            custom = _custom_texts({row.event_id for row in rows})
            drafts = [draft for row in rows for draft in plans.drafts(row)]
            done = set(
                Message.objects.filter(change_id__in=[row.pk for row in rows]).values_list(
                    "change_id", "kind", "to_email"
                )
            )
            now = timezone.now()
            waiting_moves = _waiting_moves(drafts)
            for draft in drafts:
                if (draft.change.pk, draft.kind, draft.to_email) in done:
                    continue
                message = _write(draft, custom.get(draft.event.pk), now, waiting_moves)
                if message is not None:
                    made.append(message)
                    if message.state == MessageState.QUEUED:
                        queue(message)
            cursor.last_id = settled_through(
                cursor.last_id, [(row.pk, row.created_at) for row in rows], timezone.now()
            )
        cursor.save(update_fields=["last_id", "updated_at"])
    if made:
        logger.info("notices: %d messages written", len(made))
    return len(rows) == batch


def welcome(registrant: Registrant) -> Message | None:
    """The welcome message with the link to the registrant's own page, made in the caller's
    transaction (the registration's): it is sent only if the registration commits."""
    event = Event.objects.select_related("organisation").get(pk=registrant.event_id)
    draft = Draft(
        NoticeKind.REGISTRANT_WELCOME, event, None, registrant.email, registrant.full_name,
        {"name": registrant.full_name, "event": event.name, "link": registrant_link(registrant)},
        registrant=registrant,
    )  # fmt: skip
    message = _write(draft, _custom_texts({event.pk}).get(event.pk), timezone.now(), {})
    if message is not None and message.state == MessageState.QUEUED:
        queue(message)
    return message


def speaker_page_link() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("cfp:home")


def to_speaker(
    kind: str,
    speaker: Speaker,
    *,
    session: Session | None = None,
    context: dict[str, str] | None = None,
) -> Message | None:
    """One message to a speaker, made in the caller's transaction (sent if it commits), held
    where the event holds its messages (a sign-in link never is)."""
    event = Event.objects.select_related("organisation").get(pk=speaker.event_id)
    values = {
        "name": speaker.full_name,
        "event": event.name,
        "link": speaker_page_link(),
        **(context or {}),
    }
    if session is not None:
        values |= {
            "session": session.name,
            "time": when(_state_of(session), event),
            "room": session.location.name if session.location_id else NO_ROOM,
        }
    draft = Draft(
        kind, event, None, speaker.email, speaker.full_name, values,
        speaker=speaker, session_id=session.pk if session is not None else None,
    )  # fmt: skip
    message = _write(draft, _custom_texts({event.pk}).get(event.pk), timezone.now(), {})
    if message is not None and message.state == MessageState.QUEUED:
        queue(message)
    return message


def sign_in_link(speaker: Speaker) -> Message | None:
    """The speaker's sign-in message; its link is made when it is sent (delivery)."""
    return to_speaker(NoticeKind.SPEAKER_SIGN_IN, speaker, context={"link": texts.SIGN_IN_LINK})
