"""The programme committee's writes: who reviews what, the reviews, and the decision.

Proposals are the event's submitted sessions. Each gets ``reviewers_per_proposal``
reviewers of the event's committee (``Reviewer``), the least loaded first (in the event,
then in the proposal's track), never one who speaks in it (by email address) or who
abstained from it. The decision moves sessions through ``session_set_status``, so each
move is checked, recorded and announced like any other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from sessions_app.enums import SessionStatus
from sessions_app.models import (
    Comparison,
    Event,
    Review,
    ReviewAssignment,
    ReviewCriterion,
    Reviewer,
    ReviewSettings,
    Session,
    Speaker,
)
from sessions_app.models.reviews import SCALE_VALUES
from sessions_app.services import sessions as session_services
from sessions_app.services.actors import Actor


def _refuse(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def review_total(scores: Mapping[str, int], criteria: Iterable[ReviewCriterion]) -> float:
    """The weighted mean of ``scores`` (by criterion id as text), each over its scale's top:
    0 to 1. A criterion not answered is left out."""
    weighted = weights = 0.0
    for criterion in criteria:
        value = scores.get(str(criterion.pk))
        if value is None:
            continue
        weighted += criterion.weight * value / criterion.top
        weights += criterion.weight
    return weighted / weights if weights else 0.0


def _speaker_emails(session_ids: Iterable[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for session_id, email in Speaker.objects.filter(
        session_links__session_id__in=list(session_ids)
    ).values_list("session_links__session_id", "email"):
        if email:
            found.setdefault(session_id, set()).add(email.lower())
    return found


def assign_reviewers(*, event_id: int, session_ids: Iterable[int] | None = None) -> int:
    """Give each submitted proposal of the event (or those of ``session_ids``) reviewers
    until it has ``reviewers_per_proposal`` who have not abstained; returns how many
    assignments were made.

    The event's row is locked meanwhile, so two runs (two proposals arriving at once) see
    each other's assignments and the loads stay even. A reviewer is never given a
    proposal they speak in (their account's address is a speaker's of it) or one they
    abstained from; among the others, the one with the fewest proposals in the event,
    then in the proposal's track, then the longest on the committee.
    """
    with transaction.atomic():
        event = Event.objects.select_for_update(no_key=True).get(pk=event_id)
        config = ReviewSettings.objects.filter(event=event).first()
        committee = list(Reviewer.objects.filter(event=event).select_related("user").order_by("pk"))
        if config is None or not committee:
            return 0
        proposals = Session.objects.filter(event=event, session_status=SessionStatus.SUBMITTED)
        if session_ids is not None:
            proposals = proposals.filter(pk__in=list(session_ids))
        proposals = list(proposals.order_by("created_at", "pk").values_list("pk", "track_id"))
        assignments = list(
            ReviewAssignment.objects.filter(session__event=event).values_list(
                "session_id", "reviewer_id", "abstained", "session__track_id"
            )
        )
        load = Counter(r for _s, r, abstained, _t in assignments if not abstained)
        track_load = Counter((r, t) for _s, r, abstained, t in assignments if not abstained)
        given: dict[int, set[int]] = {}
        for session_id, reviewer_id, _abstained, _track in assignments:
            given.setdefault(session_id, set()).add(reviewer_id)
        active = Counter(s for s, _r, abstained, _t in assignments if not abstained)
        speakers = _speaker_emails(pk for pk, _track in proposals)
        made = []
        for session_id, track_id in proposals:
            wanted = config.reviewers_per_proposal - active[session_id]
            if wanted <= 0:
                continue
            own = speakers.get(session_id, set())
            candidates = [
                member.user
                for member in committee
                if member.user_id not in given.get(session_id, set())
                and (member.user.email or "").lower() not in own
            ]
            candidates.sort(
                key=lambda user: (load[user.pk], track_load[(user.pk, track_id)], user.pk)
            )
            for user in candidates[:wanted]:
                made.append(ReviewAssignment(session_id=session_id, reviewer=user))
                load[user.pk] += 1
                track_load[(user.pk, track_id)] += 1
                given.setdefault(session_id, set()).add(user.pk)
        ReviewAssignment.objects.bulk_create(made)
    return len(made)


def assign_waiting_proposals(*, batch: int = 500) -> int:
    """Reviewers for the submitted proposals that have fewer than their event's number (made
    in the admin, through the API or an import, rather than the call, which assigns at
    once); the worker runs it every sweep. Returns how many assignments were made."""
    made = 0
    for event_id, wanted in ReviewSettings.objects.values_list(
        "event_id", "reviewers_per_proposal"
    ):
        lacking = (
            Session.objects.filter(event_id=event_id, session_status=SessionStatus.SUBMITTED)
            .annotate(given=Count("assignments", filter=Q(assignments__abstained=False)))
            .filter(given__lt=wanted)
            .values_list("pk", flat=True)[:batch]
        )
        ids = list(lacking)
        if ids:
            made += assign_reviewers(event_id=event_id, session_ids=ids)
    return made


def assign_new_proposal(session: Session) -> int:
    """Reviewers for a proposal that just arrived (nothing where the event has no
    committee)."""
    return assign_reviewers(event_id=session.event_id, session_ids=[session.pk])


def _assignment(user, session_id: int, *, lock: bool = False) -> ReviewAssignment:
    found = ReviewAssignment.objects.select_related("session__event")
    if lock:
        found = found.select_for_update(of=("self",), no_key=True)
    assignment = found.filter(session_id=session_id, reviewer=user, abstained=False).first()
    if assignment is None:
        raise PermissionDenied("This proposal is not yours to review.")
    return assignment


def _window(event: Event) -> ReviewSettings:
    config = ReviewSettings.objects.filter(event=event).first()
    if config is None or not config.is_open():
        raise _refuse("__all__", "The review window is closed.", "review_closed")
    return config


def _scores(event: Event, raw: Mapping[str, Any]) -> tuple[dict[str, int], list[ReviewCriterion]]:
    criteria = list(ReviewCriterion.objects.filter(event=event))
    if not criteria:
        raise _refuse("__all__", "The event has no review criteria yet.", "no_criteria")
    scores: dict[str, int] = {}
    for criterion in criteria:
        value = raw.get(str(criterion.pk))
        if value is None or value == "":
            raise _refuse(f"score_{criterion.pk}", f"Score “{criterion.name}”.", "required")
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number not in SCALE_VALUES[criterion.scale]:
            allowed = ", ".join(str(v) for v in SCALE_VALUES[criterion.scale])
            raise _refuse(
                f"score_{criterion.pk}",
                f"Score “{criterion.name}” with one of {allowed}.",
                "invalid",
            )
        scores[str(criterion.pk)] = number
    unknown = set(raw) - set(scores)
    if unknown:
        raise _refuse("scores", "Score only the event's criteria.", "unknown_field")
    return scores, criteria


def review_save(
    *,
    user,
    session_id: int,
    scores: Mapping[str, Any],
    comment: str = "",
    speaker_comment: str = "",
) -> Review:
    """The reviewer's review of a proposal given to them, new or changed, while the window
    is open; every criterion scored on its scale."""
    with transaction.atomic():
        assignment = _assignment(user, session_id, lock=True)
        event = assignment.session.event
        _window(event)
        values, criteria = _scores(event, scores)
        review = Review.objects.filter(session_id=session_id, reviewer=user).first()
        if review is None:
            review = Review(session_id=session_id, reviewer=user)
        review.scores = values
        review.total = review_total(values, criteria)
        review.comment = comment
        review.speaker_comment = speaker_comment
        review.updated_at = timezone.now()
        review.full_clean(exclude=["session", "reviewer"], validate_unique=False)
        review.save()
    return review


def abstain(*, user, session_id: int) -> int:
    """A reviewer declares a conflict of interest: their review of it (if any) is dropped
    and another reviewer is given the proposal. Returns how many were newly assigned."""
    with transaction.atomic():
        assignment = _assignment(user, session_id, lock=True)
        assignment.abstained = True
        assignment.save(update_fields=["abstained"])
        Review.objects.filter(session_id=session_id, reviewer=user).delete()
        event_id = assignment.session.event_id
    return assign_reviewers(event_id=event_id, session_ids=[session_id])


def reassign(*, session_id: int, from_user_id: int, to_user_id: int) -> None:
    """An organiser moves a proposal from one reviewer to another of the committee (the
    first one's review of it, if any, goes); the assignment keeps its id."""
    with transaction.atomic():
        session = Session.objects.select_for_update(of=("self",), no_key=True).get(pk=session_id)
        member = Reviewer.objects.filter(event_id=session.event_id, user_id=to_user_id).first()
        if member is None:
            raise _refuse("reviewer", "Choose a member of the event's committee.", "invalid")
        own = _speaker_emails([session.pk]).get(session.pk, set())
        if (member.user.email or "").lower() in own:
            raise _refuse("reviewer", "They speak in this proposal.", "own_proposal")
        if ReviewAssignment.objects.filter(
            session=session, reviewer_id=to_user_id, abstained=False
        ).exists():
            raise _refuse("reviewer", "They review this proposal already.", "duplicate")
        # Their earlier abstention from it, if any, goes: an organiser chose them now.
        ReviewAssignment.objects.filter(session=session, reviewer_id=to_user_id).delete()
        ReviewAssignment.objects.filter(session=session, reviewer_id=from_user_id).update(
            reviewer_id=to_user_id, abstained=False
        )
        Review.objects.filter(session=session, reviewer_id=from_user_id).delete()


@dataclass
class Decision:
    approved: list[Session] = field(default_factory=list)
    rejected: list[Session] = field(default_factory=list)
    refused: list[tuple[Session, str]] = field(default_factory=list)


def decide(
    *,
    ranked_by_track: Mapping[Any, list[int]],
    top: int | None,
    threshold: float | None,
    scores: Mapping[int, float | None],
    actor: Actor,
    note: str = "",
) -> Decision:
    """Approve the ``top`` proposals of each track (or those scoring at least
    ``threshold``) and reject the rest, each through the status workflow; a move the
    rules refuse (a clash) leaves that session submitted and is reported, and the next one
    of its track does not take its place."""
    outcome = Decision()
    for _track, session_ids in ranked_by_track.items():
        for place, session_id in enumerate(session_ids):
            score = scores.get(session_id)
            accept = (
                place < top
                if top is not None
                else score is not None and threshold is not None and score >= threshold
            )
            status = SessionStatus.APPROVED if accept else SessionStatus.REJECTED
            try:
                session = session_services.session_set_status(
                    session_id=session_id, status=status, actor=actor, note=note
                )
            except ValidationError as exc:
                session = Session.objects.get(pk=session_id)
                outcome.refused.append((session, " ".join(exc.messages)))
                continue
            (outcome.approved if accept else outcome.rejected).append(session)
    return outcome


def comparison_save(*, user, winner_id: int, loser_id: int) -> Comparison:
    """A reviewer judges one proposal given to them better than another given to them, in
    the same event, while its window is open; a later judgement of the pair replaces the
    earlier."""
    if winner_id == loser_id:
        raise _refuse("__all__", "Compare two different proposals.", "invalid")
    with transaction.atomic():
        winner = _assignment(user, winner_id, lock=True)
        loser = _assignment(user, loser_id, lock=True)
        event = winner.session.event
        if loser.session.event_id != event.pk:
            raise _refuse("__all__", "Compare proposals of one event.", "invalid")
        _window(event)
        pair = Q(winner_id=winner_id, loser_id=loser_id) | Q(winner_id=loser_id, loser_id=winner_id)
        Comparison.objects.filter(pair, reviewer=user).delete()
        return Comparison.objects.create(
            event=event, reviewer=user, winner_id=winner_id, loser_id=loser_id
        )


def next_pair(*, user, event_id: int) -> tuple[Session, Session] | None:
    """Two of the reviewer's proposals in the event that they have not compared yet: the
    least compared of them first (by anyone), so that every proposal gets judgements."""
    mine = list(
        Session.objects.filter(
            event_id=event_id,
            session_status=SessionStatus.SUBMITTED,
            assignments__reviewer=user,
            assignments__abstained=False,
        ).order_by("pk")
    )
    if len(mine) < 2:
        return None
    done = {
        frozenset(pair)
        for pair in Comparison.objects.filter(reviewer=user, event_id=event_id).values_list(
            "winner_id", "loser_id"
        )
    }
    seen = Counter()
    for winner, loser in Comparison.objects.filter(event_id=event_id).values_list(
        "winner_id", "loser_id"
    ):
        seen[winner] += 1
        seen[loser] += 1
    ordered = sorted(mine, key=lambda s: (seen[s.pk], s.pk))
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if frozenset((first.pk, second.pk)) not in done:
                return first, second
    return None
