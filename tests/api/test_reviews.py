"""A session's reviews over the API: scope reviews:read, names left out where blind."""

import datetime as dt

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.models import ReviewAssignment, ReviewCriterion, ReviewSettings
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(organisation, event):
    settings = ReviewSettings.objects.create(
        event=event,
        opens_at=timezone.now() - dt.timedelta(days=1),
        closes_at=timezone.now() + dt.timedelta(days=1),
    )
    criterion = ReviewCriterion.objects.create(event=event, name="Relevance")
    session = factories.create_via_service(event=event, name="Proposal")
    reviewers = [
        factories.user(username=f"r{n}", organisation=organisation, roles=["reviewer"])
        for n in range(2)
    ]
    for reviewer, mark in zip(reviewers, (4, 2), strict=True):
        ReviewAssignment.objects.create(session=session, reviewer=reviewer)
        services.review_save(
            user=reviewer, session_id=session.pk, scores={str(criterion.pk): mark}, comment="c"
        )
    return settings, session, reviewers, criterion


def test_reviews_and_summary_for_a_client_with_the_scope(make_caller, organisation, reviewed):
    settings, session, reviewers, criterion = reviewed
    caller = make_caller(organisation, scopes=["sessions:read", "reviews:read"])
    body = caller.get(f"/api/v1/sessions/{session.pk}/reviews").json()
    assert [(r["reviewer_id"], r["reviewer"], r["scores"]) for r in body["items"]] == [
        (reviewers[0].pk, "r0", {str(criterion.pk): 4}),
        (reviewers[1].pk, "r1", {str(criterion.pk): 2}),
    ]
    assert body["review_summary"]["count"] == 2
    assert body["review_summary"]["mean"] == pytest.approx(0.6)
    # One review each: no reviewer has a spread of their own yet, so nothing is normalised.
    assert body["review_summary"]["normalised"] == pytest.approx(0.0)

    settings.blind = True
    settings.save()
    blind = caller.get(f"/api/v1/sessions/{session.pk}/reviews").json()
    assert [r["reviewer"] for r in blind["items"]] == [None, None]


def test_reviews_need_the_scope_and_the_organisation(make_caller, organisation, reviewed):
    _settings, session, _reviewers, _criterion = reviewed
    without = make_caller(organisation, scopes=["sessions:read"])
    assert without.get(f"/api/v1/sessions/{session.pk}/reviews").status_code == 403
    other = make_caller(factories.organisation(), scopes=["reviews:read"])
    assert other.get(f"/api/v1/sessions/{session.pk}/reviews").status_code == 404
