"""An organisation's retention: housekeeping erases the registrants of its events that
ended more than ``retention_days`` ago (and the messages to their people), keeps their
seats and counts, records it for the staff UI, and leaves every other event alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from sessions_app import services
from sessions_app.models import (
    Event,
    Message,
    PrivacyRequest,
    Registrant,
    Selection,
    Session,
    SessionChange,
)
from sessions_app.ops import housekeeping
from sessions_app.privacy import retention
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = dt.date(2031, 6, 30)


def ended(organisation, days_ago: int) -> tuple[Event, Registrant]:
    """An event of ``organisation`` that ended ``days_ago`` before TODAY, with a registrant
    holding a seat they took on their own page, and a message to them."""
    event = factories.event(organisation=organisation)
    event.start_date = event.end_date = TODAY - dt.timedelta(days=days_ago)
    event.save()
    session = factories.live(event=event, capacity=5, name=f"Talk {days_ago}")
    registrant = factories.registrant(event=event, first_name="Ottilie", last_name="Vanterpool")
    services.selection_add(
        registrant_id=registrant.pk,
        session_id=session.pk,
        actor=services.Actor(registrant=registrant),
    )
    factories.message(event=event, registrant=registrant, body="Dear Ottilie Vanterpool")
    return event, registrant


def test_the_events_past_the_retention_are_erased_and_the_others_kept():
    keeping = factories.organisation()
    keeping.retention_days = 30
    keeping.save()
    old, old_person = ended(keeping, days_ago=31)
    recent, recent_person = ended(keeping, days_ago=30)  # due tomorrow, not today
    _forever, forever_person = ended(factories.organisation(), days_ago=400)  # no retention
    staff = factories.user()
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(Registrant),
        object_id=str(old_person.pk),
        object_repr=str(old_person),
        action_flag=CHANGE,
    )

    assert retention.due(TODAY) == [old]
    assert retention.run(TODAY) == {"events erased": 1, "registrants erased": 1}

    erased = Registrant.objects.get(pk=old_person.pk)
    assert (erased.first_name, erased.last_name, erased.email, erased.notices_off) == (
        "Erased", "", f"erased-{erased.pk}@erased.invalid", True,
    )  # fmt: skip
    message = Message.objects.get(registrant=old_person)
    assert (message.to_email, message.to_name, message.body) == ("", "", "")
    [made] = SessionChange.objects.filter(event=old, actor_registrant=old_person)
    assert made.actor_label == "registrant (erased)"
    assert "Vanterpool" not in LogEntry.objects.get().object_repr
    # The seat and the counts stay.
    session = Session.objects.get(event=old)
    assert Selection.objects.filter(registrant=old_person).count() == session.seats_taken == 1
    # Recorded, with counts only.
    [entry] = PrivacyRequest.objects.all()
    assert (entry.kind, entry.event_id, entry.organisation_id) == ("retention", old.pk, keeping.pk)
    assert entry.counts == {"registrants": 1, "messages": 1, "history": 1, "admin_log": 1}
    assert Event.objects.get(pk=old.pk).personal_data_erased_at is not None

    for person in (recent_person, forever_person):
        kept = Registrant.objects.get(pk=person.pk)
        assert (kept.first_name, kept.last_name) == ("Ottilie", "Vanterpool")
    # Done once: the next run finds nothing to do.
    assert retention.run(TODAY) == {"events erased": 0, "registrants erased": 0}
    # The day after, the recent one is due.
    assert retention.due(TODAY + dt.timedelta(days=1)) == [recent]


def test_housekeeping_runs_the_retention_and_the_staff_ui_lists_it(monkeypatch):
    from django.contrib.auth.models import Group

    from sessions_app.enums import MemberRole

    organisation = factories.organisation()
    organisation.retention_days = 0
    organisation.save()
    _event, person = ended(organisation, days_ago=2)
    monkeypatch.setattr(retention.timezone, "localdate", lambda: TODAY)
    assert housekeeping.run()["registrants erased"] == 1
    assert Registrant.objects.get(pk=person.pk).first_name == "Erased"

    organiser = factories.user(organisation=organisation, roles=(MemberRole.ORGANISER,))
    organiser.groups.add(Group.objects.get(name="Organisers"))
    client = Client()
    client.force_login(organiser)
    page = client.get("/admin/sessions_app/privacyrequest/").content.decode()
    assert "Retention" in page and "1 registrants" in page and "Vanterpool" not in page


def test_housekeeping_keeps_the_requests_audit_for_its_days_but_never_a_queued_erasure(
    db, settings
):
    from django.utils import timezone

    from sessions_app.enums import JobState
    from sessions_app.models import PrivacyRequest
    from tests import factories

    settings.ACCESS_LOG = {**settings.ACCESS_LOG, "REQUESTS_KEEP_DAYS": 365}
    organisation = factories.organisation()
    long_ago = timezone.now() - dt.timedelta(days=400)
    entries = {
        name: PrivacyRequest.objects.create(
            organisation=organisation, kind=kind, state=state, requested_by="x", created_at=at
        )
        for name, kind, state, at in [
            ("old done", "export", JobState.DONE, long_ago),
            ("old failed", "erasure", JobState.FAILED, long_ago),
            ("old queued", "erasure", JobState.QUEUED, long_ago),
            ("recent", "erasure", JobState.DONE, timezone.now() - dt.timedelta(days=300)),
        ]
    }

    assert housekeeping.run()["personal data requests"] == 2
    assert set(PrivacyRequest.objects.values_list("pk", flat=True)) == {
        entries["old queued"].pk,
        entries["recent"].pk,
    }
