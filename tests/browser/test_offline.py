"""The agenda on a phone with bad Wi-Fi: an installable web app that keeps working with no
network, says how old its copy is, and catches up when the network returns."""

import json
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import api_patch

pytestmark = pytest.mark.browser


def wait_until_kept(page) -> None:
    """The service worker is in charge and this page is in its copy."""
    page.locator("html[data-offline-ready='1']").wait_for(state="attached")


def test_the_agenda_works_offline_and_catches_up_when_the_network_returns(
    new_page,
    live_server,
    agenda,
):
    page = new_page()
    context = page.context
    event = agenda["event"]
    base = f"/agenda/{event.organisation.slug}/{event.slug}/"
    registrant = factories.registrant(event=event)

    page.goto(base)
    wait_until_kept(page)
    page.goto(f"{base}sessions/{agenda['keynote'].pk}/")  # a session page, opened once
    expect(page.locator("h1")).to_contain_text("Keynote")
    page.goto(urlsplit(registrant.selection_url()).path)
    wait_until_kept(page)
    page.goto(base)
    expect(page.locator("#offline-note")).to_be_hidden()

    context.set_offline(True)
    page.reload()
    expect(page.locator("li.session")).to_have_count(2)
    expect(page.locator("#offline-note")).to_be_visible()
    expect(page.locator("#offline-note")).to_contain_text("Offline: this is the programme as of")
    # The session page opened before; one never opened is its entry in the programme.
    page.goto(f"{base}sessions/{agenda['keynote'].pk}/")
    expect(page.locator("h1")).to_contain_text("Keynote")
    page.goto(f"{base}sessions/{agenda['later'].pk}/")
    expect(page).to_have_url(f"{live_server.url}{base}#session-{agenda['later'].pk}")
    expect(page.locator(f"#session-{agenda['later'].pk}")).to_contain_text("Closing")
    # The registrant's own sessions.
    page.goto(urlsplit(registrant.selection_url()).path)
    expect(page.locator("#selection-form")).to_be_visible()

    # Back online, on the programme kept offline: a change made meanwhile shows.
    page.goto(base)
    expect(page.locator("#offline-note")).to_be_visible()
    context.set_offline(False)
    api_patch(live_server.url, agenda, agenda["keynote"], {"name": "Keynote, renamed"})
    expect(page.locator(f"#session-{agenda['keynote'].pk} h3")).to_have_text(
        "Keynote, renamed", timeout=15_000
    )
    expect(page.locator("#offline-note")).to_be_hidden()
    # And a reload online is the network's page, not the copy.
    page.reload()
    expect(page.locator(f"#session-{agenda['keynote'].pk} h3")).to_have_text("Keynote, renamed")


def test_the_agenda_is_installable(new_page, live_server, agenda):
    page = new_page()
    event = agenda["event"]
    page.goto(f"/agenda/{event.organisation.slug}/{event.slug}/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = json.loads(page.request.get(href).text())
    assert manifest["start_url"] == f"/agenda/{event.organisation.slug}/{event.slug}/"
    assert manifest["display"] == "standalone" and manifest["name"].startswith(event.name)
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert page.request.get(icon["src"]).ok, icon
    # Chromium's own view: a service worker with a fetch handler controls the page.
    wait_until_kept(page)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # (A test's browser context is an incognito one, where nothing is installed.)
    assert [e for e in errors if e["errorId"] != "in-incognito"] == [], errors
