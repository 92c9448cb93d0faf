"""axe-core (the engine behind the browsers' accessibility audits) over every page we render
or extend, in Chromium, in the light and the dark theme (each page loaded once per width,
then audited in each), at 1280 and 1024 px.

A serious or critical finding under the WCAG 2.1 A and AA rules fails the test, with the
page, the rule and the elements named. The data is the demo's (``seed_demo``), which is
what a new organiser sees first: every status, a clash, a sold-out session, speakers,
registrants, custom fields of every type, a webhook with deliveries.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sessions_app import services
from sessions_app.admin import tables
from sessions_app.models import (
    CustomField,
    Event,
    Message,
    Registrant,
    ScheduleProposal,
    Session,
    Speaker,
    WebhookDelivery,
)
from sessions_app.notices import compose
from sessions_app.planning import jobs
from tests.browser.conftest import AXE_OPTIONS, COLOUR_OPTIONS, findings, role_groups
from tests.tasks import run_due_tasks

# What axe checks is the rendered page, the same on either database: the SQLite run does
# it, and the PostgreSQL run (the longer one) keeps its time for what differs there.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite]
WIDTHS = [1280, 1024]
THEMES = ["light", "dark"]


@pytest.fixture
def demo(transactional_db, settings):
    """The demo organisation, its event and accounts, as ``make run`` loads them."""
    role_groups()
    call_command("seed_demo", stdout=io.StringIO())
    event = Event.objects.get(organisation__slug="demo")
    # A held message in the outbox, and one the worker has sent.
    Event.objects.filter(pk=event.pk).update(hold_messages=True)
    compose.compose()
    proposal = Session.objects.filter(event=event, session_status="submitted").order_by("pk")[0]
    services.session_set_status(session_id=proposal.pk, status="approved", actor=services.SYSTEM)
    compose.compose()
    # A schedule suggestion for the first day, ready on the grid.
    settings.SCHEDULE_SUGGESTION_SECONDS = 1
    proposal = ScheduleProposal.objects.create(event=event, day=event.start_date)
    jobs.run(proposal.pk)
    return event


def staff_pages(event) -> list[str]:
    session = Session.objects.filter(event=event, capacity__isnull=False).order_by("pk").first()
    registrant = Registrant.objects.filter(event=event).order_by("pk").first()
    speaker = Speaker.objects.filter(event=event).order_by("pk").first()
    field = CustomField.objects.filter(event=event, field_type="dropdown").first()
    pages = [
        "/admin/",
        "/admin/sessions_app/session/",
        "/admin/sessions_app/session/?session_status__exact=submitted",
        f"/admin/sessions_app/session/{session.pk}/change/",
        f"/admin/sessions_app/session/add/?event={event.pk}",
        "/admin/sessions_app/session/review/",
        f"/admin/sessions_app/session/schedule/?event={event.pk}",
        f"/admin/sessions_app/session/schedule/?event={event.pk}"
        f"&proposal={ScheduleProposal.objects.get(event=event).pk}",
        "/admin/sessions_app/session/import/",
        f"/admin/sessions_app/session/{session.pk}/history/",
        f"/admin/sessions_app/session/{session.pk}/attendees/",
        "/admin/sessions_app/registrant/",
        f"/admin/sessions_app/registrant/{registrant.pk}/change/",
        "/admin/sessions_app/registrant/import/",
        "/admin/sessions_app/speaker/",
        f"/admin/sessions_app/speaker/{speaker.pk}/change/",
        "/admin/sessions_app/event/",
        f"/admin/sessions_app/event/{event.pk}/change/",
        "/admin/sessions_app/track/",
        "/admin/sessions_app/location/",
        f"/admin/sessions_app/location/{event.locations.order_by('pk').first().pk}/change/",
        "/admin/sessions_app/customfield/",
        f"/admin/sessions_app/customfield/{field.pk}/change/",
        "/admin/sessions_app/webhooksubscription/",
        "/admin/sessions_app/webhooksubscription/add/",
        "/admin/sessions_app/webhookdelivery/",
        "/admin/password_change/",
        "/admin/sessions_app/blockedslot/",
        "/admin/sessions_app/blockedslot/add/",
        "/admin/sessions_app/message/",
        "/admin/sessions_app/messagetemplate/",
        f"/admin/sessions_app/messagetemplate/add/?kind=speaker.moved&event={event.pk}",
        "/admin/sessions_app/sessiontype/",
        "/admin/sessions_app/callforproposals/",
        f"/admin/sessions_app/callforproposals/{event.call.pk}/change/",
        "/admin/sessions_app/review/",
        f"/admin/sessions_app/review/committee/?event={event.pk}",
        f"/admin/sessions_app/reviewsettings/{event.review_settings.pk}/change/",
        "/admin/sessions_app/reviewcriterion/",
        "/admin/sessions_app/reviewer/",
        "/admin/sessions_app/reviewassignment/",
        "/admin/sessions_app/privacyrequest/",
        "/admin/sessions_app/privacyrequest/add/",
        "/admin/sessions_app/privacyrequest/sign-ins/",
        "/admin/sessions_app/staffsignin/add/",
        "/accounts/2fa/",
    ]
    held = Message.objects.filter(event=event).order_by("pk").first()
    if held is not None:
        pages.append(f"/admin/sessions_app/message/{held.pk}/change/")
    delivery = WebhookDelivery.objects.order_by("pk").first()
    if delivery is not None:
        pages.append(f"/admin/sessions_app/webhookdelivery/{delivery.pk}/change/")
    return pages


def public_pages(event) -> list[str]:
    session = Session.objects.filter(event=event, session_status="live").order_by("pk").first()
    registrant = Registrant.objects.filter(event=event).order_by("pk").first()
    base = f"/agenda/{event.organisation.slug}/{event.slug}"
    return [
        "/",
        "/agenda/",
        f"{base}/",
        f"{base}/sessions/{session.pk}/",
        f"{base}/proposed/",  # the demo shows its proposed programme, with interest
        urlsplit(registrant.selection_url()).path,
        f"/cfp/{event.organisation.slug}/{event.slug}/",
        f"/cfp/{event.organisation.slug}/{event.slug}/received/",
        "/speaker/sign-in/",
        "/speaker/sign-in/sent/",
        "/accounts/login/",
        "/accounts/sso/",
    ]


def audit(page, urls, themes=(None,)) -> dict[str, list[str]]:
    """axe's findings on each page, in each theme (the dark theme is the stylesheets'
    ``prefers-color-scheme`` colours alone, no script reads it: one load serves both, and
    the second theme is audited for colour contrast only)."""
    found = {}
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        page.wait_for_load_state("load")
        for n, theme in enumerate(themes):
            if theme is not None:
                page.emulate_media(color_scheme=theme)
                # The admin's links fade to their new colours (0.15 s): axe reads them at the end.
                page.evaluate("document.getAnimations().forEach((a) => a.finish())")
            # Every rule in the first theme; in the next ones what colours change (conftest).
            if problems := findings(page, AXE_OPTIONS if n == 0 else COLOUR_OPTIONS):
                found[url if theme is None else f"{url} ({theme})"] = problems
    return found


def staff_login(page, username="organiser") -> None:
    page.goto("/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", f"{username}-demo-pass")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_serious_finding_on_any_page(browser, live_server, demo, width):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 800}
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        found = audit(page, public_pages(demo), THEMES)
        staff_login(page)
        found |= audit(page, staff_pages(demo), THEMES)
        assert found == {}, "\n".join(f"{url}: {'; '.join(p)}" for url, p in found.items())
    finally:
        context.close()


@pytest.mark.parametrize("theme", THEMES)
def test_no_serious_finding_on_the_public_pages_on_a_phone(browser, live_server, demo, theme):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 360, "height": 740},
        color_scheme=theme,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        found = audit(page, public_pages(demo))
        assert found == {}, "\n".join(f"{url}: {'; '.join(p)}" for url, p in found.items())
        # Nothing wider than the phone: no sideways scrolling on any of them.
        for url in public_pages(demo):
            page.goto(url)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
    finally:
        context.close()


@pytest.mark.parametrize("theme", THEMES)
def test_the_grid_while_moving_and_after_a_refusal(browser, live_server, demo, theme):
    """The planner's transient parts: the ghost of a keyboard move, the status line, and the
    note a refused move leaves next to its block."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, color_scheme=theme
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        staff_login(page)
        page.goto(f"/admin/sessions_app/session/schedule/?event={demo.pk}")
        block = page.locator(".sm-block.sm-held").first
        block.focus()
        page.keyboard.press("ArrowDown")
        expect(page.locator(".sm-ghost")).to_be_visible()
        expect(page.locator("#sm-planner-status")).to_contain_text("Enter saves")
        assert findings(page) == []

        # Onto a held slot of another session in the same room: refused, said next to it.
        held = page.locator(".sm-block.sm-held")
        first, second = held.nth(0), held.nth(1)
        page.keyboard.press("Escape")
        target_start = int(second.get_attribute("data-start"))
        start = int(first.get_attribute("data-start"))
        rooms = page.locator(".sm-loc")
        ids = [rooms.nth(i).get_attribute("data-location") for i in range(rooms.count())]
        first.focus()
        steps = ids.index(second.get_attribute("data-location")) - ids.index(
            first.get_attribute("data-location")
        )
        for _ in range(abs(steps)):
            page.keyboard.press("ArrowRight" if steps > 0 else "ArrowLeft")
        for _ in range(abs(target_start - start) // 15):
            page.keyboard.press("ArrowDown" if target_start > start else "ArrowUp")
        page.keyboard.press("Enter")
        expect(page.locator(".sm-note")).to_be_visible()
        expect(page.locator("#sm-planner-status")).to_have_attribute("data-kind", "refused")
        assert findings(page) == []
    finally:
        context.close()


def test_the_session_form_with_errors(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1024, "height": 800})
    try:
        page = context.new_page()
        staff_login(page)
        session = Session.objects.filter(event=demo, session_status="live").order_by("pk").first()
        page.goto(f"/admin/sessions_app/session/{session.pk}/change/")
        page.fill("#id_end_time", "01:00")
        page.click("input[name=_save]")
        expect(page.locator(".errornote")).to_be_visible()
        assert findings(page) == []
    finally:
        context.close()


def test_the_import_report_and_the_export_pages(browser, live_server, demo, monkeypatch):
    """The pages a background job goes through: the export's offer, its progress and its
    download; an import's report with a refused row."""
    monkeypatch.setitem(tables.EXPORT_MAX_ROWS, "csv", 2)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        staff_login(page)
        page.goto("/admin/sessions_app/session/")
        page.click("text=Export CSV")
        expect(page.locator("#export-offer")).to_be_visible()
        assert findings(page) == []
        page.click("text=Prepare the CSV file")
        expect(page.locator("#export-progress")).to_be_visible()
        assert findings(page) == []
        run_due_tasks()
        expect(page.locator("#export-ready a")).to_be_visible(timeout=10_000)
        assert findings(page) == []

        page.goto("/admin/sessions_app/session/import/")
        page.select_option("#id_event", str(demo.pk))
        page.set_input_files(
            "#id_file",
            files=[
                {
                    "name": "sessions.csv",
                    "mimeType": "text/csv",
                    "buffer": b"name,date,start_time,end_time\nGood one,,,\n,,,\n",
                }
            ],
        )
        page.click("input[type=submit]")
        run_due_tasks()
        page.reload()
        expect(page.locator("#content-main")).to_contain_text("2 rows")
        assert findings(page) == []
    finally:
        context.close()
