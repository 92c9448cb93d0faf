"""A person's data on request (GDPR art. 15 and 17), through the API with real tokens:
the export of everything held about them, and its erasure by the worker.

The person is a registrant of two events and a speaker of one, with seats, a waitlist
place, messages, history entries they made on their page, webhook deliveries about their
session, an import that named them, a reviewer's comment and the admin's log of their row.
After the erasure, on PostgreSQL, no text column of any table holds their address or name;
seats and counts are what the rows say; the webhook receiver was told each registrant's id
and nothing else; and the export made before held every row the erasure changed.
"""

from __future__ import annotations

import json
import time

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from sessions_app import services
from sessions_app.models import (
    ImportJob,
    Message,
    PrivacyRequest,
    Registrant,
    Review,
    Selection,
    SelectionState,
    Session,
    SessionChange,
    Speaker,
    SpeakerPhoto,
    WebhookDelivery,
)
from sessions_app.notices import compose
from sessions_app.privacy import holdings
from sessions_app.services.proposals import speaker_account
from sessions_app.webhooks import outbox, subscriptions
from tests import factories
from tests.receiver import receiver
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db

EMAIL = "Zoe.Q@Example.org"
NAME = "Zoë Quartermain"
SCOPES = ["personal-data"]


@pytest.fixture
def hooks(settings):
    settings.WEBHOOKS = {
        **settings.WEBHOOKS,
        "TIMEOUT_SECONDS": 2.0,
        "RETRY_DELAYS": [0.3, 0.9, 2.0],
        "ALLOW_PRIVATE_ADDRESSES": True,
        "ALLOWED_NETWORKS": [],
    }


def work() -> None:
    """The worker's turn: messages and deliveries for the history, then every task due."""
    compose.compose()
    while outbox.fan_out():
        pass
    run_due_tasks()


def drain(until, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        work()
        if until():
            return
        assert time.monotonic() < deadline, "the worker did not get there in time"
        time.sleep(0.05)


def world(rx_url: str | None = None) -> dict:
    organisation = factories.organisation()
    first = factories.event(organisation=organisation)
    second = factories.event(organisation=organisation)
    if rx_url is not None:
        subscriptions.webhook_create(
            organisation_id=organisation.pk, data={"url": rx_url, "events": ["*"]}
        )
    talk = factories.live(event=first, name="Deep sea cables", capacity=2)
    full = factories.live(event=second, name="Small room", capacity=1, start="14:00", end="15:00")
    other = services.registrant_create(
        event_id=second.pk,
        data={"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.org"},
        actor=services.SYSTEM,
        session_ids=[full.pk],
    )
    zoe = services.registrant_create(
        event_id=first.pk,
        data={"first_name": "Zoë", "last_name": "Quartermain", "email": EMAIL},
        actor=services.SYSTEM,
        session_ids=[talk.pk],
    )
    zoe_again = services.registrant_create(
        event_id=second.pk,
        data={"first_name": "Zoë", "last_name": "Quartermain", "email": EMAIL.lower()},
        actor=services.SYSTEM,
    )
    # On her own page: the waitlist of the full session (a history entry she made).
    services.selection_add(
        registrant_id=zoe_again.pk,
        session_id=full.pk,
        actor=services.Actor(registrant=zoe_again),
        waitlist=True,
    )
    speaker = services.speaker_create(
        event_id=first.pk,
        data={
            "first_name": "Zoë",
            "last_name": "Quartermain",
            "email": EMAIL.upper(),
            "company": "Abyssal Ltd",
            "bio": "Zoë Quartermain lays cables under the sea.",
        },
    )
    SpeakerPhoto.objects.create(speaker=speaker, content=b"\x89PNG", content_type="image/png")
    services.session_update(
        session_id=talk.pk,
        data={"speaker_ids": [speaker.pk], "description": "A talk about cables."},
        actor=services.SYSTEM,
    )
    factories.message(event=first, registrant=zoe, body=f"Welcome, {NAME}!")
    staff = factories.user(organisation=organisation, roles=("organiser",))
    Review.objects.create(
        session=talk, reviewer=staff, total=0.8, comment=f"{NAME} knows the subject."
    )
    ImportJob.objects.create(
        kind="registrants",
        event=first,
        total=1,
        rows=[{"first_name": "Zoë", "last_name": "Quartermain", "email": EMAIL}],
        report={"refused": [{"row": 2, "email": EMAIL.lower(), "why": "taken"}]},
    )
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(Registrant),
        object_id=str(zoe.pk),
        object_repr=str(zoe),
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": ["First name"]}}]),
    )
    return {
        "organisation": organisation,
        "events": (first, second),
        "sessions": (talk, full),
        "registrants": (zoe, zoe_again),
        "other": other,
        "speaker": speaker,
    }


def erase(caller, email: str = EMAIL) -> dict:
    response = caller.post("/api/v1/personal-data/erasures", {"email": email})
    assert response.status_code == 202, response.content
    location = response["Location"]
    drain(lambda: caller.get(location).json()["state"] in ("done", "failed"))
    return caller.get(location).json()


def test_the_export_holds_the_person_across_events_and_every_record_naming_them(make_caller):
    found = world()
    caller = make_caller(found["organisation"], scopes=SCOPES)
    response = caller.get("/api/v1/personal-data", {"email": "  zoe.q@EXAMPLE.org "})
    assert response.status_code == 200, response.content
    data = response.json()
    zoe, zoe_again = found["registrants"]
    assert [r["id"] for r in data["registrants"]] == [zoe.pk, zoe_again.pk]
    assert [s["state"] for s in data["registrants"][1]["selections"]] == ["waitlisted"]
    assert data["registrants"][0]["selections"][0]["session"] == "Deep sea cables"
    [speaker] = data["speakers"]
    assert speaker["bio"].startswith(NAME) and speaker["has_photo"] is True
    assert speaker["sessions"] == [{"id": found["sessions"][0].pk, "name": "Deep sea cables"}]
    assert any(NAME in m["body"] for m in data["messages"])
    assert any(entry["actor_label"].startswith("registrant Zoë") for entry in data["history"])
    assert [r["comment"] for r in data["reviews"]] == [f"{NAME} knows the subject."]
    assert len(data["imports"]) == 1 and len(data["admin_log"]) == 1
    assert "Grace" not in json.dumps(data)
    # Recorded without the address.
    [audit] = PrivacyRequest.objects.filter(organisation=found["organisation"])
    assert (audit.kind, audit.state, audit.email) == ("export", "done", "")
    assert audit.counts["registrants"] == 2 and audit.counts["speakers"] == 1
    assert audit.requested_by.startswith("API client")

    nobody = caller.get("/api/v1/personal-data", {"email": "nobody@example.org"}).json()
    assert nobody["registrants"] == nobody["speakers"] == nobody["messages"] == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "required"),
        ({"email": "not an address"}, "invalid"),
        ({"email": "a@b.c", "x": "1"}, "unknown_parameter"),
    ],
)
def test_a_bad_export_request_is_400_naming_the_parameter(make_caller, params, code):
    caller = make_caller(factories.organisation(), scopes=SCOPES)
    response = caller.get("/api/v1/personal-data", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert code in {error["code"] for error in response.json()["errors"]}
    assert not PrivacyRequest.objects.exists()


def test_a_bad_erasure_is_refused_and_changes_nothing(make_caller):
    found = world()
    caller = make_caller(found["organisation"], scopes=SCOPES)
    for body in ({}, {"email": "nope"}, {"email": EMAIL, "name": "x"}, {"email": ["a@b.c"]}):
        response = caller.post("/api/v1/personal-data/erasures", body)
        assert response.status_code == 422, (body, response.content)
        assert response["Content-Type"] == "application/problem+json"
    assert not PrivacyRequest.objects.exists()
    assert Registrant.objects.filter(email=EMAIL).exists()


def test_another_organisation_sees_and_erases_nothing_of_ours(make_caller):
    found = world()
    stranger = make_caller(factories.organisation(), scopes=SCOPES)
    data = stranger.get("/api/v1/personal-data", {"email": EMAIL}).json()
    assert data["registrants"] == data["speakers"] == []
    result = erase(stranger)
    assert (result["state"], result["counts"]) == ("done", {})
    assert Registrant.objects.filter(pk=found["registrants"][0].pk, email=EMAIL).exists()
    ours = make_caller(found["organisation"], scopes=SCOPES)
    theirs = ours.get(f"/api/v1/personal-data/erasures/{result['id']}")
    assert theirs.status_code == 404


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
        )
        return cursor.fetchall()


def _holding(needle: str) -> list[str]:
    """Every table.column whose text holds ``needle`` (any case)."""
    found = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            cursor.execute(
                f'SELECT COUNT(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',
                [f"%{needle}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def _snapshot() -> dict[tuple[str, int], dict]:
    rows = {}
    for model in (
        Registrant,
        Speaker,
        Message,
        SessionChange,
        WebhookDelivery,
        Review,
        ImportJob,
        LogEntry,
    ):
        for row in model.objects.all().values():
            rows[(model.__name__, row["id"])] = row
    return rows


KIND_OF = {
    "Registrant": "registrants",
    "Speaker": "speakers",
    "Message": "messages",
    "SessionChange": "history",
    "WebhookDelivery": "webhook_deliveries",
    "Review": "reviews",
    "ImportJob": "imports",
    "LogEntry": "admin_log",
}


@pytest.mark.postgres
def test_an_erasure_leaves_no_trace_and_the_seats_right(make_caller, hooks):
    with receiver() as rx:
        found = world(rx.url)
        drain(lambda: not WebhookDelivery.objects.exclude(state="delivered").exists())
        assert _holding("zoe.q@example.org") and _holding("Quartermain")  # there to find
        caller = make_caller(found["organisation"], scopes=SCOPES)
        exported = caller.get("/api/v1/personal-data", {"email": EMAIL}).json()
        before = _snapshot()
        told = len(rx.requests)

        result = erase(caller)
        assert result["state"] == "done", result
        assert result["counts"]["registrants"] == 2 and result["counts"]["speakers"] == 1
        drain(lambda: len(rx.requests) >= told + 2)

    # Nowhere: neither the address nor the name, in any text column of any table.
    for needle in ("zoe.q@example.org", "Quartermain", "Zoë", "Abyssal"):
        assert _holding(needle) == [], needle
    assert _holding("grace@example.org")  # the other registrant is untouched

    # Seats and counts as the rows say; her seat and waitlist place kept, pseudonymous.
    talk, full = (Session.objects.get(pk=s.pk) for s in found["sessions"])
    for session in (talk, full):
        held = Selection.objects.filter(session=session)
        assert session.seats_taken == held.filter(state=SelectionState.SELECTED).count()
        assert session.waitlist_count == held.filter(state=SelectionState.WAITLISTED).count()
    assert (talk.seats_taken, full.seats_taken, full.waitlist_count) == (1, 1, 1)
    zoe = Registrant.objects.get(pk=found["registrants"][0].pk)
    assert (zoe.first_name, zoe.email, zoe.notices_off) == (
        "Erased", f"erased-{zoe.pk}@erased.invalid", True,
    )  # fmt: skip
    assert not SpeakerPhoto.objects.exists()

    # The receiver was told, with ids only.
    erased = [json.loads(r.body) for r in rx.requests if b"registrant.erased" in r.body]
    assert sorted(e["data"]["registrant_id"] for e in erased) == sorted(
        r.pk for r in found["registrants"]
    )
    assert all(set(e["data"]) == {"registrant_id", "event_id", "actor"} for e in erased)

    # The export made before held every row the erasure changed.
    after = _snapshot()
    changed = {key for key, row in before.items() if after.get(key) != row}
    assert changed, "the erasure changed rows"
    listed = {(model, item["id"]) for model, kind in KIND_OF.items() for item in exported[kind]}
    assert changed <= listed, changed - listed

    # The audit entry keeps who and how many, not whom.
    audit = PrivacyRequest.objects.get(pk=result["id"])
    assert audit.email == "" and audit.requested_by.startswith("API client")


def test_an_erasure_keeps_a_speaker_account_another_organisation_still_uses(
    make_caller, django_user_model
):
    found = world()
    elsewhere = factories.event()
    services.speaker_create(event_id=elsewhere.pk, data={"first_name": "Zoë", "email": EMAIL})
    account = speaker_account(EMAIL)
    caller = make_caller(found["organisation"], scopes=SCOPES)
    assert erase(caller)["counts"].get("speaker_accounts", 0) == 0
    assert django_user_model.objects.filter(pk=account.pk).exists()
    # Once nobody keeps it, the account goes too.
    other = make_caller(elsewhere.organisation, scopes=SCOPES)
    assert erase(other)["counts"]["speaker_accounts"] == 1
    assert not django_user_model.objects.filter(pk=account.pk).exists()
    assert holdings.find(organisation_id=elsewhere.organisation_id, email=EMAIL).found is False
