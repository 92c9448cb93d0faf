"""Assignment, reviews and the committee's decision, through the services."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sessions_app import services
from sessions_app.enums import MessageState, NoticeKind
from sessions_app.models import (
    CallForProposals,
    Comparison,
    Message,
    Review,
    ReviewAssignment,
    Session,
    Speaker,
)
from sessions_app.notices import compose
from sessions_app.reviewing import scores as scoring
from tests import factories
from tests.reviews.conftest import score

pytestmark = pytest.mark.django_db


def proposals(committee, count: int, **extra) -> list[Session]:
    return [
        factories.create_via_service(
            event=committee.event,
            name=f"Proposal {n}",
            track_id=committee.tracks[n % 2].pk,
            **extra,
        )
        for n in range(count)
    ]


def test_assignment_never_gives_a_reviewer_their_own_proposal_and_balances_load(committee):
    rev0 = committee.reviewers[0]
    own = Speaker.objects.create(event=committee.event, first_name="R", email="REV0@example.org")
    mine = factories.create_via_service(
        event=committee.event, name="By a reviewer", speaker_ids=[own.pk]
    )
    others = proposals(committee, 9)

    made = services.assign_reviewers(event_id=committee.event.pk)

    assert made == 20  # 10 proposals, 2 reviewers each
    given = ReviewAssignment.objects.all()
    assert not given.filter(session=mine, reviewer=rev0).exists()
    assert all(given.filter(session=p).count() == 2 for p in [mine, *others])
    load = Counter(given.values_list("reviewer_id", flat=True))
    assert max(load.values()) - min(load.values()) <= 1
    assert services.assign_reviewers(event_id=committee.event.pk) == 0  # nothing left to give


def test_a_new_proposal_through_the_call_is_assigned_as_it_arrives(committee):
    call = CallForProposals.objects.create(
        event=committee.event,
        opens_at=timezone.now() - dt.timedelta(days=1),
        closes_at=timezone.now() + dt.timedelta(days=1),
    )
    session, _speaker, _ = services.proposal_submit(
        call=call,
        email="new@example.org",
        profile={"first_name": "New"},
        data={"name": "Fresh", "description": "An abstract."},
        co_speakers=[],
    )
    assert ReviewAssignment.objects.filter(session=session).count() == 2


def test_a_review_is_saved_with_its_weighted_total_and_can_be_changed(committee):
    [proposal] = proposals(committee, 1)
    services.assign_reviewers(event_id=committee.event.pk)
    reviewer = ReviewAssignment.objects.filter(session=proposal).first().reviewer

    review = services.review_save(
        user=reviewer, session_id=proposal.pk, scores=score(committee, 4, 0), comment="Good."
    )
    # (3 * 4/5 + 1 * 0/1) / 4 = 0.6
    assert review.total == pytest.approx(0.6)
    again = services.review_save(
        user=reviewer, session_id=proposal.pk, scores=score(committee, 5, 1)
    )
    assert again.pk == review.pk and again.total == pytest.approx(1.0)
    assert Review.objects.count() == 1


@pytest.mark.parametrize(
    ("relevance", "fits", "field"),
    [(6, 1, "relevance"), (0, 1, "relevance"), (3, 2, "fits"), (None, 1, "relevance")],
    ids=["above_scale", "below_scale", "not_yes_or_no", "missing"],
)
def test_a_score_off_its_scale_is_refused(committee, relevance, fits, field):
    [proposal] = proposals(committee, 1)
    services.assign_reviewers(event_id=committee.event.pk)
    reviewer = ReviewAssignment.objects.filter(session=proposal).first().reviewer
    raw = score(committee, relevance, fits)
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(ValidationError) as info:
        services.review_save(user=reviewer, session_id=proposal.pk, scores=raw)
    criterion = committee.criteria[0 if field == "relevance" else 1]
    assert f"score_{criterion.pk}" in info.value.message_dict
    assert not Review.objects.exists()


def test_only_an_assigned_reviewer_reviews_and_only_while_the_window_is_open(committee):
    [proposal] = proposals(committee, 1)
    services.assign_reviewers(event_id=committee.event.pk)
    assigned = set(ReviewAssignment.objects.values_list("reviewer_id", flat=True))
    outsider = next(r for r in committee.reviewers if r.pk not in assigned)
    with pytest.raises(PermissionDenied):
        services.review_save(user=outsider, session_id=proposal.pk, scores=score(committee, 3, 1))
    insider = next(r for r in committee.reviewers if r.pk in assigned)
    committee.settings.closes_at = timezone.now() - dt.timedelta(minutes=1)
    committee.settings.opens_at = timezone.now() - dt.timedelta(days=2)
    committee.settings.save()
    with pytest.raises(ValidationError) as info:
        services.review_save(user=insider, session_id=proposal.pk, scores=score(committee, 3, 1))
    assert info.value.message_dict == {"__all__": ["The review window is closed."]}
    assert not Review.objects.exists()


def test_an_abstaining_reviewer_is_replaced(committee):
    [proposal] = proposals(committee, 1)
    services.assign_reviewers(event_id=committee.event.pk)
    first = ReviewAssignment.objects.filter(session=proposal).first().reviewer
    services.review_save(user=first, session_id=proposal.pk, scores=score(committee, 3, 1))

    assert services.abstain(user=first, session_id=proposal.pk) == 1

    active = ReviewAssignment.objects.filter(session=proposal, abstained=False)
    assert active.count() == 2 and not active.filter(reviewer=first).exists()
    assert not Review.objects.filter(reviewer=first).exists()
    with pytest.raises(PermissionDenied):
        services.review_save(user=first, session_id=proposal.pk, scores=score(committee, 3, 1))


def test_decide_top_n_per_track_reports_a_clash_and_holds_the_messages(committee, settings):
    settings.NOTICES = {**settings.NOTICES, "COALESCE_SECONDS": 0.0}
    compose.compose()  # the notices start here
    room = factories.location(event=committee.event)
    day = committee.event.start_date.isoformat()
    held = factories.create_via_service(
        event=committee.event, name="Already held", location_id=room.pk, date=day,
        start_time="10:00", end_time="11:00", session_status="approved",
    )  # fmt: skip
    web, data = committee.tracks
    speaker = Speaker.objects.create(event=committee.event, first_name="Ada", email="ada@x.org")
    sessions = {
        name: factories.create_via_service(
            event=committee.event,
            name=name,
            track_id=track.pk,
            speaker_ids=[speaker.pk],
            **(
                {"location_id": room.pk, "date": day, "start_time": "10:30", "end_time": "11:30"}
                if name == "Web clashing"
                else {}
            ),
        )
        for name, track in (
            ("Web best", web),
            ("Web clashing", web),
            ("Web third", web),
            ("Web worst", web),
            ("Data best", data),
            ("Data second", data),
            ("Data worst", data),
        )
    }
    marks = {"best": 5, "clashing": 4, "third": 3, "second": 4, "worst": 1}
    services.assign_reviewers(event_id=committee.event.pk)
    for assignment in ReviewAssignment.objects.select_related("session", "reviewer"):
        mark = marks[assignment.session.name.split()[-1]]
        services.review_save(
            user=assignment.reviewer,
            session_id=assignment.session_id,
            scores=score(committee, mark, 1),
            speaker_comment="Lovely idea." if assignment.session.name == "Web worst" else "",
        )
    totals = list(Review.objects.values_list("session_id", "reviewer_id", "total"))
    rows = scoring.table([s.pk for s in sessions.values()], totals)
    by_track: dict = {}
    for row in scoring.ranked(rows.values()):
        track = Session.objects.get(pk=row.session_id).track_id
        by_track.setdefault(track, []).append(row.session_id)
    services.event_update(
        event_id=committee.event.pk, data={"hold_messages": True}, actor=services.SYSTEM
    )

    outcome = services.reviews.decide(
        ranked_by_track=by_track,
        top=2,
        threshold=None,
        scores={pk: row.score for pk, row in rows.items()},
        actor=services.SYSTEM,
    )

    status = dict(
        Session.objects.filter(pk__in=[s.pk for s in sessions.values()]).values_list(
            "name", "session_status"
        )
    )
    assert status == {
        "Web best": "approved",
        "Web clashing": "submitted",  # refused: reported, left submitted
        "Web third": "rejected",
        "Web worst": "rejected",
        "Data best": "approved",
        "Data second": "approved",
        "Data worst": "rejected",
    }
    assert [(s.name, "clash" in why or "booked" in why) for s, why in outcome.refused] == [
        ("Web clashing", True)
    ]
    assert Session.objects.get(pk=held.pk).session_status == "approved"
    while compose.compose():
        pass
    messages = Message.objects.filter(
        kind__in=[NoticeKind.SPEAKER_APPROVED, NoticeKind.SPEAKER_REJECTED]
    )
    assert messages.count() == 6
    assert set(messages.values_list("state", flat=True)) == {MessageState.HELD}
    worst = messages.get(session=sessions["Web worst"])
    assert "From the reviewers:\n\nLovely idea." in worst.body
    assert "From the reviewers" not in messages.get(session=sessions["Data best"]).body


def test_an_organiser_reassigns_but_never_to_a_speaker_of_it(committee):
    rev0, rev1, _rev2, rev3 = committee.reviewers
    own = Speaker.objects.create(event=committee.event, first_name="R", email="rev3@example.org")
    session = factories.create_via_service(event=committee.event, name="T", speaker_ids=[own.pk])
    assignment = ReviewAssignment.objects.create(session=session, reviewer=rev0)
    with pytest.raises(ValidationError) as info:
        services.reassign(session_id=session.pk, from_user_id=rev0.pk, to_user_id=rev3.pk)
    assert info.value.message_dict == {"reviewer": ["They speak in this proposal."]}
    services.reassign(session_id=session.pk, from_user_id=rev0.pk, to_user_id=rev1.pk)
    assignment.refresh_from_db()
    assert assignment.reviewer == rev1


def test_comparisons_rank_the_proposals_by_bradley_terry(committee):
    a, b, c = (factories.create_via_service(event=committee.event, name=name) for name in "ABC")
    for session in (a, b, c):
        for reviewer in committee.reviewers[:2]:
            ReviewAssignment.objects.create(session=session, reviewer=reviewer)
    first, second = committee.reviewers[:2]
    judged = []
    while (pair := services.next_pair(user=first, event_id=committee.event.pk)) is not None:
        left, right = pair
        better, worse = sorted(pair, key=lambda s: s.name)  # A beats B beats C
        services.comparison_save(user=first, winner_id=better.pk, loser_id=worse.pk)
        judged.append({left.pk, right.pk})
    assert len(judged) == 3  # every pair once
    services.comparison_save(user=second, winner_id=a.pk, loser_id=c.pk)
    services.comparison_save(user=second, winner_id=c.pk, loser_id=a.pk)  # changed its mind
    assert Comparison.objects.filter(reviewer=second).count() == 1
    strengths = scoring.bradley_terry(
        [a.pk, b.pk, c.pk], Comparison.objects.values_list("winner_id", "loser_id")
    )
    assert set(strengths) == {a.pk, b.pk, c.pk}
    assert strengths[a.pk] > strengths[b.pk]
    with pytest.raises(ValidationError):
        services.comparison_save(user=first, winner_id=a.pk, loser_id=a.pk)
    outsider = committee.reviewers[3]
    with pytest.raises(PermissionDenied):
        services.comparison_save(user=outsider, winner_id=a.pk, loser_id=b.pk)


def test_proposals_made_outside_the_call_are_given_reviewers_by_the_worker(committee):
    made = proposals(committee, 3)  # through the session service, as the admin and API do
    assert not ReviewAssignment.objects.exists()

    assert services.reviews.assign_waiting_proposals() == 6

    assert all(ReviewAssignment.objects.filter(session=p).count() == 2 for p in made)
    assert services.reviews.assign_waiting_proposals() == 0  # nothing waits any more
