"""Playwright against pytest-django's live server, in Debian's Chromium.

One browser for the whole run; each test gets fresh contexts (cookies, storage).
"""

import base64
import importlib
import json
import logging
import os
import urllib.request
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group, Permission

from sessions_app.enums import CustomFieldType, MemberRole, SessionStatus
from sessions_app.services.clients import api_client_create
from tests import factories

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# tests and fixtures here are plain synchronous ones.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser-pass-123"
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield chromium
        chromium.close()


class _ServerErrors(logging.Handler):
    """Every record logged with a traceback (or at ERROR) while a browser test runs: the
    live server answers in a thread of this process, so its errors land here."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_server_tracebacks():
    """A page can look right in the browser while the server logged a traceback behind it
    (a failed poll, a script's request): that fails the test too."""
    catcher = _ServerErrors()
    root = logging.getLogger()
    root.addHandler(catcher)
    try:
        yield catcher
    finally:
        root.removeHandler(catcher)
    formatter = logging.Formatter("%(name)s: %(message)s")
    found = [formatter.format(record) for record in catcher.records]
    assert found == [], "the server logged errors:\n" + "\n".join(found)


@pytest.fixture
def new_page(browser, live_server):
    """``new_page()`` opens a page in a fresh context (its own login) on the live server."""
    contexts = []

    def make(viewport=DESKTOP):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def role_groups() -> None:
    """The groups migration 0004 makes; a transactional test's flush removed them."""
    migration = importlib.import_module("sessions_app.migrations.0004_role_groups")
    attendance = importlib.import_module("sessions_app.migrations.0011_registrant_permissions")
    webhooks = importlib.import_module("sessions_app.migrations.0014_webhook_permissions")
    groups = {**migration.GROUPS}
    groups["Organisers"] = [
        *groups["Organisers"],
        *attendance.ORGANISER_PERMS,
        *webhooks.ORGANISER_PERMS,
    ]
    # Every later migration that grants permissions keeps them in GRANTS.
    folder = Path(migration.__file__).parent
    for path in sorted(folder.glob("0*_*.py")):
        module = importlib.import_module(f"sessions_app.migrations.{path.stem}")
        for name, codenames in getattr(module, "GRANTS", {}).items():
            groups[name] = [*groups[name], *codenames]
    for name, codenames in groups.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="sessions_app", codename__in=codenames
            )
        )


def member(organisation, username, *roles):
    user = factories.user(
        organisation=organisation, roles=roles, username=username, password=PASSWORD
    )
    names = {MemberRole.ORGANISER: "Organisers", MemberRole.REVIEWER: "Reviewers"}
    for role in roles:
        user.groups.add(Group.objects.get(name=names[role]))
    return user


@pytest.fixture
def world(transactional_db):
    """Acme's event with sessions and custom fields of every type; Globex next door."""
    role_groups()
    acme = factories.organisation(name="Acme", slug="acme")
    event = factories.event(organisation=acme, name="Acme Summit", timezone="Europe/Berlin")
    track = factories.track(event=event, name="Engineering", color="#16a34a")
    hall = factories.location(event=event, name="Main Hall")
    lab = factories.location(event=event, name="Lab")
    keynote = factories.scheduled(
        event=event,
        name="Opening keynote",
        location=hall,
        track=track,
        session_status=SessionStatus.APPROVED,
    )
    proposal = factories.scheduled(
        event=event,
        name="Proposal on async",
        start="12:00",
        end="13:00",
        location=lab,
        track=track,
    )
    workshop = factories.scheduled(
        event=event,
        name="Workshop",
        start="14:00",
        end="15:00",
        location=lab,
        track=track,
        session_status=SessionStatus.APPROVED,
    )
    fields = {}
    for kind in CustomFieldType:
        choices = ["Red", "Green", "Blue"] if kind in ("dropdown", "multiselect") else ()
        fields[kind.value] = factories.custom_field(
            event=event, field_type=kind, label=f"My {kind.label}", choices=choices
        )
    globex = factories.organisation(name="Globex", slug="globex")
    globex_event = factories.event(organisation=globex, name="Globex Forum")
    return {
        "event": event,
        "hall": hall,
        "lab": lab,
        "keynote": keynote,
        "proposal": proposal,
        "workshop": workshop,
        "fields": fields,
        "organiser": member(acme, "organiser", MemberRole.ORGANISER),
        "reviewer": member(acme, "reviewer", MemberRole.REVIEWER),
        "outsider": member(globex, "globex-organiser", MemberRole.ORGANISER),
        "globex_event": globex_event,
        "globex_session": factories.scheduled(event=globex_event, name="Globex secret plan"),
    }


# axe-core, the engine of the browsers' accessibility audits: WCAG 2.1 A and AA rules.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
# What a second colour scheme can change: the stylesheets' dark rules set colours alone, so
# a page audited in full in one theme is audited for its colours in the other.
COLOUR_OPTIONS = {
    "runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}
_axe = Axe()


def findings(page, options=AXE_OPTIONS) -> list[str]:
    """The serious and critical axe-core violations on the page as it is now."""
    result = _axe.run(page, options=options).response
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} {violation['help']}"
        for violation in result["violations"]
        if violation["impact"] in BLOCKING
        for node in violation["nodes"]
    ]


# --- an event's live agenda, and its API client (the live agenda, offline, embed tests) ----


@pytest.fixture
def agenda(transactional_db, settings):
    # The live server is WSGI, as gunicorn's sync workers are: each stream request looks
    # once and ends, and EventSource comes back a second later with Last-Event-ID.
    role_groups()
    organisation = factories.organisation(name="Acme", slug="acme")
    event = factories.event(organisation=organisation, slug="summit", timezone="Europe/Berlin")
    hall = factories.location(event=event, name="Hall")
    keynote = factories.live(event=event, name="Keynote", location=hall)
    later = factories.live(event=event, name="Closing", location=hall, start="16:00", end="17:00")
    client, secret = api_client_create(
        organisation=organisation, name="Sync", scopes=["sessions:read", "sessions:write"]
    )
    return {
        "event": event,
        "keynote": keynote,
        "later": later,
        "client": client,
        "secret": secret,
        "organiser": member(organisation, "organiser", MemberRole.ORGANISER, MemberRole.REVIEWER),
    }


def api_patch(base_url, agenda, session, body):
    basic = base64.b64encode(f"{agenda['client'].client_id}:{agenda['secret']}".encode()).decode()
    token_request = urllib.request.Request(
        f"{base_url}/oauth2/token",
        data=b"grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}"},
    )
    with urllib.request.urlopen(token_request, timeout=10) as answer:
        token = json.load(answer)["access_token"]
    patch = urllib.request.Request(
        f"{base_url}/api/v1/sessions/{session.pk}",
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(patch, timeout=10) as answer:
        assert answer.status == 200
