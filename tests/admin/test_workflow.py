"""Status moves: one button per allowed move, bulk actions that report per session."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages

from sessions_app.admin.sessions import CLASH_TITLE
from sessions_app.enums import ALLOWED_TRANSITIONS, SessionStatus
from sessions_app.models import Session, SessionChange
from tests import factories
from tests.admin.conftest import change_url

LIST = "/admin/sessions_app/session/"
REVIEW = "/admin/sessions_app/session/review/"


def status_url(session) -> str:
    return f"/admin/sessions_app/session/{session.pk}/status/"


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("status", list(SessionStatus), ids=str)
def test_status_buttons_are_the_allowed_moves(client, acme, status):
    Session.objects.filter(pk=acme.proposal.pk).update(session_status=status)
    client.force_login(acme.reviewer)
    moves = client.get(change_url(acme.proposal)).context["status_moves"]
    assert [m["status"] for m in moves] == list(ALLOWED_TRANSITIONS[status])


def test_status_move_with_note_is_saved_with_history(client, acme):
    client.force_login(acme.reviewer)
    response = client.post(
        status_url(acme.proposal), {"status": "approved", "note": "Great fit", "version": "1"}
    )
    assert response.status_code == 302
    assert response["Location"] == change_url(acme.proposal)
    session = Session.objects.get(pk=acme.proposal.pk)
    assert (session.session_status, session.version) == (SessionStatus.APPROVED, 2)
    entry = SessionChange.objects.get()
    assert (entry.action, entry.note, entry.actor_user, entry.changes) == (
        "session.status.approved",
        "Great fit",
        acme.reviewer,
        {"session_status": {"old": "submitted", "new": "approved"}},
    )
    assert ("success", "“Acme proposal” moved from submitted to approved.") in messages_of(response)


def test_status_move_not_in_table_is_refused_and_explained(client, acme):
    client.force_login(acme.reviewer)
    response = client.post(status_url(acme.proposal), {"status": "live", "version": "1"})
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert (
        "A submitted session cannot move to live. Allowed from submitted: approved, rejected, "
        "withdrawn." in text
    )
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.SUBMITTED
    assert not SessionChange.objects.exists()


def test_status_publish_without_schedule_is_refused_and_explained(client, acme):
    unscheduled = factories.session(event=acme.event, session_status=SessionStatus.APPROVED)
    client.force_login(acme.reviewer)
    response = client.post(status_url(unscheduled), {"status": "live", "version": "1"})
    [(level, text)] = messages_of(response)
    assert level == "error" and "only once it has a date" in text
    assert Session.objects.get(pk=unscheduled.pk).session_status == SessionStatus.APPROVED


def test_status_move_approving_into_held_slot_is_refused_with_clash(client, acme):
    clash = factories.scheduled(
        event=acme.event, name="Clasher", start="10:30", end="11:30", location=acme.room
    )
    client.force_login(acme.reviewer)
    response = client.post(status_url(clash), {"status": "approved", "version": "1"})
    [(level, text)] = messages_of(response)
    assert level == "error" and "Acme keynote" in text
    assert Session.objects.get(pk=clash.pk).session_status == SessionStatus.SUBMITTED


def test_status_move_from_stale_page_is_refused(client, acme):
    client.force_login(acme.reviewer)
    client.post(status_url(acme.proposal), {"status": "approved", "version": "1"})
    response = client.post(status_url(acme.proposal), {"status": "rejected", "version": "1"})
    assert messages_of(response)[-1][0] == "error"
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.APPROVED
    assert SessionChange.objects.count() == 1


def test_status_view_refuses_get(client, acme):
    client.force_login(acme.reviewer)
    assert client.get(status_url(acme.proposal)).status_code == 405


def test_review_queue_lists_submitted_oldest_first_with_clash_flag(client, acme):
    late = factories.scheduled(
        event=acme.event, name="Late clash", start="10:30", end="11:00", location=acme.room
    )
    factories.scheduled(
        event=acme.event,
        name="Approved one",
        start="15:00",
        end="16:00",
        session_status=SessionStatus.APPROVED,
    )
    client.force_login(acme.reviewer)
    response = client.get(REVIEW)
    rows = list(response.context["cl"].result_list)
    assert [(s.name, s.clashes_held) for s in rows] == [
        ("Acme proposal", False),
        ("Late clash", True),
    ]
    assert f'<span class="sm-flag" title="{CLASH_TITLE}">clash</span>' in response.content.decode()
    assert late.created_at > acme.proposal.created_at


def test_review_queue_submitted_time_is_in_the_event_zone(client, acme):
    Session.objects.filter(pk=acme.proposal.pk).update(
        created_at=dt.datetime(2030, 1, 15, 23, 30, tzinfo=dt.UTC)
    )
    client.force_login(acme.reviewer)
    body = client.get(REVIEW).content.decode()
    assert "Wed 16 Jan 2030, 00:30 CET" in body


def bulk(client, url, action, sessions):
    return client.post(
        url, {"action": action, "_selected_action": [s.pk for s in sessions], "index": "0"}
    )


def test_bulk_approve_reports_each_session_moved_or_refused(client, acme):
    rejected = factories.session(
        event=acme.event, name="Turned down", session_status=SessionStatus.REJECTED
    )
    client.force_login(acme.reviewer)
    response = bulk(client, LIST, "approve_selected", [acme.proposal, rejected])
    assert response.status_code == 302 and response["Location"] == LIST
    found = messages_of(response)
    assert (
        "error",
        f"Not approved: “Turned down” (#{rejected.pk}): A rejected session cannot "
        "move to approved. Allowed from rejected: submitted.",
    ) in found
    assert ("success", f"Approved 1 session: “Acme proposal” (#{acme.proposal.pk}).") in found
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.APPROVED
    assert Session.objects.get(pk=rejected.pk).session_status == SessionStatus.REJECTED
    assert list(SessionChange.objects.values_list("session_id", "action")) == [
        (acme.proposal.pk, "session.status.approved")
    ]


def test_bulk_publish_and_unpublish(client, acme):
    client.force_login(acme.reviewer)
    response = bulk(client, LIST, "publish_selected", [acme.held, acme.proposal])
    found = messages_of(response)
    assert ("success", f"Published 1 session: “Acme keynote” (#{acme.held.pk}).") in found
    assert any(
        level == "error" and "Acme proposal" in text and "Allowed from submitted" in text
        for level, text in found
    )
    assert Session.objects.get(pk=acme.held.pk).session_status == SessionStatus.LIVE

    response = bulk(client, LIST, "unpublish_selected", [acme.held, acme.proposal])
    found = messages_of(response)
    assert ("success", f"Unpublished 1 session: “Acme keynote” (#{acme.held.pk}).") in found
    assert any("only live sessions can be unpublished" in text for _, text in found)
    assert Session.objects.get(pk=acme.held.pk).session_status == SessionStatus.APPROVED
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.SUBMITTED


def test_bulk_approve_does_not_unpublish_live_sessions(client, acme):
    Session.objects.filter(pk=acme.held.pk).update(session_status=SessionStatus.LIVE)
    client.force_login(acme.reviewer)
    found = messages_of(bulk(client, LIST, "approve_selected", [acme.held]))
    assert found == [
        (
            "error",
            f"Not approved: “Acme keynote” (#{acme.held.pk}): it is live; "
            "use “Unpublish” to take it off the agenda.",
        )
    ]
    assert Session.objects.get(pk=acme.held.pk).session_status == SessionStatus.LIVE


def test_bulk_reject_ignores_other_organisations_ids(client, acme, globex):
    client.force_login(acme.reviewer)
    bulk(client, LIST, "reject_selected", [globex.proposal])
    assert Session.objects.get(pk=globex.proposal.pk).session_status == SessionStatus.SUBMITTED
    assert not SessionChange.objects.exists()


def test_review_actions_hidden_from_organiser(client, acme):
    client.force_login(acme.organiser)
    actions = {
        name for name, _label in client.get(LIST).context["action_form"].fields["action"].choices
    }
    # An organiser plans (pins, suggestions); only reviewers move the status.
    assert actions == {
        "",
        "suggest_for_selected",
        "pin_selected",
        "unpin_selected",
        "ask_speakers_to_confirm",
    }


def test_bulk_approve_from_review_queue_returns_to_it(client, acme):
    client.force_login(acme.reviewer)
    response = bulk(client, REVIEW, "approve_selected", [acme.proposal])
    assert response.status_code == 302 and response["Location"] == REVIEW
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.APPROVED
