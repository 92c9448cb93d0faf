"""The staff UI by keyboard alone, with a visible focus, and the session list fitting the
screen at the widths organisers work at."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from sessions_app.enums import SessionStatus
from sessions_app.models import Session
from tests import factories
from tests.browser.conftest import login

# What the browser shows here does not depend on the database: the SQLite run (the shorter
# one) drives it (docs/contributors/tests.md).
pytestmark = [pytest.mark.browser, pytest.mark.sqlite]


def tab_to(page, selector: str, *, backwards: bool = False, limit: int = 400) -> None:
    """Press Tab (or Shift+Tab) until the focus is on ``selector``, as a keyboard user would."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} is not reachable with {key}")


def focus_is_visible(page) -> bool:
    """The focused element draws an outline or a ring: the keyboard's place can be seen."""
    return page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
            return outline || style.boxShadow !== 'none';
        }"""
    )


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_session_list_shows_every_column_inside_the_screen(new_page, world, width):
    """With two events in view (so the event column is there too) and long names."""
    event = world["event"]
    second = factories.event(organisation=event.organisation, name="Acme Autumn Conference")
    for n in range(3):
        factories.scheduled(
            event=second,
            name=f"A rather long session title that goes on for a while, part {n}",
            capacity=40,
        )
    page = new_page({"width": width, "height": 800})
    login(page, "organiser")
    page.goto("/admin/sessions_app/session/")
    expect(page.locator("#result_list th.column-event")).to_be_visible()
    for cell in ["th.column-seats_display", "tbody tr:first-child td.field-seats_display"]:
        box = page.locator(f"#result_list {cell}").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (cell, box)
    # Names are not squeezed into a narrow column.
    name = page.locator("#result_list tbody th.field-name").first.bounding_box()
    assert name["width"] >= 160

    # The filters fold away and come back by the organiser's choice, which is remembered.
    toggle = page.locator("#sm-filter-toggle")
    panel = page.locator("#changelist-filter")
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    expect(panel).to_be_visible()
    toggle.click()
    expect(panel).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.reload()
    expect(panel).to_be_hidden()
    expect(toggle).to_have_text("Show filters")


def test_the_event_column_is_left_out_when_one_event_is_in_view(new_page, world):
    page = new_page()
    login(page, "organiser")
    page.goto("/admin/sessions_app/session/")
    expect(page.locator("#result_list th.column-when_display")).to_be_visible()
    expect(page.locator("#result_list th.column-event")).to_have_count(0)
    expect(page.locator("#result_list tbody tr").first).to_contain_text("Mon ")


def test_keyboard_only_places_moves_and_unschedules_on_the_grid(new_page, world):
    event = world["event"]
    unplaced = factories.create_via_service(event=event, name="Unplaced talk")
    page = new_page()
    login(page, "organiser")
    page.goto(f"/admin/sessions_app/session/schedule/?event={event.pk}&day={event.start_date}")
    expect(page.locator("#sm-schedule")).to_be_visible()
    page.locator("#sm-step").focus()
    page.keyboard.press("End")  # snap to 15 minutes, the last choice

    tab_to(page, f'.sm-unplaced[data-id="{unplaced.pk}"]')
    assert focus_is_visible(page)
    page.keyboard.press("ArrowDown")
    expect(page.locator(".sm-ghost")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#sm-planner-status")).to_contain_text("Unplaced talk moved to")
    placed = Session.objects.get(pk=unplaced.pk)
    assert placed.date == event.start_date and placed.start_time is not None
    # The focus stays on the session, now a block on the grid.
    expect(page.locator(f'.sm-block[data-id="{unplaced.pk}"]')).to_be_focused()

    later = dt.datetime.combine(event.start_date, placed.start_time) + dt.timedelta(minutes=15)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#sm-planner-status")).to_contain_text(f"moved to {later:%H:%M}")
    assert Session.objects.get(pk=unplaced.pk).version == placed.version + 1

    # Shift+Down moves the end only: 15 minutes longer.
    before = Session.objects.get(pk=unplaced.pk)
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#sm-planner-status")).to_contain_text(
        f"moved to {before.start_time:%H:%M}"
    )
    longer = Session.objects.get(pk=unplaced.pk)
    assert longer.start_time == before.start_time
    assert (
        longer.end_time
        == (
            dt.datetime.combine(event.start_date, before.end_time) + dt.timedelta(minutes=15)
        ).time()
    )

    page.keyboard.press("Delete")
    expect(page.locator("#sm-planner-status")).to_contain_text("Unplaced talk is unscheduled.")
    assert Session.objects.get(pk=unplaced.pk).start_time is None
    expect(page.locator(f'.sm-unplaced[data-id="{unplaced.pk}"]')).to_be_focused()


def test_keyboard_only_approves_in_the_review_queue(new_page, world):
    proposal = world["proposal"]
    page = new_page()
    login(page, "reviewer")
    page.goto("/admin/sessions_app/session/review/")
    page.locator("#searchbar").focus()
    tab_to(page, f'input.action-select[value="{proposal.pk}"]')
    assert focus_is_visible(page)
    page.keyboard.press("Space")
    tab_to(page, "select[name=action]", backwards=True)
    for _ in range(10):
        if page.locator("select[name=action]").input_value() == "approve_selected":
            break
        page.keyboard.press("ArrowDown")
    assert page.locator("select[name=action]").input_value() == "approve_selected"
    tab_to(page, "button[name=index]")
    page.keyboard.press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("Approved")
    assert Session.objects.get(pk=proposal.pk).session_status == SessionStatus.APPROVED


def test_keyboard_only_saves_the_session_form(new_page, world):
    keynote = world["keynote"]
    page = new_page()
    login(page, "organiser")
    page.goto(f"/admin/sessions_app/session/{keynote.pk}/change/")
    page.locator("#id_name").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("Opening keynote, by keyboard")
    tab_to(page, "input[name=_save]")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    assert Session.objects.get(pk=keynote.pk).name == "Opening keynote, by keyboard"
