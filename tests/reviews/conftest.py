"""An event with a programme committee: settings, criteria, four reviewers."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from sessions_app.enums import MemberRole
from sessions_app.models import Membership, ReviewCriterion, Reviewer, ReviewSettings
from sessions_app.models.reviews import ReviewScale
from tests import factories


@pytest.fixture
def committee(db):
    event = factories.event(timezone="Europe/Berlin")
    organisation = event.organisation
    tracks = [factories.track(event=event, name=n) for n in ("Web", "Data")]
    settings = ReviewSettings.objects.create(
        event=event,
        opens_at=timezone.now() - dt.timedelta(days=1),
        closes_at=timezone.now() + dt.timedelta(days=7),
        reviewers_per_proposal=2,
    )
    criteria = [
        ReviewCriterion.objects.create(event=event, name="Relevance", weight=3, position=0),
        ReviewCriterion.objects.create(
            event=event, name="Fits", weight=1, scale=ReviewScale.YES_NO, position=1
        ),
    ]
    group = Group.objects.get_or_create(name="Reviewers")[0]
    reviewers = []
    for n in range(4):
        user = factories.user(username=f"rev{n}", email=f"rev{n}@example.org", is_staff=True)
        user.groups.add(group)
        Membership.objects.create(organisation=organisation, user=user, role=MemberRole.REVIEWER)
        Reviewer.objects.create(event=event, user=user)
        reviewers.append(user)
    return SimpleNamespace(
        event=event, tracks=tracks, settings=settings, criteria=criteria, reviewers=reviewers
    )


def score(committee, relevance: int, fits: int) -> dict[str, int]:
    relevance_criterion, fits_criterion = committee.criteria
    return {str(relevance_criterion.pk): relevance, str(fits_criterion.pk): fits}
