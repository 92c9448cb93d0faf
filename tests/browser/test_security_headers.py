"""The Content-Security-Policy holds and the pages still work under it, in a real browser."""

import pytest
from playwright.sync_api import expect

from sessions_app.enums import SessionStatus
from sessions_app.models import Session
from tests.browser.conftest import login

# What the browser shows here does not depend on the database: the SQLite run (the shorter
# one) drives it (docs/contributors/tests.md).
pytestmark = [pytest.mark.browser, pytest.mark.sqlite]


def watch(page) -> list[str]:
    """Everything the browser refused or failed on, as it reports it."""
    problems: list[str] = []
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def assert_policy(response) -> None:
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "'unsafe-eval'" not in policy and "script-src 'self' 'unsafe-inline'" not in policy


def test_admin_pages_work_under_the_policy(new_page, world):
    page = new_page()
    problems = watch(page)
    assert_policy(page.goto("/admin/login/"))
    login(page, "organiser")
    for url in [
        "/admin/",
        "/admin/sessions_app/session/",
        f"/admin/sessions_app/session/{world['keynote'].pk}/change/",
        f"/admin/sessions_app/session/schedule/?event={world['event'].pk}",
    ]:
        assert_policy(page.goto(url))
    # The admin's own scripts run: the date widget's calendar link is added by JavaScript.
    page.goto(f"/admin/sessions_app/session/{world['keynote'].pk}/change/")
    expect(page.locator(".datetimeshortcuts").first).to_be_visible()
    assert problems == []


def test_agenda_works_under_the_policy(new_page, world):
    Session.objects.filter(pk=world["keynote"].pk).update(session_status=SessionStatus.LIVE)
    page = new_page()
    problems = watch(page)
    event = world["event"]
    assert_policy(page.goto(f"/agenda/{event.organisation.slug}/{event.slug}/"))
    expect(page.get_by_text("Opening keynote")).to_be_visible()
    assert problems == []


def test_api_docs_render_under_the_policy(new_page, db):
    page = new_page()
    problems = watch(page)
    assert_policy(page.goto("/api/docs/"))
    # Swagger UI is drawn by script from the schema: its operations appear.
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_text("/api/v1/sessions", exact=True).first).to_be_visible()
    expect(page.locator("button.authorize")).to_be_visible()
    assert problems == []
