"""The call for proposals: open, closed, a submission, what is refused, and the limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from sessions_app.enums import MessageState, NoticeKind, SessionStatus
from sessions_app.models import Message, Session, SessionChange, Speaker
from tests.cfp.conftest import call_url, form_for
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db


def test_open_call_shows_its_form_in_the_events_zone(call):
    page = Client().get(call_url(call))
    html = page.content.decode()
    assert page.status_code == 200
    assert "We look for talks." in html
    assert 'name="email"' in html and 'name="session_type"' in html
    assert "Talk (30 min)" in html and "Workshop (90 min)" in html
    assert "(Europe/Berlin)" in html


@pytest.mark.parametrize("when", ["early", "closed"])
def test_a_call_outside_its_window_says_so_and_takes_nothing(call, when):
    now = timezone.now()
    if when == "early":
        call.opens_at, call.closes_at = now + dt.timedelta(days=1), now + dt.timedelta(days=2)
    else:
        call.opens_at, call.closes_at = now - dt.timedelta(days=2), now - dt.timedelta(days=1)
    call.save()
    http = Client()
    page = http.get(call_url(call))
    assert page.status_code == 200
    assert ("opens on" if when == "early" else "closed on") in page.content.decode()
    assert 'name="email"' not in page.content.decode()
    sent = http.post(call_url(call), {"email": "x@example.org", "name": "Late"})
    assert sent.status_code == 403
    assert not Session.objects.exists() and not Speaker.objects.exists()


def test_an_unknown_call_is_a_clear_404(db):
    for path in ("/cfp/nobody/nothing/", "/cfp/nobody/nothing/received/"):
        response = Client().get(path)
        assert response.status_code == 404
        assert "There is no call for proposals here" in response.content.decode()
    assert Client().post("/cfp/nobody/nothing/", {"email": "a@b.example"}).status_code == 404


def test_a_submission_is_a_session_written_by_the_speaker(call, smtp):
    http = Client()
    form = form_for(call, http, co_speakers="kwame@example.org\nines@example.org")
    response = http.post(call_url(call), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"].endswith("/received/")

    session = Session.objects.get()
    ines = Speaker.objects.get(email="ines@example.org")
    kwame = Speaker.objects.get(email="kwame@example.org")
    assert (session.session_status, session.name, session.duration_minutes) == (
        SessionStatus.SUBMITTED,
        "Offline-first agendas",
        30,
    )
    assert session.speaker_ids == [ines.pk, kwame.pk]
    assert (ines.first_name, ines.last_name, ines.bio) == ("Inès", "Moreau", "Builds agendas.")
    entry = SessionChange.objects.get(session=session)
    assert (entry.action, entry.actor_label, entry.actor_user.email) == (
        "session.create",
        "ines@example.org",
        "ines@example.org",
    )
    run_due_tasks()
    kinds = dict(Message.objects.values_list("to_email", "kind"))
    assert kinds == {
        "ines@example.org": NoticeKind.SPEAKER_RECEIVED,
        "kwame@example.org": NoticeKind.SPEAKER_INVITED,
    }
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.SENT}
    received = smtp.text(smtp.to("ines@example.org")[0])
    assert "Offline-first agendas" in received and "/speaker/" in received
    invited = smtp.to("kwame@example.org")[0]
    assert (
        str(invited["Subject"]).strip()
        == "Inès Moreau invites you to present Offline-first agendas"
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"description": "x" * 301}, "description", "Write at most 300 characters (this has 301)."),
        ({"description": "short"}, "description", "Write at least 10 characters (this has 5)."),
        ({"session_type": ""}, "session_type", "This field is required."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"co_speakers": "a@b"}, "co_speakers", "'a@b' is not an email address."),
    ],
    ids=["abstract_too_long", "abstract_too_short", "no_type", "bad_email", "bad_co_speaker"],
)
def test_a_refused_submission_says_why_and_saves_nothing(call, change, field, message):
    http = Client()
    response = http.post(call_url(call), form_for(call, http, **change))
    assert response.status_code == 422
    assert message in response.context["form"].errors[field]
    assert not Session.objects.exists() and not Speaker.objects.exists()


def test_a_required_question_must_be_answered(call):
    http = Client()
    level = call.fields.get()
    response = http.post(call_url(call), form_for(call, http, **{f"cf_{level.pk}": ""}))
    assert response.status_code == 422
    assert response.context["form"].errors[f"cf_{level.pk}"] == ["This field is required."]
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    "robot", [{"website": "http://spam.example"}, {"stamp": "forged"}], ids=["honeypot", "stamp"]
)
def test_robots_are_refused(call, robot):
    http = Client()
    response = http.post(call_url(call), form_for(call, http, **robot))
    assert response.status_code == 400
    assert "please send it again" in response.content.decode()
    assert not Session.objects.exists()


def test_a_form_sent_back_too_fast_is_refused(call, settings):
    settings.CFP_LIMITS = {**settings.CFP_LIMITS, "MIN_FORM_SECONDS": 60.0}
    http = Client()
    assert http.post(call_url(call), form_for(call, http)).status_code == 400
    assert not Session.objects.exists()


def test_a_burst_from_one_address_is_throttled(call, settings):
    settings.CFP_LIMITS = {**settings.CFP_LIMITS, "SUBMIT_PER_ADDRESS": 2}
    http = Client()
    answers = [
        http.post(call_url(call), form_for(call, http, email=f"s{n}@example.org")).status_code
        for n in range(3)
    ]
    assert answers == [302, 302, 429]
    assert Session.objects.count() == 2
    last = http.post(call_url(call), form_for(call, http, email="s9@example.org"))
    assert last.status_code == 429 and int(last["Retry-After"]) > 0
    assert "Too many proposals" in last.content.decode()


def test_one_email_is_throttled_from_many_addresses(call, settings):
    settings.CFP_LIMITS = {**settings.CFP_LIMITS, "SUBMIT_PER_EMAIL": 1}
    answers = []
    for n in range(2):
        http = Client(REMOTE_ADDR=f"10.0.0.{n + 1}")
        answers.append(http.post(call_url(call), form_for(call, http)).status_code)
    assert answers == [302, 429]


def test_what_a_speaker_writes_is_kept_as_written(call):
    # Shown escaped: test_speaker_page.test_what_a_speaker_wrote_is_shown_escaped.
    http = Client()
    form = form_for(call, http, name="<script>alert(1)</script>", first_name="<b>Ines</b>")
    assert http.post(call_url(call), form).status_code == 302
    session = Session.objects.get()
    assert session.name == "<script>alert(1)</script>"


def test_a_field_the_event_requires_is_asked_even_when_the_call_does_not_list_it(call):
    level = call.fields.get()
    level.required = True
    level.save()
    call.fields.clear()
    call.required_fields.clear()
    http = Client()
    page = http.get(call_url(call)).content.decode()
    assert f'name="cf_{level.pk}"' in page
    missing = http.post(call_url(call), form_for(call, http, **{f"cf_{level.pk}": ""}))
    assert missing.status_code == 422
    answered = http.post(
        call_url(call), form_for(call, http, **{f"cf_{level.pk}": str(level.choices.first().pk)})
    )
    assert answered.status_code == 302
    assert Session.objects.get().custom_fields == {level.key: [{"id": level.choices.first().pk}]}
