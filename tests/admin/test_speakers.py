"""Speakers in the admin: their list and page, and picking them on the session form."""

import pytest
from django.test import Client

from sessions_app.models import Session, SessionChange, SessionSpeaker, Speaker
from tests.admin.conftest import change_url, form_data

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def speaker(org, first="Ada", last="Lovelace", **kw):
    return Speaker.objects.create(event=org.event, first_name=first, last_name=last, **kw)


def test_an_organiser_adds_a_speaker(acme):
    http = logged_in(acme.organiser)

    response = http.post(
        "/admin/sessions_app/speaker/add/",
        {
            "event": acme.event.pk,
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace@example.org",
            "company": "Navy",
            "job_title": "",
            "bio": "",
        },
    )

    assert response.status_code == 302, response.content
    grace = Speaker.objects.get()
    assert (grace.full_name, grace.event) == ("Grace Hopper", acme.event)
    listing = http.get("/admin/sessions_app/speaker/", {"event": acme.event.pk}).content.decode()
    assert "Grace Hopper" in listing


def test_speakers_are_picked_in_order_on_the_session_form(acme):
    ada, grace = speaker(acme), speaker(acme, "Grace", "Hopper")
    http = logged_in(acme.organiser)
    session = acme.proposal

    response = http.post(
        change_url(session), form_data(session, speakers=[str(grace.pk), str(ada.pk)])
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    session.refresh_from_db()
    assert session.speaker_ids == [grace.pk, ada.pk]
    assert [link.speaker_id for link in SessionSpeaker.objects.order_by("position")] == [
        grace.pk,
        ada.pk,
    ]
    change = SessionChange.objects.get(session_id=session.pk)
    assert change.changes == {"speaker_ids": {"old": [], "new": [grace.pk, ada.pk]}}
    assert change.actor_user == acme.organiser

    # The same speakers in another order is a change too.
    response = http.post(
        change_url(session), form_data(session, speakers=[str(ada.pk), str(grace.pk)])
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.speaker_ids == [ada.pk, grace.pk]
    page = http.get(change_url(session)).content.decode()
    assert f'<option value="{ada.pk}" selected>Ada Lovelace</option>' in page


def test_a_double_booked_speaker_is_refused_on_the_form(acme):
    ada = speaker(acme)
    Session.objects.filter(pk=acme.held.pk).update(speaker_ids=[ada.pk])
    SessionSpeaker.objects.create(session=acme.held, speaker=ada)
    other = acme.proposal
    Session.objects.filter(pk=other.pk).update(
        location=acme.other_room, start_time="10:30", end_time="11:30", session_status="approved"
    )
    other.refresh_from_db()
    http = logged_in(acme.organiser)

    response = http.post(change_url(other), form_data(other, speakers=[str(ada.pk)]))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["speakers"] == [
        f'Ada Lovelace already speaks at this time in "Acme keynote" (#{acme.held.pk}).'
    ]
    other.refresh_from_db()
    assert other.speaker_ids is None
    assert not SessionChange.objects.filter(session_id=other.pk).exists()


def test_a_speaker_of_another_event_is_refused_on_the_form(acme, globex):
    theirs = speaker(globex)

    response = logged_in(acme.organiser).post(
        change_url(acme.proposal), form_data(acme.proposal, speakers=[str(theirs.pk)])
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["speakers"] == [
        f"The event has no speaker with id {theirs.pk}."
    ]


def test_the_picker_offers_the_events_speakers_only(acme, globex):
    speaker(acme, company="Analytical Engines")
    speaker(acme, "Grace", "Hopper")
    speaker(globex, "Ada", "Elsewhere")
    http = logged_in(acme.organiser)
    url = f"/admin/sessions_app/speaker/autocomplete/{acme.event.pk}/"

    everyone = http.get(url).json()
    found = http.get(url, {"term": "ada analytical"}).json()

    assert [r["text"] for r in everyone["results"]] == [
        "Grace Hopper",
        "Ada Lovelace (Analytical Engines)",
    ]
    assert [r["text"] for r in found["results"]] == ["Ada Lovelace (Analytical Engines)"]
    assert everyone["pagination"] == {"more": False}
    other = f"/admin/sessions_app/speaker/autocomplete/{globex.event.pk}/"
    assert http.get(other).status_code == 403


def test_a_speakers_page_lists_their_sessions_and_they_cannot_be_deleted(acme):
    ada = speaker(acme)
    Session.objects.filter(pk=acme.held.pk).update(speaker_ids=[ada.pk])
    SessionSpeaker.objects.create(session=acme.held, speaker=ada)
    http = logged_in(acme.organiser)

    page = http.get(f"/admin/sessions_app/speaker/{ada.pk}/change/").content.decode()

    assert "Acme keynote" in page
    assert http.get(f"/admin/sessions_app/speaker/{ada.pk}/delete/").status_code == 403
    confirm = http.post(
        "/admin/sessions_app/speaker/",
        {"action": "delete_selected", "_selected_action": [ada.pk]},
    )
    assert "your account doesn't have permission to delete" in confirm.content.decode()
    response = http.post(
        "/admin/sessions_app/speaker/",
        {"action": "delete_selected", "_selected_action": [ada.pk], "post": "yes"},
    )
    assert response.status_code == 403
    assert Speaker.objects.filter(pk=ada.pk).exists()


def test_a_reviewer_sees_the_speakers_of_a_session(acme):
    ada = speaker(acme)
    Session.objects.filter(pk=acme.held.pk).update(speaker_ids=[ada.pk])
    SessionSpeaker.objects.create(session=acme.held, speaker=ada)

    page = logged_in(acme.reviewer).get(change_url(acme.held)).content.decode()

    assert f'href="/admin/sessions_app/speaker/{ada.pk}/change/">Ada Lovelace</a>' in page


def test_the_schedule_grid_flags_a_speaker_in_two_places(acme):
    ada = speaker(acme)
    Session.objects.filter(pk=acme.held.pk).update(speaker_ids=[ada.pk])
    SessionSpeaker.objects.create(session=acme.held, speaker=ada)
    Session.objects.filter(pk=acme.proposal.pk).update(
        location=acme.other_room, start_time="10:30", end_time="11:30"
    )
    proposal = Session.objects.get(pk=acme.proposal.pk)
    proposal.save()  # recompute its instants
    SessionSpeaker.objects.create(session=proposal, speaker=ada)
    http = logged_in(acme.organiser)

    html = http.get(
        "/admin/sessions_app/session/schedule/",
        {"event": acme.event.pk, "day": acme.event.start_date.isoformat()},
    ).content.decode()

    assert "2 sessions flagged" in html
    assert "Ada Lovelace also speaks in" in html
    assert html.count("sm-flagged") == 2
