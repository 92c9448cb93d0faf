"""A client bound to a blind reviewer: its answers name no speaker of the events they
review blind (crawl every read it can make)."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from sessions_app import services
from sessions_app.models import ApiClient, CallForProposals, ReviewAssignment
from sessions_app.notices import compose
from sessions_app.services.clients import api_client_create, known_scopes
from tests.api.conftest import request_token

pytestmark = pytest.mark.django_db

SECRET = {"first": "Zebulon", "last": "Quixotic", "email": "zq@hidden.example", "bio": "Theremin"}


def test_a_blind_reviewers_client_names_no_speaker(committee, settings):
    settings.NOTICES = {**settings.NOTICES, "COALESCE_SECONDS": 0.0}
    compose.compose()
    event = committee.event
    committee.settings.blind = True
    committee.settings.save()
    call = CallForProposals.objects.create(
        event=event,
        opens_at=timezone.now() - dt.timedelta(days=1),
        closes_at=timezone.now() + dt.timedelta(days=1),
    )
    proposal, speaker, _ = services.proposal_submit(
        call=call,
        email=SECRET["email"],
        profile={"first_name": SECRET["first"], "last_name": SECRET["last"], "bio": SECRET["bio"]},
        data={"name": "A talk", "description": "Abstract."},
        co_speakers=[],
    )
    services.proposal_withdraw(
        user=services.proposals.speaker_account(SECRET["email"]),
        session_id=proposal.pk,
        note=f"{SECRET['first']} changed plans",
    )
    services.session_set_status(session_id=proposal.pk, status="submitted", actor=services.SYSTEM)
    while compose.compose():
        pass
    reviewer = committee.reviewers[0]
    ReviewAssignment.objects.get_or_create(session=proposal, reviewer=reviewer)
    client, secret = api_client_create(
        organisation=event.organisation, name="Reviewer's", scopes=known_scopes()
    )
    ApiClient.objects.filter(pk=client.pk).update(reviewer=reviewer)
    http = Client()
    token = request_token(http, client.client_id, secret).json()["access_token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    reads = [
        "/api/v1/sessions?expand=speakers,event",
        f"/api/v1/sessions/{proposal.pk}?expand=speakers",
        f"/api/v1/sessions/{proposal.pk}/history",
        f"/api/v1/sessions/{proposal.pk}/reviews",
        "/api/v1/speakers",
        f"/api/v1/speakers/{speaker.pk}",
        "/api/v1/messages",
    ]
    for path in reads:
        response = http.get(path, **auth)
        assert response.status_code in (200, 404), (path, response.status_code)
        body = response.content.decode()
        for value in SECRET.values():
            assert value not in body, (path, value)
    listed = json.loads(http.get(f"/api/v1/sessions/{proposal.pk}?expand=speakers", **auth).content)
    assert listed["speakers"] == [] and listed["speaker_ids"] == [speaker.pk]
    # An organiser's client of the same organisation sees them.
    other, other_secret = api_client_create(
        organisation=event.organisation, name="Organisers'", scopes=known_scopes()
    )
    other_token = request_token(http, other.client_id, other_secret).json()["access_token"]
    seen = http.get(
        f"/api/v1/sessions/{proposal.pk}/history", HTTP_AUTHORIZATION=f"Bearer {other_token}"
    ).content.decode()
    assert SECRET["email"] in seen and SECRET["first"] in seen
