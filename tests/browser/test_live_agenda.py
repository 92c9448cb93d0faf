"""The agenda open in a browser follows changes without a reload: from the API and the admin."""

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import api_patch, login

pytestmark = pytest.mark.browser


def close_all(*pages):
    for page in pages:
        page.context.close()
    time.sleep(1.5)  # no stream request of theirs is left when the test database goes


def item(page, session):
    return page.locator(f'li.session[data-session-id="{session.pk}"]')


def test_agenda_shows_an_api_change_within_two_seconds(new_page, agenda, live_server):
    page = new_page()
    page.goto("/agenda/acme/summit/")
    expect(page.locator("#live-status")).to_contain_text("Live", timeout=5000)
    expect(item(page, agenda["keynote"]).locator(".time")).to_have_text("10:00\u201311:00")

    api_patch(
        live_server.url, agenda, agenda["keynote"], {"start_time": "17:30", "end_time": "18:30"}
    )

    moved = item(page, agenda["keynote"])
    expect(moved.locator(".time")).to_have_text("17:30\u201318:30", timeout=2000)
    # Moved after "Closing" (16:00) in the day's order, without a reload.
    expect(page.locator("li.session").last).to_have_attribute(
        "data-session-id", str(agenda["keynote"].pk)
    )
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    close_all(page)


def test_agenda_shows_an_admin_change_and_an_unpublished_session_leaves(
    new_page, agenda, live_server
):
    page = new_page()
    page.goto("/agenda/acme/summit/")
    expect(page.locator("#live-status")).to_contain_text("Live", timeout=5000)

    admin = new_page()
    login(admin, "organiser")
    admin.goto(f"/admin/sessions_app/session/{agenda['later'].pk}/change/")
    admin.fill("#id_name", "Closing party")
    admin.click("input[name=_save]")
    expect(item(page, agenda["later"]).locator("h3")).to_have_text("Closing party", timeout=2000)

    admin.goto(f"/admin/sessions_app/session/{agenda['later'].pk}/change/")
    admin.get_by_role("button", name="Unpublish").click()
    expect(item(page, agenda["later"])).to_have_count(0, timeout=2000)
    close_all(page, admin)
