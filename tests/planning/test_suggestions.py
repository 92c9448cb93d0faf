"""Suggestions asked for on the grid: made by the worker, cancelled, accepted and undone,
each only by an organiser of the event."""

from __future__ import annotations

from sessions_app import services
from sessions_app.models import ScheduleProposal, Session
from sessions_app.planning import jobs
from tests import factories
from tests.admin.conftest import staff
from tests.tasks import run_due_tasks

SUGGEST = "/admin/sessions_app/session/schedule/suggest/"


def ask(client, event, **extra):
    response = client.post(SUGGEST, {"event": event.pk, "day": event.start_date, **extra})
    assert response.status_code == 302, response.content.decode()[:500]
    return ScheduleProposal.objects.latest("pk"), response["Location"]


def test_the_worker_makes_it_and_the_grid_shows_it(client, acme, settings):
    settings.SCHEDULE_SUGGESTION_SECONDS = 2
    talk = factories.create_via_service(event=acme.event, name="Unplaced")
    client.force_login(acme.organiser)
    proposal, grid = ask(client, acme.event)
    assert proposal.state == ScheduleProposal.State.QUEUED
    assert "Waiting for the worker" in client.get(grid).content.decode()
    run_due_tasks()
    proposal.refresh_from_db()
    assert proposal.state == ScheduleProposal.State.DONE
    [move] = jobs.moves_of(proposal)
    assert move.session_id == talk.pk and move.was == "not scheduled"
    response = client.get(grid)
    page = response.content.decode()
    assert 'class="sm-suggested"' in page and f'value="{talk.pk}"' in page
    # The grid shows the suggested time whole, even before its usual first hour.
    [ghost] = response.context["proposal_ghosts"]
    assert response.context["grid"].first_hour <= move.start_time.hour
    minutes = (move.end_time.hour - move.start_time.hour) * 60 + (
        move.end_time.minute - move.start_time.minute
    )
    assert ghost["row_end"] - ghost["row_start"] == minutes // 5


def test_a_cancel_before_the_worker_starts_makes_nothing(client, acme):
    client.force_login(acme.organiser)
    proposal, _grid = ask(client, acme.event)
    client.post(f"{SUGGEST}{proposal.pk}/", {"action": "cancel"})
    run_due_tasks()
    proposal.refresh_from_db()
    assert proposal.state == ScheduleProposal.State.CANCELLED and proposal.result == {}


def test_accept_skips_a_session_changed_meanwhile_and_undo_is_one_step(client, acme, settings):
    settings.SCHEDULE_SUGGESTION_SECONDS = 2
    one = factories.create_via_service(event=acme.event, name="One")
    two = factories.create_via_service(event=acme.event, name="Two")
    client.force_login(acme.organiser)
    proposal, _grid = ask(client, acme.event)
    run_due_tasks()
    services.session_update(session_id=two.pk, data={"name": "Two, renamed"}, actor=services.SYSTEM)
    client.post(f"{SUGGEST}{proposal.pk}/", {"action": "accept", "session": [one.pk, two.pk]})
    proposal.refresh_from_db()
    assert [e["session_id"] for e in proposal.accepted["applied"]] == [one.pk]
    assert proposal.accepted["skipped"] == {str(two.pk): "changed since the suggestion was made"}
    assert Session.objects.get(pk=two.pk).start_time is None
    client.post(f"{SUGGEST}{proposal.pk}/", {"action": "undo"})
    assert Session.objects.get(pk=one.pk).start_time is None
    assert ScheduleProposal.objects.get(pk=proposal.pk).state == ScheduleProposal.State.UNDONE


def test_reviewers_and_other_organisations_cannot_ask(client, acme, globex):
    client.force_login(staff(acme.event.organisation, "reviewer"))
    assert client.post(SUGGEST, {"event": acme.event.pk}).status_code == 403
    client.force_login(globex.organiser)
    assert client.post(SUGGEST, {"event": acme.event.pk}).status_code == 404
    assert not ScheduleProposal.objects.exists()
