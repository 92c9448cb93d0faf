"""A suggestion accepted while someone else moves one of its sessions, on real concurrent
connections (PostgreSQL): the other's move stands, the acceptance skips that session and
says so, the rest of the suggestion is applied."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections, transaction

from sessions_app import services
from sessions_app.models import Session, SessionChange
from sessions_app.planning import proposals
from tests import factories

pytestmark = [pytest.mark.postgres]


@pytest.mark.django_db(transaction=True)
def test_a_session_moved_by_someone_else_during_the_acceptance_is_skipped_not_overwritten():
    event = factories.event()
    event.end_date = event.start_date
    event.save()
    room = factories.location(event=event, name="Hall")
    mine = factories.create_via_service(event=event, name="Placed by the suggestion")
    theirs = factories.create_via_service(event=event, name="Moved by hand meanwhile")
    suggestion = proposals.propose(event, seconds=2)
    assert {m.session_id for m in suggestion.moves} == {mine.pk, theirs.pk}

    holding, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def move_by_hand():
        """Another organiser's move: written, and held uncommitted (row locked) while the
        acceptance starts."""
        try:
            with transaction.atomic():
                services.session_update(
                    session_id=theirs.pk,
                    data={
                        "date": event.start_date,
                        "start_time": dt.time(18),
                        "end_time": dt.time(19),
                        "location_id": room.pk,
                    },
                    actor=services.SYSTEM,
                    expected_version=theirs.version,
                )
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    def accept():
        try:
            assert holding.wait(10)
            # The other move commits while this acceptance waits on its row.
            threading.Timer(0.5, release.set).start()
            outcome["accepted"] = proposals.accept(suggestion.moves, actor=services.SYSTEM)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move_by_hand), threading.Thread(target=accept)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    accepted = outcome["accepted"]
    assert accepted.skipped == {theirs.pk: "changed since the suggestion was made"}
    assert accepted.applied == [mine.pk]
    moved = Session.objects.get(pk=theirs.pk)
    assert (moved.start_time, moved.version) == (dt.time(18), theirs.version + 1)
    assert not SessionChange.objects.filter(session_id=theirs.pk, note=proposals.NOTE).exists()
