"""A call for proposals that is open now, in an event with two session types."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from sessions_app.enums import CustomFieldType
from sessions_app.models import CallForProposals, SessionType
from tests import factories
from tests.tasks import run_due_tasks

LINK = re.compile(r"https?://\S+/speaker/sign-in/link/\?sesame=\S+")


@pytest.fixture(autouse=True)
def quick_forms(settings):
    settings.CFP_LIMITS = {**settings.CFP_LIMITS, "MIN_FORM_SECONDS": 0.0}


@pytest.fixture
def call(db):
    event = factories.event(timezone="Europe/Berlin")
    talk = SessionType.objects.create(event=event, name="Talk", default_minutes=30)
    workshop = SessionType.objects.create(event=event, name="Workshop", default_minutes=90)
    level = factories.custom_field(
        event=event, field_type=CustomFieldType.DROPDOWN, label="Level", choices=["Intro", "Deep"]
    )
    now = timezone.now()
    call = CallForProposals.objects.create(
        event=event,
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=10),
        abstract_min=10,
        abstract_max=300,
        introduction="We look for talks.",
    )
    call.session_types.set([talk, workshop])
    call.fields.set([level])
    call.required_fields.set([level])
    return call


def call_url(call) -> str:
    return f"/cfp/{call.event.organisation.slug}/{call.event.slug}/"


def form_for(call, http: Client, **overrides) -> dict:
    """What a person fills in: read from the served form (its stamp), then the answers."""
    page = http.get(call_url(call))
    stamp = re.search(r'name="stamp" value="([^"]+)"', page.content.decode()).group(1)
    level = call.fields.first()
    talk = call.session_types.filter(name="Talk").first()
    answers = {}
    if level is not None:
        answers[f"cf_{level.pk}"] = str(level.choices.first().pk)
    if talk is not None:
        answers["session_type"] = str(talk.pk)
    return {
        "stamp": stamp,
        "website": "",
        "email": "ines@example.org",
        "first_name": "Inès",
        "last_name": "Moreau",
        "bio": "Builds agendas.",
        "name": "Offline-first agendas",
        "description": "What breaks when the Wi-Fi does, and what to do.",
        "co_speakers": "",
        **answers,
        **overrides,
    }


def sign_in_link(http: Client, inbox, email: str) -> str:
    """Ask for a link as the person would, and read it from the mail that arrives."""
    page = http.get("/speaker/sign-in/")
    stamp = re.search(r'name="stamp" value="([^"]+)"', page.content.decode()).group(1)
    response = http.post("/speaker/sign-in/", {"email": email, "stamp": stamp, "website": ""})
    assert response.status_code == 302
    run_due_tasks()
    mails = inbox.to(email)
    assert mails, f"no sign-in mail to {email}"
    return LINK.search(inbox.text(mails[-1])).group(0)


def sign_in(http: Client, inbox, email: str) -> None:
    link = sign_in_link(http, inbox, email)
    token = link.partition("sesame=")[2]
    shown = http.get("/" + link.split("/", 3)[3])  # a GET only shows the button
    assert shown.status_code == 200 and not shown.wsgi_request.user.is_authenticated
    response = http.post("/speaker/sign-in/link/", {"sesame": token})
    assert response.status_code == 302 and response["Location"] == "/speaker/"
