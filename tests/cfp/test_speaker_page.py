"""The speakers' sign-in (one-time links, no enumeration) and their own page: only their
own proposals, and what they may still do with each."""

from __future__ import annotations

import base64
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from PIL import Image

from sessions_app import services
from sessions_app.enums import NoticeKind, SessionStatus
from sessions_app.models import (
    CallForProposals,
    Message,
    Session,
    SessionChange,
    SessionType,
    Speaker,
    SpeakerPhoto,
)
from tests import factories
from tests.cfp.conftest import call_url, form_for, sign_in, sign_in_link
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db


def propose(call, email: str, name: str, **extra) -> Session:
    http = Client()
    response = http.post(call_url(call), form_for(call, http, email=email, name=name, **extra))
    assert response.status_code == 302, response.content.decode()[:1500]
    return Session.objects.get(name=name)


def png(size=(40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


def test_sign_in_answers_the_same_for_known_and_unknown_addresses(call, smtp):
    propose(call, "ines@example.org", "Talk one")
    run_due_tasks()
    before = Message.objects.count()
    answers = []
    for email in ("ines@example.org", "nobody@example.org"):
        http = Client()
        page = http.get("/speaker/sign-in/").content.decode()
        stamp = page.split('name="stamp" value="')[1].split('"')[0]
        response = http.post("/speaker/sign-in/", {"email": email, "stamp": stamp})
        answers.append((response.status_code, response["Location"]))
    assert answers[0] == answers[1] == (302, "/speaker/sign-in/sent/")
    made = Message.objects.order_by("pk")[before:]
    assert [(m.kind, m.to_email) for m in made] == [
        (NoticeKind.SPEAKER_SIGN_IN, "ines@example.org")
    ]
    # The outbox, which organisers read, holds no link that signs anyone in.
    assert "sesame" not in made[0].body


def test_a_sign_in_link_works_once(call, smtp):
    propose(call, "ines@example.org", "Talk one")
    http = Client()
    link = sign_in_link(http, smtp, "ines@example.org")
    token = link.partition("sesame=")[2]
    assert http.post("/speaker/sign-in/link/", {"sesame": token}).status_code == 302
    assert http.get("/speaker/").status_code == 200
    again = Client().post("/speaker/sign-in/link/", {"sesame": token})
    assert again.status_code == 400
    assert "no longer works" in again.content.decode()


def test_sign_in_is_throttled_per_email(call, settings):
    settings.CFP_LIMITS = {**settings.CFP_LIMITS, "SIGN_IN_PER_EMAIL": 2}
    answers = []
    for n in range(3):
        http = Client(REMOTE_ADDR=f"10.1.0.{n + 1}")
        page = http.get("/speaker/sign-in/").content.decode()
        stamp = page.split('name="stamp" value="')[1].split('"')[0]
        answers.append(
            http.post("/speaker/sign-in/", {"email": "a@example.org", "stamp": stamp}).status_code
        )
    assert answers == [302, 302, 429]


def test_a_staff_account_never_signs_in_by_link(call, smtp):
    factories.user(username="org", email="org@example.org", is_staff=True)
    http = Client()
    response = http.post(call_url(call), form_for(call, http, email="org@example.org"))
    assert response.status_code == 422
    assert "staff account" in str(response.context["form"].errors)
    assert not Session.objects.exists()


def test_a_speaker_sees_only_their_own_proposals(call, smtp):
    mine = propose(call, "ines@example.org", "Mine")
    theirs = propose(call, "ravi@example.org", "Theirs")
    elsewhere_call = CallForProposals.objects.create(
        event=factories.event(), opens_at=call.opens_at, closes_at=call.closes_at
    )
    other_org = propose(elsewhere_call, "ines@example.org", "Other organisation")
    http = Client()
    sign_in(http, smtp, "ines@example.org")

    page = http.get("/speaker/").content.decode()
    assert "Mine" in page and "Other organisation" in page and "Theirs" not in page
    for path in (
        f"/speaker/proposals/{theirs.pk}/",
        f"/speaker/proposals/{10**9}/",
    ):
        assert http.get(path).status_code == 404
    before = Session.objects.get(pk=theirs.pk).version
    for action in ("withdraw", "answer"):
        response = http.post(f"/speaker/proposals/{theirs.pk}/{action}/", {"answer": "confirmed"})
        assert response.status_code == 404
    edit = http.post(f"/speaker/proposals/{theirs.pk}/", {"name": "Taken", "description": "x" * 20})
    assert edit.status_code == 404
    assert Session.objects.get(pk=theirs.pk).version == before
    ravi = Speaker.objects.get(email="ravi@example.org")
    assert http.get(f"/speaker/photo/{ravi.pk}/").status_code == 404
    assert {mine.pk, other_org.pk} == set(
        services.proposals_of(get_user_model().objects.get(email="ines@example.org")).values_list(
            "pk", flat=True
        )
    )


def test_edit_withdraw_and_confirm(call, smtp):
    first = propose(call, "ines@example.org", "First")
    second = propose(call, "ines@example.org", "Second")
    http = Client()
    sign_in(http, smtp, "ines@example.org")
    level = call.fields.get()
    edited = http.post(
        f"/speaker/proposals/{first.pk}/",
        {
            "name": "First, edited",
            "description": "A longer abstract than before.",
            "session_type": str(call.session_types.get(name="Workshop").pk),
            f"cf_{level.pk}": str(level.choices.last().pk),
        },
    )
    assert edited.status_code == 302
    first.refresh_from_db()
    assert (first.name, first.duration_minutes) == ("First, edited", 90)
    assert http.post(f"/speaker/proposals/{second.pk}/withdraw/").status_code == 302
    assert Session.objects.get(pk=second.pk).session_status == SessionStatus.WITHDRAWN

    services.session_set_status(
        session_id=first.pk, status=SessionStatus.APPROVED, actor=services.SYSTEM
    )
    locked = http.post(
        f"/speaker/proposals/{first.pk}/",
        {"name": "Renamed after approval", "description": "y" * 20},
    )
    assert Session.objects.get(pk=first.pk).name == "First, edited"
    assert locked.status_code in (200, 422)
    answered = http.post(f"/speaker/proposals/{first.pk}/answer/", {"answer": "confirmed"})
    assert answered["Location"] == "/speaker/?done=confirmed"
    first.refresh_from_db()
    ines = Speaker.objects.get(email="ines@example.org")
    assert first.speaker_confirmations == {str(ines.pk): "confirmed"}
    entry = SessionChange.objects.filter(session=first).latest("id")
    assert (entry.action, entry.actor_label) == ("session.speaker.answer", "ines@example.org")


def test_a_decline_withdraws_the_session_with_a_note(call, smtp):
    session = propose(call, "ines@example.org", "Declined talk")
    services.session_set_status(
        session_id=session.pk, status=SessionStatus.APPROVED, actor=services.SYSTEM
    )
    http = Client()
    sign_in(http, smtp, "ines@example.org")
    http.post(f"/speaker/proposals/{session.pk}/answer/", {"answer": "declined", "note": "Ill."})
    session.refresh_from_db()
    assert session.session_status == SessionStatus.WITHDRAWN
    entry = SessionChange.objects.filter(session=session).latest("id")
    assert (entry.action, entry.note) == ("session.status.withdrawn", "Ill.")


def test_a_submitted_proposal_cannot_be_confirmed(call, smtp):
    session = propose(call, "ines@example.org", "Early")
    http = Client()
    sign_in(http, smtp, "ines@example.org")
    response = http.post(f"/speaker/proposals/{session.pk}/answer/", {"answer": "confirmed"})
    assert response["Location"] == "/speaker/?done=refused"
    assert Session.objects.get(pk=session.pk).speaker_confirmations == {}


def test_profile_photo_limits(call, smtp, settings):
    propose(call, "ines@example.org", "Talk")
    http = Client()
    sign_in(http, smtp, "ines@example.org")
    base = {"first_name": "Inès", "last_name": "Moreau", "bio": "Hi", "links": ""}
    big = io.BytesIO(b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 1))
    big.name = "big.png"
    refused = http.post("/speaker/profile/", {**base, "photo": big})
    assert refused.status_code == 422
    assert "send at most 2 MB" in str(refused.context["form"].errors["photo"])
    text = io.BytesIO(b"not an image at all")
    text.name = "me.png"
    refused = http.post("/speaker/profile/", {**base, "photo": text})
    assert refused.status_code == 422
    assert "not an image we can read" in str(refused.context["form"].errors["photo"])
    assert not SpeakerPhoto.objects.exists()
    bad_link = http.post("/speaker/profile/", {**base, "links": "javascript:alert(1)"})
    assert bad_link.status_code == 422
    photo = io.BytesIO(png())
    photo.name = "me.png"
    saved = http.post(
        "/speaker/profile/", {**base, "links": "https://ines.example.org", "photo": photo}
    )
    assert saved.status_code == 302
    ines = Speaker.objects.get(email="ines@example.org")
    assert (ines.photo.content_type, ines.links) == ("image/png", "https://ines.example.org")
    served = http.get(f"/speaker/photo/{ines.pk}/")
    assert served["Content-Type"] == "image/png" and served.content == png()


def test_the_calendar_feed_has_the_published_sessions(call, smtp):
    session = propose(call, "ines@example.org", "Published talk")
    http = Client()
    sign_in(http, smtp, "ines@example.org")
    feed = http.get("/speaker/").context["feed"]
    path = "/" + feed.split("/", 3)[3]
    assert b"Published talk" not in Client().get(path).content
    services.session_update(
        session_id=session.pk,
        data={
            "date": call.event.start_date,
            "start_time": dt.time(10, 0),
            "end_time": dt.time(10, 30),
        },
        actor=services.SYSTEM,
    )
    for status in (SessionStatus.APPROVED, SessionStatus.LIVE):
        services.session_set_status(session_id=session.pk, status=status, actor=services.SYSTEM)
    answer = Client().get(path)
    assert answer["Content-Type"].startswith("text/calendar")
    assert b"Published talk" in answer.content
    assert Client().get(path[:-8] + "x.ics").status_code == 404


def test_what_a_speaker_wrote_is_shown_escaped(call, smtp):
    propose(call, "ines@example.org", "<script>alert(1)</script>")
    http = Client()
    sign_in(http, smtp, "ines@example.org")
    page = http.get("/speaker/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_staff_address_on_a_speaker_gets_the_same_answer_and_no_link(call):
    factories.user(username="org", email="org@example.org", is_staff=True)
    Speaker.objects.create(event=call.event, first_name="Org", email="org@example.org")
    http = Client()
    page = http.get("/speaker/sign-in/").content.decode()
    stamp = page.split('name="stamp" value="')[1].split('"')[0]
    response = http.post("/speaker/sign-in/", {"email": "org@example.org", "stamp": stamp})
    assert (response.status_code, response["Location"]) == (302, "/speaker/sign-in/sent/")
    assert not Message.objects.exists()


def test_a_session_organisers_made_is_edited_without_losing_its_type(call, smtp):
    other_event = factories.event(organisation=call.event.organisation)
    workshop = SessionType.objects.create(event=other_event, name="Workshop", default_minutes=90)
    track = factories.track(event=other_event)
    ines = Speaker.objects.create(event=other_event, first_name="Inès", email="ines@example.org")
    session = services.session_create(
        event=other_event,
        data={
            "name": "Made by the organisers",
            "session_type_id": workshop.pk,
            "track_id": track.pk,
            "speaker_ids": [ines.pk],
        },
        actor=services.SYSTEM,
    )
    propose(call, "ines@example.org", "Through the call")
    http = Client()
    sign_in(http, smtp, "ines@example.org")
    assert http.get(f"/speaker/proposals/{session.pk}/").status_code == 200
    saved = http.post(
        f"/speaker/proposals/{session.pk}/",
        {"name": "Made by the organisers", "description": "Now with an abstract."},
    )
    assert saved.status_code == 302
    session.refresh_from_db()
    assert (session.description, session.session_type_id, session.track_id) == (
        "Now with an abstract.",
        workshop.pk,
        track.pk,
    )


def test_the_calendar_address_does_not_spell_the_email(call, smtp):
    propose(call, "ines@example.org", "Talk")
    http = Client()
    sign_in(http, smtp, "ines@example.org")
    feed = http.get("/speaker/").context["feed"]
    token = feed.rsplit("/", 1)[1].removesuffix(".ics").split(":")[0]
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"ines" not in decoded and b"ines" not in feed.encode()


def test_a_session_goes_on_until_every_speaker_declines(call, smtp):
    http = Client()
    response = http.post(
        call_url(call), form_for(call, http, name="Duo talk", co_speakers="kwame@example.org")
    )
    assert response.status_code == 302
    session = Session.objects.get(name="Duo talk")
    services.session_set_status(
        session_id=session.pk, status=SessionStatus.APPROVED, actor=services.SYSTEM
    )
    ines, kwame = (Client(), Client())
    sign_in(ines, smtp, "ines@example.org")
    ines.post(f"/speaker/proposals/{session.pk}/answer/", {"answer": "declined"})
    session.refresh_from_db()
    assert session.session_status == SessionStatus.APPROVED
    sign_in(kwame, smtp, "kwame@example.org")
    kwame.post(f"/speaker/proposals/{session.pk}/answer/", {"answer": "declined"})
    session.refresh_from_db()
    assert session.session_status == SessionStatus.WITHDRAWN
    assert sorted(session.speaker_confirmations.values()) == ["declined", "declined"]
