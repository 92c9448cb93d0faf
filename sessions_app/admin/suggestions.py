"""Schedule suggestions on the grid: ask for one (the worker makes it), follow it, cancel
it, accept some or all of its moves, undo an accepted one as one step."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse

from sessions_app import services
from sessions_app.admin.scoping import events_for, may, require
from sessions_app.exceptions import StaleVersionError
from sessions_app.models import BlockedSlot, ScheduleProposal, Session, SpeakerAvailability
from sessions_app.planning import jobs
from sessions_app.validators import ascii_int, date_or_none

State = ScheduleProposal.State
SLOT_MINUTES = 5


def _grid_url(event_id: int, day: dt.date | None, proposal_id: int | None = None) -> str:
    query = {"event": event_id}
    if day:
        query["day"] = day.isoformat()
    if proposal_id:
        query["proposal"] = proposal_id
    return reverse("admin:sessions_app_session_schedule") + "?" + urlencode(query)


PLAN = "sessions_app.change_session"  # who plans an event's grid: moves, suggestions


def may_plan(request, event) -> bool:
    return may(request, PLAN, event.organisation_id)


def _may_plan(request, event) -> None:
    require(request, PLAN, event.organisation_id)


def suggest_view(model_admin, request):
    """POST ``event``, ``day`` (empty: every day) and ``move_placed``: a new suggestion."""
    event_id = ascii_int(request.POST.get("event"))
    event = events_for(request).filter(pk=event_id).first() if event_id else None
    if event is None:
        raise Http404("No such event.")
    _may_plan(request, event)
    day = date_or_none(request.POST.get("day"))
    if day is not None and not event.start_date <= day <= event.end_date:
        day = None
    proposal = jobs.start(
        event=event, user=request.user, day=day, move_placed=request.POST.get("move_placed") == "1"
    )
    return HttpResponseRedirect(_grid_url(event.pk, day, proposal.pk))


def suggest_for_selected(model_admin, request, queryset):
    """The list's action: a suggestion that places (or moves) only the ticked sessions, all
    of one event; the grid then follows it."""
    events = list(events_for(request).filter(pk__in=queryset.values("event_id").distinct()[:2]))
    if len(events) != 1:
        model_admin.message_user(
            request, "Tick sessions of one event to suggest a schedule for them.", messages.ERROR
        )
        return None
    [event] = events
    if not may_plan(request, event):
        model_admin.message_user(
            request, f"Only organisers of {event.name} plan its schedule.", messages.ERROR
        )
        return None
    chosen = list(queryset.values_list("pk", flat=True)[: jobs.MAX_CHOSEN + 1])
    if len(chosen) > jobs.MAX_CHOSEN:
        model_admin.message_user(
            request, f"Tick at most {jobs.MAX_CHOSEN} sessions for one suggestion.", messages.ERROR
        )
        return None
    proposal = jobs.start(
        event=event, user=request.user, day=None, move_placed=True, session_ids=chosen
    )
    return HttpResponseRedirect(_grid_url(event.pk, None, proposal.pk))


def pin_selected(model_admin, request, queryset, *, pinned: bool) -> None:
    """The list's actions: pin (or unpin) each ticked session, one history entry each."""
    actor = services.Actor(user=request.user)
    done, refused = [], []
    for session in queryset.filter(pinned=not pinned).select_related("event").order_by("pk"):
        label = f"“{session.name}” (#{session.pk})"
        if not may_plan(request, session.event):
            refused.append(f"{label}: only organisers of its event plan its schedule")
            continue
        try:
            services.session_update(
                session_id=session.pk, data={"pinned": pinned}, actor=actor, note=""
            )
        except (ValidationError, StaleVersionError) as exc:
            refused.append(f"{label}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
        else:
            done.append(label)
    verb = "Pinned" if pinned else "Unpinned"
    if done:
        model_admin.message_user(
            request, f"{verb} {len(done)}: " + ", ".join(done) + ".", messages.SUCCESS
        )
    else:
        model_admin.message_user(request, f"{verb} none: nothing to change.", messages.INFO)
    for line in refused:
        model_admin.message_user(request, f"Not {verb.lower()}: {line}.", messages.ERROR)


def proposal_view(model_admin, request, proposal_id: int):
    """POST ``action``: ``cancel``, ``accept`` (with the ticked ``session`` ids) or ``undo``."""
    proposal = (
        ScheduleProposal.objects.filter(pk=proposal_id, event__in=events_for(request))
        .select_related("event")
        .first()
    )
    if proposal is None:
        raise Http404("No such suggestion.")
    _may_plan(request, proposal.event)
    actor = services.Actor(user=request.user)
    action = request.POST.get("action")
    if action == "cancel" and proposal.state in (State.QUEUED, State.RUNNING):
        ScheduleProposal.objects.filter(pk=proposal.pk).update(cancel_requested=True)
        messages.info(request, "Cancelling: the best schedule found so far will be shown.")
    elif action == "accept" and proposal.state in (State.DONE, State.CANCELLED):
        chosen = {n for n in map(ascii_int, request.POST.getlist("session")) if n is not None}
        outcome = jobs.accept(proposal, session_ids=chosen, actor=actor)
        text = f"{len(outcome.applied)} session(s) moved as suggested."
        if outcome.skipped:
            names = {m.session_id: m.name for m in jobs.moves_of(proposal)}
            text += " Skipped: " + "; ".join(
                f"{names.get(pk, pk)} ({why})" for pk, why in outcome.skipped.items()
            )
        messages.success(request, text)
    elif action == "undo" and proposal.state == State.ACCEPTED:
        outcome = jobs.undo(proposal, actor=actor)
        text = f"Undone: {len(outcome.applied)} session(s) back where they were."
        if outcome.skipped:
            text += " Not undone (changed since): " + ", ".join(map(str, outcome.skipped))
        messages.success(request, text)
    else:
        messages.warning(request, "That cannot be done with this suggestion now.")
    return HttpResponseRedirect(_grid_url(proposal.event_id, proposal.day, proposal.pk))


def _proposal_in(request, event) -> ScheduleProposal | None:
    """The suggestion the grid's address names (read once per request)."""
    if not hasattr(request, "_sm_proposal"):
        proposal_id = ascii_int(request.GET.get("proposal"))
        request._sm_proposal = (
            ScheduleProposal.objects.filter(pk=proposal_id, event=event).first()
            if proposal_id is not None
            else None
        )
    return request._sm_proposal


def suggested_spans(request, event, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The times on ``day`` the suggestion in the address would use: the grid shows them."""
    proposal = _proposal_in(request, event)
    if proposal is None:
        return []
    zone = zoneinfo.ZoneInfo(event.timezone)
    return [
        (
            dt.datetime.combine(day, move.start_time, tzinfo=zone),
            dt.datetime.combine(day, move.end_time, tzinfo=zone),
        )
        for move in jobs.moves_of(proposal)
        if move.date == day
    ]


def proposal_context(request, event, day: dt.date, grid) -> dict:
    """The suggestion named in the grid's address: its state, its moves and, for this
    day's, ghost blocks placed on the grid."""
    proposal = _proposal_in(request, event)
    if proposal is None:
        return {}
    moves = jobs.moves_of(proposal)
    zone = zoneinfo.ZoneInfo(event.timezone)
    origin = dt.datetime.combine(day, dt.time(grid.first_hour), tzinfo=zone)
    columns = {c.location.pk: c for c in grid.columns if c.location is not None}
    ghosts = []
    for move in moves:
        column = columns.get(move.location_id)
        if move.date != day or column is None:
            continue
        start = dt.datetime.combine(day, move.start_time, tzinfo=zone)
        end = dt.datetime.combine(day, move.end_time, tzinfo=zone)
        row_start = max(2, 2 + int((start - origin).total_seconds() // 60 // SLOT_MINUTES))
        row_end = max(row_start + 1, 2 + int((end - origin).total_seconds() // 60 // SLOT_MINUTES))
        ghosts.append(
            {
                "move": move,
                "column": column.first,
                "lanes": column.lanes,
                "row_start": row_start,
                "row_end": row_end,
            }
        )
    result = proposal.result or {}
    reasons = result.get("reasons", {})
    names = dict(
        Session.objects.filter(event=event, pk__in=[int(k) for k in reasons]).values_list(
            "pk", "name"
        )
    )
    return {
        "proposal": proposal,
        "proposal_moves": moves,
        "proposal_ghosts": ghosts,
        "proposal_before": result.get("before", {}),
        "proposal_after": result.get("after", {}),
        # (id, name, why): names read in one query; a session deleted since has none.
        "proposal_reasons": [(k, names.get(int(k), ""), why) for k, why in reasons.items()],
        "proposal_shortfalls": result.get("shortfalls", []),
        "proposal_running": proposal.state in (State.QUEUED, State.RUNNING),
        "proposal_url": reverse("admin:sessions_app_session_schedule_proposal", args=[proposal.pk]),
    }


def constraints_context(event, day: dt.date, grid) -> dict:
    """The day's blocked slots as areas on the grid, and the speakers' availability for
    the planner's script (minutes of the day, in the event's zone)."""
    zone = zoneinfo.ZoneInfo(event.timezone)
    day_start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    day_end = day_start + dt.timedelta(days=1)
    origin = dt.datetime.combine(day, dt.time(grid.first_hour), tzinfo=zone)
    last_row = 2 + grid.rows
    columns = {c.location.pk: c for c in grid.columns if c.location is not None}
    span_all = (2, grid.total_lanes) if grid.columns else None

    def row(moment: dt.datetime) -> int:
        return min(
            last_row, max(2, 2 + int((moment - origin).total_seconds() // 60 // SLOT_MINUTES))
        )

    areas = []
    for block in BlockedSlot.objects.filter(
        event=event, starts_at__lt=day_end, ends_at__gt=day_start
    ).select_related("location"):
        if block.location_id is None:
            if span_all is None:
                continue
            first, lanes = span_all
        elif block.location_id in columns:
            first, lanes = columns[block.location_id].first, columns[block.location_id].lanes
        else:
            continue
        start, end = row(block.starts_at.astimezone(zone)), row(block.ends_at.astimezone(zone))
        if end > start:
            areas.append({"label": block.label, "column": first, "lanes": lanes,
                          "row_start": start, "row_end": end})  # fmt: skip
    windows: dict[int, list[list[int]]] = {}
    for window in SpeakerAvailability.objects.filter(speaker__event=event):
        lo = (window.starts_at - day_start).total_seconds() // 60
        hi = (window.ends_at - day_start).total_seconds() // 60
        windows.setdefault(window.speaker_id, []).append([int(lo), int(hi)])
    return {"blocked_areas": areas, "availability_json": json.dumps(windows)}
