"""The agenda in the organiser's own website: the two-line snippet on a page served by
another server (another origin) draws the programme and follows changes live; on a site the
event does not list, the browser itself refuses the data."""

import functools
import http.server
import threading

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import api_patch, findings

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Summit 2026</title>
<style>sessions-agenda {{ --sa-accent: rgb(180, 0, 0); --sa-font: serif; }}</style>
</head><body><main><h1>Acme Summit 2026: the programme</h1>
{snippet}
</main></body></html>
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def host_site(tmp_path):
    """``serve(html)``: a page of its own on another origin (http://127.0.0.1:<port>/)."""
    servers = []

    def serve(html: str) -> str:
        folder = tmp_path / f"site{len(servers)}"
        folder.mkdir()
        (folder / "index.html").write_text(html, encoding="utf-8")
        handler = functools.partial(_Quiet, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def snippet(live_url: str, event) -> str:
    return (
        f'<script src="{live_url}/agenda/embed.js" defer></script>\n'
        f'<sessions-agenda src="{live_url}/agenda/{event.organisation.slug}/{event.slug}'
        '/embed.json"></sessions-agenda>'
    )


def test_a_listed_site_shows_the_agenda_live_styled_and_without_cookies(
    new_page,
    live_server,
    agenda,
    host_site,
):
    event = agenda["event"]
    site = host_site(HOST_PAGE.format(snippet=snippet(live_server.url, event)))
    event.embed_origins = f"https://www.acme.example\n{site}"
    event.save(update_fields=["embed_origins"])
    page = new_page()
    asked = []
    page.on("request", lambda request: asked.append(request.url))

    page.goto(site + "/")
    sessions = page.locator("sessions-agenda li")
    expect(sessions).to_have_count(2)
    expect(sessions.first).to_contain_text("Keynote")
    expect(sessions.first).to_contain_text("Hall")
    link = page.locator("sessions-agenda a", has_text="Keynote")
    assert link.get_attribute("href") == (
        f"{live_server.url}/agenda/{event.organisation.slug}/{event.slug}/sessions/"
        f"{agenda['keynote'].pk}/"
    )
    # The host page's custom properties style it; its own rules do not reach inside.
    assert link.evaluate("a => getComputedStyle(a).color") == "rgb(180, 0, 0)"
    assert findings(page) == []

    api_patch(live_server.url, agenda, agenda["keynote"], {"name": "Keynote, renamed"})
    expect(sessions.first).to_contain_text("Keynote, renamed", timeout=15_000)

    # Nothing but the host site and this one was asked; no cookie was set anywhere.
    assert asked and all(url.startswith((site, live_server.url)) for url in asked), asked
    assert page.context.cookies() == []


def test_a_site_not_on_the_list_is_refused_by_the_browser(
    new_page,
    live_server,
    agenda,
    host_site,
):
    event = agenda["event"]
    listed = host_site("<!doctype html><title>listed</title>")
    other = host_site(HOST_PAGE.format(snippet=snippet(live_server.url, event)))
    event.embed_origins = listed
    event.save(update_fields=["embed_origins"])
    page = new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))

    page.goto(other + "/")
    expect(page.locator("sessions-agenda .status")).to_have_text(
        "The agenda could not be loaded here."
    )
    expect(page.locator("sessions-agenda li")).to_have_count(0)
    assert any("CORS" in line for line in console), console


def test_the_agenda_page_may_be_framed_by_the_listed_sites_alone(
    new_page, live_server, agenda, host_site
):
    event = agenda["event"]
    frame = (
        f'<iframe src="{live_server.url}/agenda/{event.organisation.slug}/{event.slug}/" '
        'title="Agenda" width="800" height="600"></iframe>'
    )
    listed = host_site(HOST_PAGE.format(snippet=frame))
    other = host_site(HOST_PAGE.format(snippet=frame))
    event.embed_origins = listed
    event.save(update_fields=["embed_origins"])

    page = new_page()
    page.goto(listed + "/")
    expect(page.frame_locator("iframe").locator("li.session")).to_have_count(2)

    refused = new_page()
    console = []
    refused.on("console", lambda message: console.append(message.text))
    refused.goto(other + "/")
    refused.wait_for_timeout(1000)
    assert refused.frame_locator("iframe").locator("li.session").count() == 0
    assert any("frame-ancestors" in line for line in console), console
