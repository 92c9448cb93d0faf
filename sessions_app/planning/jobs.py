"""Suggestions made in the background: the worker runs the solver for a proposal asked for
on the grid (cancel checked at each schedule found), and an organiser accepts some or all of
its moves, or undoes an accepted suggestion as one step."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from sessions_app import services
from sessions_app.exceptions import StaleVersionError
from sessions_app.models import ScheduleProposal, Session
from sessions_app.planning import proposals

logger = logging.getLogger("sessions_app.planning")
# The statuses of a suggestion that placed nothing (``solver.Result.status``).
NOTHING_PLACED = ("infeasible", "nothing_to_place")
State = ScheduleProposal.State
MAX_CHOSEN = 1000  # sessions named for one suggestion


def progress_text(latest: dict, limit: float) -> str:
    """``latest`` as :func:`proposals.propose` reports it, for the page."""
    found, clashes = latest["found"], latest["attendee_clashes"]
    schedules = "1 schedule" if found == 1 else f"{found} schedules"
    return (
        f"{schedules} found in {latest['seconds']:.1f} s of at most {limit:g} s; the best so "
        f"far leaves {clashes} registrant clash{'' if clashes == 1 else 'es'}. Looking for a "
        "better one."
    )


def start(
    *,
    event,
    user,
    day: dt.date | None,
    move_placed: bool,
    session_ids: list[int] | None = None,
) -> ScheduleProposal:
    """A suggestion for ``event`` (one ``day`` or all), for ``session_ids`` only or every
    session, queued for the worker."""
    proposal = ScheduleProposal.objects.create(
        event=event,
        day=day,
        move_placed=move_placed,
        session_ids=sorted(set(session_ids or [])),
        created_by=user,
    )
    suggest_schedule.enqueue(proposal.pk)
    return proposal


def _move_dict(move: proposals.Move) -> dict:
    data = dataclasses.asdict(move)
    return {**data, "date": move.date.isoformat(), "start_time": move.start_time.strftime("%H:%M"),
            "end_time": move.end_time.strftime("%H:%M")}  # fmt: skip


def _move_from(data: dict) -> proposals.Move:
    return proposals.Move(
        **{
            **data,
            "date": dt.date.fromisoformat(data["date"]),
            "start_time": dt.time.fromisoformat(data["start_time"]),
            "end_time": dt.time.fromisoformat(data["end_time"]),
        }
    )


def run(proposal_id: int) -> str:
    with transaction.atomic():
        proposal = (
            ScheduleProposal.objects.select_for_update()
            .select_related("event")
            .filter(pk=proposal_id, state=State.QUEUED)
            .first()
        )
        if proposal is None:
            return "not queued"
        if proposal.cancel_requested:
            proposal.state, proposal.finished_at = State.CANCELLED, timezone.now()
            proposal.save(update_fields=["state", "finished_at"])
            return proposal.state
        proposal.state = State.RUNNING
        proposal.progress = "Looking for the best schedule."
        proposal.save(update_fields=["state", "progress"])

    limit = settings.SCHEDULE_SUGGESTION_SECONDS

    def cancelled() -> bool:
        return ScheduleProposal.objects.filter(pk=proposal_id, cancel_requested=True).exists()

    def tick(latest: dict) -> bool:
        """Progress on the page, and whether the organiser cancelled."""
        if latest:
            ScheduleProposal.objects.filter(pk=proposal_id).update(
                progress=progress_text(latest, limit)
            )
        return cancelled()

    try:
        found = proposals.propose(
            proposal.event,
            day=proposal.day,
            move_placed=proposal.move_placed,
            session_ids=proposal.session_ids or None,
            seconds=limit,
            tick=tick,
        )
    except Exception as exc:  # a bug or a database gone: said on the page, the worker goes on
        logger.exception("planning: suggestion %s failed", proposal_id)
        ScheduleProposal.objects.filter(pk=proposal_id).update(
            state=State.FAILED, progress=f"{type(exc).__name__}: {exc}"[:200],
            finished_at=timezone.now(),
        )  # fmt: skip
        return State.FAILED
    stopped = cancelled()
    ScheduleProposal.objects.filter(pk=proposal_id).update(
        state=State.CANCELLED if stopped else State.DONE,
        progress="Cancelled: the best schedule found so far is shown." if stopped else "",
        result={
            "status": found.status,
            "moves": [_move_dict(move) for move in found.moves],
            "before": dataclasses.asdict(found.before),
            # Where nothing was placed there is no "after" to compare (not a score of zeros).
            **(
                {"after": dataclasses.asdict(found.after)}
                if found.status not in NOTHING_PLACED
                else {}
            ),
            "reasons": {str(k): v for k, v in found.reasons.items()},
            "shortfalls": found.shortfalls,
            "seconds": round(found.seconds, 1),
        },
        finished_at=timezone.now(),
    )
    return State.DONE


@task()
def suggest_schedule(proposal_id: int) -> str:
    return run(proposal_id)


def moves_of(proposal: ScheduleProposal) -> list[proposals.Move]:
    return [_move_from(data) for data in proposal.result.get("moves", [])]


def accept(
    proposal: ScheduleProposal, *, session_ids: set[int], actor: services.Actor
) -> proposals.Accepted:
    """The chosen moves, each through the session service; what each session was before
    is kept so that the whole acceptance can be undone as one step."""
    chosen = [move for move in moves_of(proposal) if move.session_id in session_ids]
    before = {
        s.pk: {
            "location_id": s.location_id,
            "date": s.date.isoformat() if s.date else None,
            "start_time": s.start_time.strftime("%H:%M") if s.start_time else None,
            "end_time": s.end_time.strftime("%H:%M") if s.end_time else None,
        }
        for s in Session.objects.filter(pk__in=[m.session_id for m in chosen])
    }
    outcome = proposals.accept(chosen, actor=actor)
    versions = dict(Session.objects.filter(pk__in=outcome.applied).values_list("pk", "version"))
    proposal.accepted = {
        "applied": [
            {"session_id": pk, "version": versions[pk], "back": before[pk]}
            for pk in outcome.applied
        ],
        "skipped": {str(k): v for k, v in outcome.skipped.items()},
    }
    proposal.state = State.ACCEPTED
    proposal.save(update_fields=["accepted", "state"])
    return outcome


def undo(proposal: ScheduleProposal, *, actor: services.Actor) -> proposals.Accepted:
    """Every move the acceptance made, put back where it was, unless the session changed
    since (then it is skipped and said so)."""
    outcome = proposals.Accepted()
    for entry in proposal.accepted.get("applied", []):
        back = entry["back"]
        data = {
            "date": dt.date.fromisoformat(back["date"]) if back["date"] else None,
            "start_time": dt.time.fromisoformat(back["start_time"]) if back["start_time"] else None,
            "end_time": dt.time.fromisoformat(back["end_time"]) if back["end_time"] else None,
        }
        if back["date"] is not None:
            data["location_id"] = back["location_id"]
        try:
            services.session_update(
                session_id=entry["session_id"],
                data=data,
                actor=actor,
                expected_version=entry["version"],
                note="Undone: a schedule suggestion.",
            )
        except StaleVersionError:
            outcome.skipped[entry["session_id"]] = "changed since the suggestion was accepted"
        except ValidationError as exc:  # a rule refuses the way back (someone took the slot)
            outcome.skipped[entry["session_id"]] = " ".join(exc.messages)
        else:
            outcome.applied.append(entry["session_id"])
    proposal.state = State.UNDONE
    proposal.save(update_fields=["state"])
    return outcome
