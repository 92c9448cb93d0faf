"""Planning on the schedule grid in Chromium: drag, resize, place, refuse, undo, keys, and two
organisers at once."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from sessions_app.models import Session, SessionChange
from tests import factories
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def grid_url(world) -> str:
    event = world["event"]
    return f"/admin/sessions_app/session/schedule/?event={event.pk}&day={event.start_date}"


def open_grid(new_page, world):
    page = new_page()
    login(page, "organiser")
    page.goto(grid_url(world))
    expect(page.locator("#sm-schedule")).to_be_visible()
    return page


def point(page, location: str, minutes: int) -> tuple[float, float]:
    """Where on the screen ``location``'s column shows ``minutes`` past midnight, with the
    grid scrolled so that it is in sight (as a person scrolls before they drop)."""
    return tuple(
        page.evaluate(
            """([name, minutes]) => {
                const grid = document.getElementById('sm-schedule');
                const scroller = grid.closest('.sm-schedule-scroll');
                const rowTop = (m) => {
                    const hour = grid.querySelector('.sm-hour').getBoundingClientRect().height;
                    const header = grid.querySelector('.sm-corner').getBoundingClientRect().height;
                    const first = parseInt(grid.dataset.firstHour, 10) * 60;
                    return header + ((m - first) / 60) * hour;
                };
                const wanted = rowTop(minutes) - scroller.clientHeight / 2;
                scroller.scrollTop = Math.max(0, wanted);
                const col = Array.from(grid.querySelectorAll('.sm-loc'))
                    .find((c) => c.textContent.trim().startsWith(name));
                const hour = grid.querySelector('.sm-hour').getBoundingClientRect().height;
                const header = grid.querySelector('.sm-corner').getBoundingClientRect().height;
                const first = parseInt(grid.dataset.firstHour, 10) * 60;
                const box = col.getBoundingClientRect();
                const top = grid.getBoundingClientRect().top + header;
                return [box.left + box.width / 2, top + ((minutes - first) / 60) * hour];
            }""",
            [location, minutes],
        )
    )


def block(page, name: str):
    return page.locator(".sm-block", has_text=name)


def drag_to(page, source, location: str, minutes: int, *, grab_at: float = 4, check=None):
    """Press on ``source`` ``grab_at`` pixels below its top, move so that its top lands on
    ``minutes`` in ``location``, release; ``check`` runs while it is held there."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + grab_at)
    page.mouse.down()
    x, y = point(page, location, minutes)
    page.mouse.move(x, y + grab_at, steps=10)
    if check is not None:
        check()
    page.mouse.up()


def wait_saved(page):
    expect(page.locator("#sm-planner-status")).to_have_attribute("data-kind", "ok")


def test_drag_to_a_free_slot_in_another_room_saves_it(new_page, world):
    page = open_grid(new_page, world)

    drag_to(page, block(page, "Opening keynote"), "Lab", 16 * 60)

    wait_saved(page)
    keynote = Session.objects.get(pk=world["keynote"].pk)
    assert (keynote.location, keynote.start_time, keynote.end_time) == (
        world["lab"],
        dt.time(16, 0),
        dt.time(17, 0),
    )
    (change,) = SessionChange.objects.filter(session_id=keynote.pk)
    assert (change.note, change.actor_user.username) == ("Schedule grid", "organiser")
    expect(block(page, "Opening keynote")).to_have_attribute("data-start", str(16 * 60))


def test_a_drop_on_a_held_slot_is_refused_and_the_block_stays(new_page, world):
    page = open_grid(new_page, world)
    ghost = page.locator(".sm-ghost")

    def clash_shown_before_the_drop():
        expect(ghost).to_have_class("sm-ghost sm-ghost-clash")
        expect(ghost).to_contain_text("clashes with Opening keynote")

    drag_to(
        page,
        block(page, "Workshop"),
        "Main Hall",
        10 * 60 + 30,
        check=clash_shown_before_the_drop,
    )

    status = page.locator("#sm-planner-status")
    expect(status).to_have_attribute("data-kind", "refused")
    expect(status).to_contain_text("already booked at this time by")
    expect(page.locator(".sm-note")).to_contain_text("already booked")
    expect(block(page, "Workshop")).to_have_attribute("data-start", str(14 * 60))
    workshop = Session.objects.get(pk=world["workshop"].pk)
    assert (workshop.location, workshop.start_time, workshop.version) == (
        world["lab"],
        dt.time(14, 0),
        1,
    )
    assert not SessionChange.objects.exists()


def test_resizing_changes_the_end(new_page, world):
    page = open_grid(new_page, world)
    handle = block(page, "Opening keynote").locator(".sm-resize")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 2)
    page.mouse.down()
    _, y = point(page, "Main Hall", 11 * 60 + 30)
    page.mouse.move(box["x"] + box["width"] / 2, y, steps=8)
    page.mouse.up()

    wait_saved(page)
    keynote = Session.objects.get(pk=world["keynote"].pk)
    assert (keynote.start_time, keynote.end_time) == (dt.time(10, 0), dt.time(11, 30))


def test_an_unscheduled_session_is_dragged_onto_the_grid_and_back(new_page, world):
    idea = factories.session(event=world["event"], name="Hallway idea")
    page = open_grid(new_page, world)

    drag_to(page, page.locator(".sm-unplaced", has_text="Hallway idea"), "Main Hall", 15 * 60)

    wait_saved(page)
    idea.refresh_from_db()
    assert (idea.date, idea.start_time, idea.end_time, idea.location) == (
        world["event"].start_date,
        dt.time(15, 0),
        dt.time(16, 0),
        world["hall"],
    )
    placed = block(page, "Hallway idea")
    placed.scroll_into_view_if_needed()
    box = placed.bounding_box()
    page.mouse.move(box["x"] + 10, box["y"] + 5)
    page.mouse.down()
    aside = page.locator("#sm-unscheduled").bounding_box()
    page.mouse.move(aside["x"] + 30, aside["y"] + 30, steps=10)
    page.mouse.up()

    expect(page.locator("#sm-planner-status")).to_contain_text("is unscheduled")
    idea.refresh_from_db()
    assert (idea.date, idea.start_time) == (None, None)


def test_undo_sends_the_last_move_back(new_page, world):
    page = open_grid(new_page, world)
    drag_to(page, block(page, "Opening keynote"), "Lab", 16 * 60)
    wait_saved(page)

    page.click("#sm-undo")

    expect(page.locator("#sm-planner-status")).to_contain_text("Undone")
    keynote = Session.objects.get(pk=world["keynote"].pk)
    assert (keynote.location, keynote.start_time, keynote.version) == (
        world["hall"],
        dt.time(10, 0),
        3,
    )
    assert SessionChange.objects.filter(session_id=keynote.pk).count() == 2
    expect(page.locator("#sm-undo")).to_be_disabled()


def test_the_keyboard_moves_a_block_too(new_page, world):
    page = open_grid(new_page, world)
    page.select_option("#sm-step", "15")
    keynote = block(page, "Opening keynote")
    keynote.focus()

    names = page.locator(".sm-loc").all_inner_texts()
    toward_lab = "ArrowRight" if names.index("Lab") > names.index("Main Hall") else "ArrowLeft"
    for key in ["ArrowDown"] * 4 + [toward_lab]:
        page.keyboard.press(key)
    expect(page.locator(".sm-ghost")).to_contain_text("11:00\u201312:00")
    page.keyboard.press("Enter")

    wait_saved(page)
    moved = Session.objects.get(pk=world["keynote"].pk)
    assert (moved.location, moved.start_time, moved.end_time) == (
        world["lab"],
        dt.time(11, 0),
        dt.time(12, 0),
    )
    assert page.url.endswith(grid_url(world))  # Enter saved the move, it did not open the link


def two_organisers(browser, live_server, world) -> list:
    """The grid open in two browser contexts of their own, as two people would have it."""
    pages = []
    for _ in range(2):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        login(page, "organiser")
        page.goto(grid_url(world))
        pages.append(page)
    return pages


def test_a_drop_on_a_stale_grid_is_refused_and_the_grid_redrawn(
    browser, live_server, world, settings
):
    settings.SCHEDULE_GRID_POLL_SECONDS = 300  # no poll comes to the rescue here
    pages = two_organisers(browser, live_server, world)
    first, second = pages

    drag_to(first, block(first, "Opening keynote"), "Lab", 16 * 60)
    wait_saved(first)
    drag_to(second, block(second, "Opening keynote"), "Main Hall", 9 * 60)

    status = second.locator("#sm-planner-status")
    expect(status).to_contain_text("Someone else changed this session")
    expect(block(second, "Opening keynote")).to_have_attribute("data-start", str(16 * 60))
    keynote = Session.objects.get(pk=world["keynote"].pk)
    assert (keynote.location, keynote.start_time) == (world["lab"], dt.time(16, 0))
    for page in pages:
        page.context.close()


def test_other_peoples_changes_appear_without_a_reload(browser, live_server, world, settings):
    settings.SCHEDULE_GRID_POLL_SECONDS = 0.5
    pages = two_organisers(browser, live_server, world)
    watcher, mover = pages
    page_id = watcher.evaluate("() => (window.__loaded = Math.random())")

    drag_to(mover, block(mover, "Opening keynote"), "Lab", 16 * 60)
    wait_saved(mover)

    expect(block(watcher, "Opening keynote")).to_have_attribute(
        "data-start", str(16 * 60), timeout=5000
    )
    assert watcher.evaluate("() => window.__loaded") == page_id  # no reload
    for page in pages:
        page.context.close()


def test_undo_takes_a_placed_session_back_to_the_unscheduled_list(new_page, world):
    idea = factories.session(event=world["event"], name="Hallway idea")
    page = open_grid(new_page, world)
    drag_to(page, page.locator(".sm-unplaced", has_text="Hallway idea"), "Main Hall", 15 * 60)
    wait_saved(page)

    page.click("#sm-undo")

    expect(page.locator("#sm-planner-status")).to_contain_text(
        "Undone: Hallway idea is back where it was."
    )
    idea.refresh_from_db()
    assert (idea.date, idea.start_time, idea.end_time) == (None, None, None)
    expect(page.locator(".sm-unplaced", has_text="Hallway idea")).to_be_visible()
