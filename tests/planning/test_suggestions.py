"""Suggestions asked for on the grid: made by the worker, cancelled, accepted and undone,
each only by an organiser of the event."""

from __future__ import annotations

import threading

from sessions_app import services
from sessions_app.models import ScheduleProposal, Session
from sessions_app.planning import jobs
from tests import factories
from tests.admin.conftest import staff
from tests.tasks import run_due_tasks

SUGGEST = "/admin/sessions_app/session/schedule/suggest/"
LIST = "/admin/sessions_app/session/"


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


def test_a_running_suggestion_shows_its_progress_and_a_cancel_stops_it(acme, monkeypatch):
    """The solver runs on its own thread; the worker's thread writes what it has found so
    far every tick and stops it when the organiser cancels."""
    from sessions_app.planning import proposals, solver

    factories.create_via_service(event=acme.event, name="Unplaced")
    monkeypatch.setattr(proposals, "TICK", 0.01)
    real_solve = solver.solve

    def slow_solve(problem, *, should_stop, on_solution, **kwargs):
        on_solution(3, 1.25, 7)  # three schedules so far, the best with 7 clashes
        for _ in range(500):  # until the worker says stop (at most 5 s)
            if should_stop():
                return real_solve(problem, seconds=1)
            threading.Event().wait(0.01)
        raise AssertionError("the cancel never reached the solver")

    written, progress_text = [], jobs.progress_text

    def progress_then_cancel(latest, limit):
        written.append(progress_text(latest, limit))
        ScheduleProposal.objects.update(cancel_requested=True)  # the organiser presses Cancel
        return written[-1]

    monkeypatch.setattr(solver, "solve", slow_solve)
    monkeypatch.setattr(jobs, "progress_text", progress_then_cancel)
    proposal = jobs.start(event=acme.event, user=acme.organiser, day=None, move_placed=False)

    assert jobs.run(proposal.pk) == ScheduleProposal.State.DONE
    assert written[0] == (
        "3 schedules found in 1.2 s of at most 10 s; the best so far leaves 7 registrant "
        "clashes. Looking for a better one."
    )
    proposal.refresh_from_db()
    assert proposal.state == ScheduleProposal.State.CANCELLED
    assert proposal.progress == "Cancelled: the best schedule found so far is shown."
    assert len(jobs.moves_of(proposal)) == 1  # the best found by then, to review


def test_the_lists_action_suggests_for_the_ticked_sessions_of_one_event(client, acme, globex):
    chosen = factories.create_via_service(event=acme.event, name="Chosen")
    factories.create_via_service(event=acme.event, name="Not ticked")
    client.force_login(acme.organiser)
    response = client.post(
        LIST, {"action": "suggest_for_selected", "_selected_action": [chosen.pk]}
    )
    proposal = ScheduleProposal.objects.get()
    assert response.status_code == 302 and f"proposal={proposal.pk}" in response["Location"]
    assert proposal.session_ids == [chosen.pk] and proposal.move_placed
    assert proposal.created_by == acme.organiser
    # Sessions of two events: refused, nothing queued. Another organisation's: not seen.
    other_event = factories.event(organisation=acme.event.organisation, name="Second")
    elsewhere = factories.create_via_service(event=other_event, name="Elsewhere")
    client.post(
        LIST, {"action": "suggest_for_selected", "_selected_action": [chosen.pk, elsewhere.pk]}
    )
    client.post(LIST, {"action": "suggest_for_selected", "_selected_action": [globex.proposal.pk]})
    assert ScheduleProposal.objects.count() == 1


def test_the_lists_actions_pin_and_unpin_each_through_the_service(client, acme):
    client.force_login(acme.organiser)
    client.post(LIST, {"action": "pin_selected", "_selected_action": [acme.held.pk]})
    held = Session.objects.get(pk=acme.held.pk)
    assert held.pinned
    [entry] = held.changes.filter(changes__has_key="pinned")
    assert entry.actor_user == acme.organiser
    client.post(LIST, {"action": "unpin_selected", "_selected_action": [acme.held.pk]})
    assert not Session.objects.get(pk=acme.held.pk).pinned
    # A reviewer reviews; only organisers plan.
    client.force_login(staff(acme.event.organisation, "reviewer"))
    client.post(LIST, {"action": "pin_selected", "_selected_action": [acme.held.pk]})
    assert not Session.objects.get(pk=acme.held.pk).pinned


def test_an_unscheduled_session_is_placed_for_its_own_length(client, acme, settings):
    settings.SCHEDULE_SUGGESTION_SECONDS = 2
    workshop = services.session_type_create(
        event_id=acme.event.pk, data={"name": "Workshop", "default_minutes": 90}
    )
    talk = factories.create_via_service(
        event=acme.event, name="Long one", session_type_id=workshop.pk
    )
    assert talk.duration_minutes == 90
    client.force_login(acme.organiser)
    proposal, _grid = ask(client, acme.event)
    run_due_tasks()
    [move] = jobs.moves_of(ScheduleProposal.objects.get(pk=proposal.pk))
    length = (move.end_time.hour * 60 + move.end_time.minute) - (
        move.start_time.hour * 60 + move.start_time.minute
    )
    assert (move.session_id, length) == (talk.pk, 90)
