"""Speakers and registrants hear about what concerns them: messages made from the history
by the notices outbox and sent by the worker to a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sessions_app import services
from sessions_app.enums import MessageState, NoticeKind, SessionStatus
from sessions_app.models import Event, Message, Speaker
from sessions_app.notices import compose, delivery, texts
from tests import factories
from tests.admin.conftest import staff
from tests.api.conftest import make_caller  # noqa: F401  (the fixture)
from tests.tasks import run_due_tasks

ORGANISER = services.SYSTEM


def slot(day: dt.date, start: str, end: str) -> str:
    """How the messages write a time: ``Mon 4 Jan 2027, 10:00-11:00 CET`` (Berlin)."""
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    begins = dt.datetime.combine(day, dt.time.fromisoformat(start), tzinfo=zone)
    return f"{begins:%a %-d %b %Y}, {start}\u2013{end} {begins.tzname()}"


def deliver() -> None:
    """What the worker does: the outbox read into messages, then the due sends run."""
    while compose.compose():
        pass
    run_due_tasks()


@pytest.fixture
def world(db, settings):
    settings.NOTICES = {**settings.NOTICES, "COALESCE_SECONDS": 0.0}
    organisation = factories.organisation()
    event = factories.event(organisation=organisation, timezone="Europe/Berlin")
    hall = factories.location(event=event, name="Main Hall")
    lab = factories.location(event=event, name="Lab")
    ada = Speaker.objects.create(
        event=event, first_name="Ada", last_name="L", email="ada@example.com"
    )
    bob = Speaker.objects.create(
        event=event, first_name="Bob", last_name="B", email="bob@example.com"
    )
    talk = factories.create_via_service(
        event=event,
        name="Compilers for everyone",
        date=event.start_date.isoformat(),
        start_time="10:00",
        end_time="11:00",
        location_id=hall.pk,
        speaker_ids=[ada.pk, bob.pk],
    )
    compose.compose()  # the notices start here: nothing about the world's making
    return {"event": event, "hall": hall, "lab": lab, "ada": ada, "bob": bob, "talk": talk,
            "organiser": staff(organisation, "organiser", "reviewer")}  # fmt: skip


def test_approving_through_the_api_tells_each_speaker_once(world, smtp, make_caller):  # noqa: F811
    api = make_caller(world["event"].organisation)
    talk = world["talk"]
    answer = api.patch(f"/api/v1/sessions/{talk.pk}", {"session_status": "approved"})
    assert answer.status_code == 200, answer.content
    deliver()
    deliver()  # a second pass of the worker sends nothing more

    assert sorted(m["To"] for m in smtp.messages) == [
        "Ada L <ada@example.com>",
        "Bob B <bob@example.com>",
    ]
    [to_ada] = smtp.to("ada@example.com")
    assert to_ada["Subject"] == "Your session Compilers for everyone is approved"
    body = smtp.text(to_ada)
    assert "Hello Ada L," in body
    assert f"{slot(talk.date, '10:00', '11:00')}, Main Hall" in body
    assert to_ada.get_body(preferencelist=("html",)) is not None
    assert Message.objects.filter(state=MessageState.SENT).count() == 2


def test_approving_in_the_admin_tells_each_speaker_once(world, smtp, client):
    client.force_login(world["organiser"])
    talk = world["talk"]
    response = client.post(
        f"/admin/sessions_app/session/{talk.pk}/status/",
        {"status": "approved", "note": "", "version": talk.version},
    )
    assert response.status_code == 302
    deliver()
    assert sorted(m["To"].addresses[0].username for m in smtp.messages) == ["ada", "bob"]


def test_moving_a_live_session_tells_its_registrants_the_old_and_new_time(world, smtp):
    talk = world["talk"]
    for status in ("approved", "live"):
        services.session_set_status(session_id=talk.pk, status=status, actor=ORGANISER)
    grace = factories.registrant(
        event=world["event"], first_name="Grace", email="grace@example.com"
    )
    services.selection_add(registrant_id=grace.pk, session_id=talk.pk, actor=ORGANISER)
    deliver()
    smtp.messages.clear()

    services.session_update(
        session_id=talk.pk,
        data={"start_time": "14:00", "end_time": "15:00", "location_id": world["lab"].pk},
        actor=ORGANISER,
    )
    deliver()

    [to_grace] = smtp.to("grace@example.com")
    assert to_grace["Subject"] == "Compilers for everyone has moved"
    body = smtp.text(to_grace)
    assert f"Was: {slot(talk.date, '10:00', '11:00')}, Main Hall" in body
    assert f"Now: {slot(talk.date, '14:00', '15:00')}, Lab" in body
    assert grace.selection_url() in body
    assert to_grace["List-Unsubscribe"].strip().startswith("<http")
    assert to_grace["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(smtp.to("ada@example.com")) == 1  # the speakers are told too


def test_a_refused_write_sends_nothing(world, smtp):
    talk = world["talk"]
    with pytest.raises(ValidationError):
        services.session_update(
            session_id=talk.pk, data={"start_time": "12:00", "end_time": "11:00"}, actor=ORGANISER
        )
    deliver()
    assert smtp.messages == [] and not Message.objects.exists()


def test_held_messages_go_only_when_an_organiser_sends_them(world, smtp, client):
    Event.objects.filter(pk=world["event"].pk).update(hold_messages=True)
    services.session_set_status(session_id=world["talk"].pk, status="approved", actor=ORGANISER)
    deliver()
    held = Message.objects.filter(state=MessageState.HELD)
    assert held.count() == 2 and smtp.messages == []

    client.force_login(world["organiser"])
    one = held.get(to_email="ada@example.com")
    page = client.post(
        f"/admin/sessions_app/message/{one.pk}/change/",
        {"subject": "Approved, well done", "body": "Dear Ada, see you there."},
    )
    assert page.status_code == 302
    response = client.post(
        "/admin/sessions_app/message/",
        {"action": "send_selected", "_selected_action": [one.pk], "index": "0"},
    )
    assert response.status_code == 302
    assert smtp.messages == []  # the request queued it: the worker sends
    deliver()
    [sent] = smtp.messages
    assert sent["Subject"] == "Approved, well done"
    assert smtp.text(sent).strip() == "Dear Ada, see you there."
    assert Message.objects.get(to_email="bob@example.com").state == MessageState.HELD


def test_three_quick_moves_make_one_message(world, smtp, settings):
    settings.NOTICES = {**settings.NOTICES, "COALESCE_SECONDS": 180.0}
    talk = world["talk"]
    services.session_set_status(session_id=talk.pk, status="approved", actor=ORGANISER)
    deliver()
    smtp.messages.clear()
    for start, end in [("11:00", "12:00"), ("12:00", "13:00"), ("15:00", "16:00")]:
        services.session_update(
            session_id=talk.pk, data={"start_time": start, "end_time": end}, actor=ORGANISER
        )
        compose.compose()
    run_due_tasks()
    assert smtp.messages == []  # still inside the window
    waiting = Message.objects.filter(kind=NoticeKind.SPEAKER_MOVED)
    assert waiting.count() == 2  # one per speaker
    waiting.update(send_after=timezone.now())  # the window has passed
    for message in waiting:
        delivery.send_now(message.pk)
    [to_ada] = smtp.to("ada@example.com")
    body = smtp.text(to_ada)
    assert "10:00\u201311:00" in body and "15:00\u201316:00" in body
    assert "12:00\u201313:00" not in body


def test_a_move_and_back_within_the_window_sends_nothing(world, smtp, settings):
    settings.NOTICES = {**settings.NOTICES, "COALESCE_SECONDS": 180.0}
    talk = world["talk"]
    services.session_set_status(session_id=talk.pk, status="approved", actor=ORGANISER)
    deliver()
    for start, end in [("11:00", "12:00"), ("10:00", "11:00")]:
        services.session_update(
            session_id=talk.pk, data={"start_time": start, "end_time": end}, actor=ORGANISER
        )
        compose.compose()
    assert set(
        Message.objects.filter(kind=NoticeKind.SPEAKER_MOVED).values_list("state", flat=True)
    ) == {MessageState.DISCARDED}


def test_a_refusing_server_is_tried_again_then_marked_failed(world, smtp, settings):
    settings.NOTICES = {**settings.NOTICES, "MAX_ATTEMPTS": 3}
    smtp.refuse = True
    services.session_set_status(session_id=world["talk"].pk, status="approved", actor=ORGANISER)
    compose.compose()
    for _ in range(3):
        Message.objects.filter(state=MessageState.QUEUED).update(send_after=timezone.now())
        run_due_tasks()
    failed = Message.objects.get(to_email="ada@example.com")
    assert failed.state == MessageState.FAILED and failed.attempts == 3
    assert "451" in failed.last_error
    assert [entry["outcome"] for entry in failed.log] == ["retry", "retry", "failed"]


def test_an_unreachable_server_times_out_and_is_retried(world, smtp, settings):
    from tests.notices.conftest import free_port

    settings.EMAIL_PORT = free_port()  # nobody listens there
    settings.NOTICES = {**settings.NOTICES, "RETRY_SECONDS": 60.0}
    services.session_set_status(session_id=world["talk"].pk, status="approved", actor=ORGANISER)
    deliver()
    message = Message.objects.get(to_email="ada@example.com")
    assert message.state == MessageState.QUEUED and message.attempts == 1
    assert "Connection" in message.last_error and message.log[-1]["outcome"] == "retry"
    assert message.send_after > timezone.now() + dt.timedelta(seconds=50)  # not before then


def test_a_worker_killed_mid_send_sends_again_with_the_same_message_id(world, smtp, settings):
    services.session_set_status(session_id=world["talk"].pk, status="approved", actor=ORGANISER)
    compose.compose()
    message = Message.objects.get(to_email="ada@example.com")
    # The worker took the message, the mail server took it, and the worker died before
    # it could record that: the message stays "sending" under a lease.
    taken = delivery._take(message.pk)
    delivery.email_for(taken).send()
    assert Message.objects.get(pk=message.pk).state == MessageState.SENDING
    Message.objects.filter(pk=message.pk).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )

    assert delivery.recover_lost_sends() == 1
    run_due_tasks()
    copies = smtp.to("ada@example.com")
    assert len(copies) == 2  # at least once: said in the log, and deduplicable
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"] == taken.message_id
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert "may have been sent once already" in message.log[0]["detail"]


def test_a_speaker_without_an_address_gets_a_failed_message_to_see(world, smtp):
    Speaker.objects.filter(pk=world["bob"].pk).update(email="")
    services.session_set_status(session_id=world["talk"].pk, status="approved", actor=ORGANISER)
    deliver()
    bob = Message.objects.get(speaker=world["bob"])
    assert (bob.state, bob.last_error) == (MessageState.FAILED, "no email address")
    assert len(smtp.messages) == 1


def test_waitlisted_registrant_hears_of_a_seat(world, smtp):
    talk = world["talk"]
    services.session_update(session_id=talk.pk, data={"capacity": 1}, actor=ORGANISER)
    for status in ("approved", "live"):
        services.session_set_status(session_id=talk.pk, status=status, actor=ORGANISER)
    first = factories.registrant(event=world["event"], email="first@example.com")
    second = factories.registrant(event=world["event"], email="second@example.com")
    services.selection_add(registrant_id=first.pk, session_id=talk.pk, actor=ORGANISER)
    services.selection_add(
        registrant_id=second.pk, session_id=talk.pk, actor=ORGANISER, waitlist=True
    )
    deliver()
    smtp.messages.clear()
    services.selection_remove(registrant_id=first.pk, session_id=talk.pk, actor=ORGANISER)
    deliver()
    [seat] = smtp.messages
    assert seat["To"].addresses[0].addr_spec == "second@example.com"
    assert seat["Subject"] == "You have a seat in Compilers for everyone"


def test_a_registrant_who_stopped_the_notices_gets_none(world, smtp, client):
    talk = world["talk"]
    for status in ("approved", "live"):
        services.session_set_status(session_id=talk.pk, status=status, actor=ORGANISER)
    grace = factories.registrant(event=world["event"], email="grace@example.com")
    services.selection_add(registrant_id=grace.pk, session_id=talk.pk, actor=ORGANISER)
    # The one-click unsubscribe a mail client posts (RFC 8058), no cookie, no CSRF token.
    url = delivery.unsubscribe_url(Message(registrant=grace, event=world["event"]))
    answer = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 302
    grace.refresh_from_db()
    assert grace.notices_off
    services.session_set_status(session_id=talk.pk, status="approved", actor=ORGANISER)
    deliver()
    assert smtp.to("grace@example.com") == []
    # Ada heard of the approval and the publication; taking it off the agenda tells no speaker.
    assert [m["Subject"] for m in smtp.to("ada@example.com")] == [
        "Your session Compilers for everyone is approved",
        "Your session Compilers for everyone is on the agenda",
    ]


def test_welcome_message_carries_the_registrants_own_link(world, smtp):
    grace = factories.registrant(
        event=world["event"], first_name="Grace", email="grace@example.com"
    )
    compose.welcome(grace)
    run_due_tasks()
    [welcome] = smtp.messages
    assert grace.selection_url() in smtp.text(welcome)
    assert welcome["Subject"] == f"Welcome to {world['event'].name}"


def test_a_text_with_an_unknown_placeholder_is_refused():
    with pytest.raises(ValidationError) as refused:
        texts.check(
            NoticeKind.SPEAKER_APPROVED, subject="Hi {name}", body="Your {sesion} at {event}"
        )
    assert "Unknown placeholder {sesion}" in str(refused.value)
    with pytest.raises(ValidationError):
        texts.check(NoticeKind.SPEAKER_APPROVED, subject="{name.__class__}", body="x")
    with pytest.raises(ValidationError):
        texts.check(NoticeKind.REGISTRANT_WELCOME, subject="{session}", body="x")
    texts.check(NoticeKind.SPEAKER_MOVED, subject="{session}", body="{old_time} {{literal}}")


def test_the_admin_refuses_an_unknown_placeholder_and_previews_a_real_person(world, client):
    client.force_login(world["organiser"])
    response = client.post(
        "/admin/sessions_app/messagetemplate/add/",
        {
            "event": world["event"].pk,
            "kind": NoticeKind.SPEAKER_APPROVED,
            "subject": "Approved: {session}",
            "body": "Hello {nmae}",
        },
    )
    assert response.status_code == 200
    assert "Unknown placeholder {nmae}" in response.content.decode()
    response = client.post(
        "/admin/sessions_app/messagetemplate/add/",
        {
            "event": world["event"].pk,
            "kind": NoticeKind.SPEAKER_APPROVED,
            "subject": "Approved: {session}",
            "body": "Hello {name}, {session} is in.",
        },
    )
    assert response.status_code == 302
    from sessions_app.models import MessageTemplate

    template = MessageTemplate.objects.get()
    page = client.get(f"/admin/sessions_app/messagetemplate/{template.pk}/change/").content.decode()
    assert "Hello Ada L, Compilers for everyone is in." in page
    # The event's text is the one used.
    services.session_set_status(session_id=world["talk"].pk, status="approved", actor=ORGANISER)
    compose.compose()
    assert Message.objects.get(to_email="ada@example.com").subject == (
        "Approved: Compilers for everyone"
    )


def test_statuses_tell_speakers_what_happened(world, smtp):
    talk = world["talk"]
    services.session_set_status(session_id=talk.pk, status=SessionStatus.REJECTED, actor=ORGANISER)
    deliver()
    assert {m["Subject"] for m in smtp.messages} == {"About your session Compilers for everyone"}


def test_registering_through_the_api_with_notify_sends_the_welcome(world, smtp, make_caller):  # noqa: F811
    event = world["event"]
    api = make_caller(event.organisation, scopes=["registrants:write", "registrants:read"])
    body = {"event_id": event.pk, "first_name": "Lin", "email": "lin@example.com"}
    answer = api.post("/api/v1/registrants?notify=1", body)
    assert answer.status_code == 201, answer.content
    quiet = api.post("/api/v1/registrants", {**body, "email": "quiet@example.com"})
    assert quiet.status_code == 201
    refused = api.post("/api/v1/registrants?notify=1", body)  # the email is taken
    assert refused.status_code == 422
    bad = api.post("/api/v1/registrants?notify=maybe", {**body, "email": "x@example.com"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "notify"
    run_due_tasks()
    [welcome] = smtp.messages
    assert welcome["To"].addresses[0].addr_spec == "lin@example.com"
    assert f"/attend/{answer.json()['id']}/" in smtp.text(welcome)


def test_messages_are_read_with_their_own_scope_within_the_organisation(
    world,
    smtp,
    make_caller,  # noqa: F811
):
    services.session_set_status(session_id=world["talk"].pk, status="approved", actor=ORGANISER)
    deliver()
    event = world["event"]
    reader = make_caller(event.organisation, scopes=["messages:read"])
    listed = reader.get("/api/v1/messages", {"state": "sent"})
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert sorted(item["to_email"] for item in items) == ["ada@example.com", "bob@example.com"]
    one = reader.get(f"/api/v1/messages/{items[0]['id']}").json()
    assert one["state"] == "sent" and one["attempts"] == 1 and one["log"][-1]["outcome"] == "sent"
    assert one["message_id"].startswith("<notice-")

    without = make_caller(event.organisation, scopes=["sessions:read"])
    assert without.get("/api/v1/messages").status_code == 403
    stranger = make_caller(factories.organisation(), scopes=["messages:read"])
    assert stranger.get(f"/api/v1/messages/{items[0]['id']}").status_code == 404
    assert stranger.get("/api/v1/messages").json()["items"] == []


def test_a_mail_server_that_never_answers_times_out_and_is_retried(world, settings):
    """A server that takes the connection and then says nothing: the attempt gives up after
    the timeout, and nothing else waits for it."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # and never a greeting
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", listener.getsockname()[1]
    settings.NOTICES = {**settings.NOTICES, "TIMEOUT_SECONDS": 1.0, "RETRY_SECONDS": 60.0}
    try:
        services.session_set_status(session_id=world["talk"].pk, status="approved", actor=ORGANISER)
        deliver()
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()
    for message in Message.objects.all():
        assert message.state == MessageState.QUEUED and message.attempts == 1
        assert "timed out" in message.last_error.lower()


def test_an_organiser_sees_only_their_own_organisations_messages(world, client, smtp):
    services.session_set_status(session_id=world["talk"].pk, status="approved", actor=ORGANISER)
    compose.compose()
    other = factories.organisation()
    client.force_login(staff(other, "organiser"))
    listing = client.get("/admin/sessions_app/message/")
    assert listing.status_code == 200 and listing.context["cl"].result_count == 0
    one = Message.objects.first()
    assert client.get(f"/admin/sessions_app/message/{one.pk}/change/").status_code in (302, 404)
    client.force_login(world["organiser"])
    assert client.get("/admin/sessions_app/message/").context["cl"].result_count == 2


def test_deleting_an_approved_session_tells_its_speakers_it_is_cancelled(world, smtp):
    talk = world["talk"]
    services.session_set_status(session_id=talk.pk, status="approved", actor=ORGANISER)
    deliver()
    smtp.messages.clear()
    services.session_delete(session_id=talk.pk, actor=ORGANISER)
    deliver()
    assert (
        sorted(m["Subject"] for m in smtp.messages)
        == ["Your session Compilers for everyone is cancelled"] * 2
    )
    assert f"{slot(talk.date, '10:00', '11:00')}, Main Hall" in smtp.text(smtp.messages[0])
    assert set(
        Message.objects.filter(kind=NoticeKind.SPEAKER_CANCELLED).values_list("session", flat=True)
    ) == {None}
