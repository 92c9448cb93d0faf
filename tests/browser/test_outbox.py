"""An organiser writes the event's text for a message, previews it for a real speaker, holds
the event's messages, and sends one from the outbox, in Chromium."""

import pytest
from playwright.sync_api import expect

from sessions_app import services
from sessions_app.enums import MessageState
from sessions_app.models import Event, Message, Speaker
from sessions_app.notices import compose
from tests.browser.conftest import login
from tests.tasks import run_due_tasks

# What the browser shows here does not depend on the database: the SQLite run (the shorter
# one) drives it (docs/contributors/tests.md).
pytestmark = [pytest.mark.browser, pytest.mark.sqlite]


def test_edit_a_text_preview_it_hold_and_send_from_the_outbox(new_page, world, mailoutbox):
    event = world["event"]
    speaker = Speaker.objects.create(
        event=event, first_name="Ada", last_name="Lovelace", email="ada@example.com"
    )
    services.session_update(
        session_id=world["proposal"].pk, data={"speaker_ids": [speaker.pk]}, actor=services.SYSTEM
    )
    compose.compose()  # the notices start here
    page = new_page()
    login(page, "organiser")

    # The event holds its messages for review.
    page.goto(f"/admin/sessions_app/event/{event.pk}/change/")
    page.check("#id_hold_messages")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Event.objects.get(pk=event.pk).hold_messages

    # The text of "approved", with a typo first: refused on its field, listing what it knows.
    page.goto(f"/admin/sessions_app/messagetemplate/add/?kind=speaker.approved&event={event.pk}")
    page.fill("#id_body", "Dear {name}, {sesion} is in.")
    page.click("input[name=_continue]")
    expect(page.locator(".errorlist")).to_contain_text("Unknown placeholder {sesion}")
    expect(page.locator(".field-placeholders")).to_contain_text("{session}")
    page.fill("#id_body", "Dear {name}, {session} is in. See you at {event}!")
    page.click("input[name=_continue]")
    preview = page.locator(".sm-preview")
    expect(preview).to_contain_text("To: Ada Lovelace <ada@example.com>")
    expect(preview).to_contain_text(
        f"Dear Ada Lovelace, Proposal on async is in. See you at {event.name}!"
    )

    # A reviewer approves the session: the message waits in the outbox.
    services.session_set_status(
        session_id=world["proposal"].pk, status="approved", actor=services.SYSTEM
    )
    compose.compose()
    run_due_tasks()
    assert mailoutbox == []
    page.goto("/admin/sessions_app/message/?state__exact=held")
    row = page.locator("#result_list tbody tr", has_text="ada@example.com")
    expect(row).to_contain_text("Held for review")
    row.locator("th a").click()
    expect(page.locator("#id_body")).to_have_value(
        f"Dear Ada Lovelace, Proposal on async is in. See you at {event.name}!"
    )
    page.fill("#id_subject", "Good news about your talk")
    page.click("input[name=_save]")

    page.locator("#result_list tbody tr", has_text="ada@example.com").locator(
        "input.action-select"
    ).check()
    page.select_option("select[name=action]", "send_selected")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("1 message(s) queued")
    assert mailoutbox == []  # the page did not send it: the worker does
    run_due_tasks()
    [sent] = mailoutbox
    assert sent.subject == "Good news about your talk" and sent.to == [
        "Ada Lovelace <ada@example.com>"
    ]
    message = Message.objects.get()
    assert message.state == MessageState.SENT and message.edited
    page.goto(f"/admin/sessions_app/message/{message.pk}/change/")
    expect(page.locator(".field-log_display")).to_contain_text("sent")
