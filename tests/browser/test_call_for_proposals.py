"""A speaker's whole way through the demo's call, in Chromium: propose with a co-speaker,
sign in with the link from the email, edit, withdraw another, confirm once an organiser
approves. The organiser's API client (a token from the real token endpoint) sees each step.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import expect

from sessions_app.models import Event, Session
from tests.browser.conftest import findings, role_groups
from tests.tasks import run_due_tasks

# The pages and the flow are the same on either database: the SQLite run (the shorter one)
# drives them; the rules behind them run on PostgreSQL in tests/cfp.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite]

LINK = re.compile(r"https?://\S+/speaker/sign-in/link/\?sesame=\S+")


class Organiser:
    """The demo organisation's API client, with a token from /oauth2/token."""

    def __init__(self) -> None:
        self.http = Client()
        token = self.http.post(
            "/oauth2/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION="Basic "
            + base64.b64encode(b"demo-client:demo-secret-for-local-use-only").decode(),
        ).json()["access_token"]
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def session(self, pk: int) -> dict:
        return self.http.get(f"/api/v1/sessions/{pk}", **self.auth).json()

    def approve(self, pk: int) -> int:
        return self.http.patch(
            f"/api/v1/sessions/{pk}",
            '{"session_status": "approved"}',
            content_type="application/json",
            **self.auth,
        ).status_code


@pytest.fixture
def demo(transactional_db, settings, live_server):
    settings.SITE_URL = live_server.url  # the links in the emails open on this server
    role_groups()
    call_command("seed_demo", stdout=io.StringIO())
    settings.CFP_LIMITS = {**settings.CFP_LIMITS, "MIN_FORM_SECONDS": 0.0}
    return Event.objects.get(organisation__slug="demo")


def propose(page, event, title: str, co_speaker: str = "") -> None:
    page.goto(f"/cfp/{event.organisation.slug}/{event.slug}/")
    page.get_by_label("Your email address").fill("lena@example.org")
    page.get_by_label("First name").fill("Lena")
    page.get_by_label("Last name").fill("Park")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Abstract").fill(
        "How we run a conference programme with fewer spreadsheets and happier speakers."
    )
    page.get_by_label("Session type").select_option(label="Talk (30 min)")
    page.get_by_label("Track").select_option(label="Community")
    page.get_by_label("Level").select_option(label="Beginner")
    if co_speaker:
        page.get_by_label("Co-speakers").fill(co_speaker)
    page.get_by_role("button", name="Send my proposal").click()
    expect(page.get_by_role("heading", name="Thank you: your proposal has arrived")).to_be_visible()


def test_propose_sign_in_edit_withdraw_and_confirm(new_page, demo, smtp):
    organiser = Organiser()
    page = new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(f"/cfp/{demo.organisation.slug}/{demo.slug}/")
    assert findings(page) == []

    propose(page, demo, "Programmes without spreadsheets", co_speaker="max@example.org")
    propose(page, demo, "A talk I will take back")
    first = Session.objects.get(name="Programmes without spreadsheets")
    second = Session.objects.get(name="A talk I will take back")
    assert organiser.session(first.pk)["session_status"] == "submitted"
    assert len(organiser.session(first.pk)["speaker_ids"]) == 2

    # Sign in with the link from the email (the worker sends it).
    page.goto("/speaker/sign-in/")
    page.get_by_label("Your email address").fill("lena@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    run_due_tasks()
    mail = [m for m in smtp.to("lena@example.org") if "sign-in link" in str(m["Subject"])][-1]
    link = LINK.search(smtp.text(mail)).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in to my speaker page").click()
    expect(page.get_by_role("heading", name="My proposals")).to_be_visible()
    expect(page.get_by_role("heading", name="Programmes without spreadsheets")).to_be_visible()
    assert findings(page) == []

    # Edit the first while it is submitted.
    page.locator(f"a[href='/speaker/proposals/{first.pk}/']").click()
    page.get_by_label("Title").fill("Programmes without a single spreadsheet")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Your changes are saved.")).to_be_visible()
    assert organiser.session(first.pk)["name"] == "Programmes without a single spreadsheet"

    # Withdraw the second.
    page.locator(f"form[action='/speaker/proposals/{second.pk}/withdraw/'] button").click()
    expect(page.get_by_text("The proposal is withdrawn.")).to_be_visible()
    assert organiser.session(second.pk)["session_status"] == "withdrawn"

    # The organiser approves the first; the speaker confirms.
    assert organiser.approve(first.pk) == 200
    page.reload()
    page.get_by_role("button", name="I will come").click()
    expect(page.get_by_text("you confirmed that you will come")).to_be_visible()
    answers = organiser.session(first.pk)["speaker_confirmations"]
    assert sorted(answers.values()) == ["confirmed", "unconfirmed"]

    # The profile page, also accessible.
    page.goto("/speaker/profile/")
    assert findings(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
