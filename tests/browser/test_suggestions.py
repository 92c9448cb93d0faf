"""An organiser asks the grid for a suggestion for a day, sees its ghost blocks and moves,
accepts some, and undoes the acceptance, in Chromium."""

import pytest
from playwright.sync_api import expect

from sessions_app.models import Session, SessionChange
from sessions_app.planning import proposals
from tests import factories
from tests.browser.conftest import login
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.browser


def test_suggest_for_a_day_see_ghosts_accept_some_and_undo(new_page, world, settings):
    settings.SCHEDULE_SUGGESTION_SECONDS = 3
    event = world["event"]
    first = factories.create_via_service(event=event, name="Unplaced one")
    second = factories.create_via_service(event=event, name="Unplaced two")
    page = new_page()
    login(page, "organiser")
    page.goto(f"/admin/sessions_app/session/schedule/?event={event.pk}&day={event.start_date}")
    page.click("text=Suggest a schedule")
    expect(page.locator("#sm-suggest-status")).to_contain_text("Waiting for the worker")

    run_due_tasks()  # the worker runs the solver
    expect(page.locator(".sm-suggest-moves")).to_be_visible(timeout=10_000)  # updates itself
    expect(page.locator(".sm-suggested")).to_have_count(2)
    expect(page.locator(".sm-suggested").first).to_contain_text("Suggested: Unplaced")
    expect(page.locator(".sm-suggest-score")).to_contain_text("with the suggestion")
    # The page loaded itself again with the result: the grid still answers the keyboard.
    page.locator(f'.sm-block[data-id="{world["keynote"].pk}"]').focus()
    page.keyboard.press("p")
    expect(page.locator("#sm-planner-status")).to_contain_text("is pinned")

    page.uncheck(f"#sm-move-{second.pk}")
    page.click("text=Accept the ticked moves")
    expect(page.locator(".messagelist")).to_contain_text("1 session(s) moved as suggested.")
    placed = Session.objects.get(pk=first.pk)
    assert placed.start_time is not None and placed.location_id is not None
    assert Session.objects.get(pk=second.pk).start_time is None
    assert SessionChange.objects.filter(session_id=first.pk, note=proposals.NOTE).count() == 1
    expect(page.locator(f'.sm-block[data-id="{first.pk}"]')).to_be_visible()

    # The whole acceptance is one step on the grid's undo, as a move is.
    expect(page.locator("#sm-undo")).to_be_enabled()
    page.click("#sm-undo")
    expect(page.locator(".messagelist")).to_contain_text("Undone: 1 session(s) back")
    assert Session.objects.get(pk=first.pk).start_time is None
    expect(page.locator("#sm-suggest-status")).to_contain_text("accepted and then undone")
    page.click("#sm-undo")  # the step before it: the pin
    expect(page.locator("#sm-planner-status")).to_contain_text("is no longer pinned")
    expect(page.locator("#sm-undo")).to_be_disabled()  # nothing left to undo
    run_due_tasks()


def test_p_pins_a_session_on_the_grid_and_undo_unpins_it(new_page, world):
    event, keynote = world["event"], world["keynote"]
    page = new_page()
    login(page, "organiser")
    page.goto(f"/admin/sessions_app/session/schedule/?event={event.pk}&day={event.start_date}")
    block = page.locator(f'.sm-block[data-id="{keynote.pk}"]')
    block.focus()
    page.keyboard.press("p")
    expect(page.locator("#sm-planner-status")).to_contain_text("is pinned")
    expect(block.locator(".sm-pin")).to_have_text("pinned")
    expect(block).to_be_focused()
    assert Session.objects.get(pk=keynote.pk).pinned
    page.click("#sm-undo")
    expect(page.locator("#sm-planner-status")).to_contain_text("is no longer pinned")
    expect(block.locator(".sm-pin")).to_have_count(0)
    assert not Session.objects.get(pk=keynote.pk).pinned


def test_the_grid_shows_blocks_and_a_speakers_absence_while_moving(new_page, world):
    import datetime as dt
    import zoneinfo

    from sessions_app import services
    from sessions_app.models import BlockedSlot, Speaker, SpeakerAvailability

    event = world["event"]
    zone = zoneinfo.ZoneInfo(event.timezone)
    day = event.start_date
    BlockedSlot.objects.create(
        event=event,
        label="Lunch",
        starts_at=dt.datetime.combine(day, dt.time(12, 30), tzinfo=zone),
        ends_at=dt.datetime.combine(day, dt.time(13, 30), tzinfo=zone),
    )
    ada = Speaker.objects.create(event=event, first_name="Ada")
    services.session_update(
        session_id=world["keynote"].pk, data={"speaker_ids": [ada.pk]}, actor=services.SYSTEM
    )
    keynote = world["keynote"]
    SpeakerAvailability.objects.create(
        speaker=ada,
        starts_at=dt.datetime.combine(day, keynote.start_time, tzinfo=zone),
        ends_at=dt.datetime.combine(day, keynote.end_time, tzinfo=zone),
    )
    page = new_page()
    login(page, "organiser")
    page.goto(f"/admin/sessions_app/session/schedule/?event={event.pk}&day={day}")
    expect(page.locator(".sm-blocked")).to_contain_text("Blocked: Lunch")
    page.locator(f'.sm-block[data-id="{keynote.pk}"]').focus()
    page.keyboard.press("ArrowDown")  # 15 minutes later: past the end of Ada's time
    expect(page.locator(".sm-ghost")).to_contain_text("a speaker is not available then")
    # The times she cannot be there are shaded: before her slot and after it.
    expect(page.locator(".sm-unavailable")).to_have_count(2)
    page.keyboard.press("Enter")
    expect(page.locator("#sm-planner-status")).to_contain_text("cannot be there at this time")
