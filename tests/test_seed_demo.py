from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from sessions_app.enums import SessionStatus
from sessions_app.models import Event, Session, SessionChange


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_complete():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = (Event.objects.count(), Session.objects.count(), SessionChange.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Event.objects.count(), Session.objects.count(), SessionChange.objects.count()) == first

    event = Event.objects.get(organisation__slug="demo")
    assert event.timezone != "UTC"
    assert (event.end_date - event.start_date).days == 2
    assert (event.tracks.count(), event.locations.count()) == (3, 4)
    assert event.locations.filter(capacity__isnull=False).count() == 1
    assert event.custom_fields.values("field_type").distinct().count() >= 5
    assert 25 <= event.sessions.count() <= 40
    statuses = set(event.sessions.values_list("session_status", flat=True))
    assert statuses == set(SessionStatus.values)
    # Every session was written through the services, so each has its history.
    assert not event.sessions.exclude(changes__action="session.create").exists()

    text = out.getvalue()
    for username, password in [
        ("admin", "admin-demo-pass"),
        ("organiser", "organiser-demo-pass"),
        ("reviewer", "reviewer-demo-pass"),
    ]:
        assert f"{username}" in text and password in text
        login = RequestFactory().post("/admin/login/")
        assert authenticate(login, username=username, password=password) is not None


@pytest.mark.django_db
def test_seed_demo_sessions_pass_every_rule():
    call_command("seed_demo", stdout=StringIO())
    for session in Session.objects.select_related("event"):
        session.full_clean()
