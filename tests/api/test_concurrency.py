"""Two API requests racing for one room slot, each in its own thread and connection."""

import threading

import pytest
from django.db import connections
from django.test import Client

from sessions_app.models import Session, SessionChange
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_patches_racing_for_one_slot_give_one_200_and_one_409(make_caller, organisation):
    event = factories.event(organisation=organisation)
    room = factories.location(event=event)
    first = factories.scheduled(event=event, location=room, start="10:00", end="11:00")
    second = factories.scheduled(event=event, location=room, start="10:30", end="11:30")
    caller = make_caller(organisation)
    barrier = threading.Barrier(2)
    answers = {}

    def approve(session_id):
        http = Client()  # one client per thread: the test client is not thread-safe
        try:
            barrier.wait(timeout=10)
            answers[session_id] = http.patch(
                f"/api/v1/sessions/{session_id}",
                '{"session_status": "approved"}',
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {caller.token}",
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(s.pk,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(r.status_code for r in answers.values()) == [200, 409]
    winner_id = next(pk for pk, r in answers.items() if r.status_code == 200)
    loser = next(r for r in answers.values() if r.status_code == 409)
    body = loser.json()
    assert loser["Content-Type"].startswith("application/problem+json")
    assert [c["id"] for c in body["conflicts"]] == [winner_id]
    assert list(Session.objects.filter(session_status="approved").values_list("pk", flat=True)) == [
        winner_id
    ]
    assert SessionChange.objects.filter(action="session.status.approved").count() == 1
