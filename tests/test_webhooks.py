"""Webhooks end to end in one process: the outbox read by ``outbox.fan_out``, each attempt
run by django-tasks' own database worker (``db_worker --batch``), POSTed over TCP to a
receiver on loopback."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sessions_app import services
from sessions_app.models import (
    DeliveryState,
    OutboxCursor,
    SessionChange,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from sessions_app.webhooks import outbox, sealing, subscriptions, transport
from sessions_app.webhooks.delivery import _begin, delivery_retry
from tests import factories as f
from tests.concurrency import committed_after
from tests.receiver import receiver
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db


def run_worker_once() -> None:
    """What the worker does in one turn: read the outbox, run every task that is due.

    The tasks run as django-tasks' own database worker runs them (tests.tasks).
    """
    outbox.recover_lost_attempts()
    while outbox.fan_out():
        pass
    run_due_tasks()


def drain(until, *, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        run_worker_once()
        if until():
            return
        assert time.monotonic() < deadline, "the worker did not get there in time"
        time.sleep(0.05)


@pytest.fixture
def hooks(settings):
    """Fast retries for the tests; each test may change more."""
    settings.WEBHOOKS = {
        **settings.WEBHOOKS,
        "TIMEOUT_SECONDS": 2.0,
        "RETRY_DELAYS": [0.3, 0.9, 2.0],
        "ALLOW_PRIVATE_ADDRESSES": True,
        "ALLOWED_NETWORKS": [],
    }
    return settings.WEBHOOKS


@pytest.fixture
def event():
    return f.event()


def subscribe(event, url, events=("*",), **data):
    return subscriptions.webhook_create(
        organisation_id=event.organisation_id, data={"url": url, "events": list(events), **data}
    )


def rename(session, name):
    return services.session_update(
        session_id=session.pk, data={"name": name}, actor=services.SYSTEM
    )


def verify(secret: str, received) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.headers["X-Webhook-Signature"])


def test_a_change_is_delivered_signed_with_the_secret(hooks, event):
    session = f.scheduled(event=event, name="Before")
    with receiver() as rx:
        _, secret = subscribe(event, rx.url)
        rename(session, "After")
        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).exists())

        (got,) = rx.requests
    change = SessionChange.objects.get(session_id=session.pk, action="session.update")
    assert verify(secret, got)
    assert not verify("another-secret-of-some-length", got)
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Webhook-Id"] == str(change.pk)
    assert got.headers["X-Webhook-Event"] == "session.updated"
    body = json.loads(got.body)
    assert body["id"] == change.pk
    assert body["type"] == "session.updated"
    assert body["created_at"].endswith("Z")
    assert body["data"]["changes"] == {"name": {"old": "Before", "new": "After"}}
    assert body["data"]["session"]["name"] == "After"
    assert body["data"]["session"]["id"] == session.pk
    assert body["data"]["version"] == change.version
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempt_count, delivery.last_status_code) == (
        DeliveryState.DELIVERED,
        1,
        200,
    )
    assert delivery.next_attempt_at is None
    (attempt,) = delivery.attempts.all()
    assert attempt.status_code == 200 and attempt.finished_at is not None and attempt.error == ""


def test_a_refused_write_emits_nothing(hooks, event):
    room = f.location(event=event)
    f.scheduled(event=event, location=room, session_status="approved", start="10:00", end="11:00")
    other = f.scheduled(
        event=event, location=room, session_status="approved", start="12:00", end="13:00"
    )
    with receiver() as rx:
        subscribe(event, rx.url)
        changes_before = SessionChange.objects.count()
        with pytest.raises(ValidationError):
            services.session_update(
                session_id=other.pk, data={"start_time": dt.time(10, 30)}, actor=services.SYSTEM
            )
        run_worker_once()

        assert SessionChange.objects.count() == changes_before
        assert WebhookDelivery.objects.count() == 0
        assert rx.requests == []


def test_each_committed_change_is_one_event(hooks, event):
    with receiver() as rx:
        subscribe(event, rx.url)
        session = f.create_via_service(event=event, name="Talk")
        rename(session, "Talk 2")
        services.session_set_status(session_id=session.pk, status="approved", actor=services.SYSTEM)
        services.session_delete(session_id=session.pk, actor=services.SYSTEM)
        drain(lambda: len(rx.requests) == 4)
        run_worker_once()  # nothing more comes

        assert len(rx.requests) == 4
    changes = list(SessionChange.objects.filter(session_id=session.pk).order_by("id"))
    bodies = [json.loads(got.body) for got in rx.requests]
    assert sorted(body["id"] for body in bodies) == [change.pk for change in changes]
    assert sorted((body["id"], body["type"]) for body in bodies) == [
        (changes[0].pk, "session.created"),
        (changes[1].pk, "session.updated"),
        (changes[2].pk, "session.status.approved"),
        (changes[3].pk, "session.deleted"),
    ]
    deleted = next(body for body in bodies if body["type"] == "session.deleted")
    assert deleted["data"]["session"] is None
    assert deleted["data"]["session_id"] == session.pk


def test_each_event_carries_the_session_as_its_change_left_it(hooks, event):
    """Three quick writes, delivered after all three are made: each event says what its
    own change made (versions 1, 2, 3 in order of id), not what the session is by then; a
    retried delivery, and the same event for another subscriber, are the same bytes."""
    with receiver([500, 200]) as first, receiver() as second:
        subscribe(event, first.url)
        subscribe(event, second.url)
        session = f.create_via_service(event=event, name="Draft")
        rename(session, "Second")
        rename(session, "Third")
        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count() == 6)

        bodies = sorted((json.loads(got.body) for got in second.requests), key=lambda b: b["id"])
        retried = {}
        for got in first.requests:
            retried.setdefault(got.headers["X-Webhook-Id"], []).append(got.body)
        to_second = {got.headers["X-Webhook-Id"]: got.body for got in second.requests}
    assert [body["type"] for body in bodies] == [
        "session.created",
        "session.updated",
        "session.updated",
    ]
    assert [body["data"]["session"]["version"] for body in bodies] == [1, 2, 3]
    assert [body["data"]["version"] for body in bodies] == [1, 2, 3]
    assert [body["data"]["session"]["name"] for body in bodies] == ["Draft", "Second", "Third"]
    ids = list(
        SessionChange.objects.filter(session_id=session.pk)
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert [body["id"] for body in bodies] == ids
    # The first subscriber's first attempt failed and was made again: the same bytes.
    (twice,) = [bodies for bodies in retried.values() if len(bodies) == 2]
    assert twice[0] == twice[1]
    # Both subscribers got the same bytes for each event.
    assert {key: bodies[-1] for key, bodies in retried.items()} == to_second


def test_a_change_of_the_event_zone_carries_each_moved_session(hooks, event):
    session = f.scheduled(event=event, start="10:00", end="11:00")
    with receiver() as rx:
        subscribe(event, rx.url)
        services.event_update(
            event_id=event.pk, data={"timezone": "Asia/Tokyo"}, actor=services.SYSTEM
        )
        rename(session, "Renamed")
        drain(lambda: len(rx.requests) == 2)
    moved, renamed = sorted((json.loads(got.body) for got in rx.requests), key=lambda b: b["id"])
    assert moved["data"]["session"]["starts_at"].endswith("+09:00")
    assert moved["data"]["session"]["name"] != "Renamed"
    assert moved["data"]["session"]["version"] == moved["data"]["version"]
    assert renamed["data"]["session"]["version"] == moved["data"]["version"] + 1


def test_500_twice_then_200_is_three_attempts_with_growing_delays(hooks, event):
    session = f.scheduled(event=event)
    with receiver([500, 500, 200]) as rx:
        subscribe(event, rx.url)
        rename(session, "Retried")
        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).exists())

        first, second, third = rx.wait_for(3)
    assert first.body == second.body == third.body
    assert [got.headers["X-Webhook-Attempt"] for got in rx.requests] == ["1", "2", "3"]
    assert len({got.headers["X-Webhook-Id"] for got in rx.requests}) == 1
    gap_1, gap_2 = second.at - first.at, third.at - second.at
    assert gap_1 >= 0.3
    assert gap_2 >= 0.9
    assert gap_2 > gap_1
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempt_count == 3
    log = [(a.number, a.status_code, a.error) for a in delivery.attempts.order_by("number")]
    assert log == [(1, 500, "HTTP 500"), (2, 500, "HTTP 500"), (3, 200, "")]
    subscription = delivery.subscription
    subscription.refresh_from_db()
    assert subscription.failing_since is None and subscription.active


def test_a_redirect_is_not_followed(hooks, event):
    hooks["RETRY_FOR_SECONDS"] = 0  # one attempt, then given up
    session = f.scheduled(event=event)
    with receiver([302, 200], headers={"Location": "/elsewhere"}) as rx:
        subscribe(event, rx.url)
        rename(session, "Moved")
        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.FAILED).exists())

        assert [got.path for got in rx.requests] == ["/hook"]
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302
    assert attempt.error == "Redirect to '/elsewhere' not followed."


def test_no_answer_in_time_is_a_failed_attempt(hooks, event):
    hooks["TIMEOUT_SECONDS"] = 0.5
    hooks["RETRY_FOR_SECONDS"] = 0
    session = f.scheduled(event=event)
    with receiver(["hang"]) as rx:
        subscribe(event, rx.url)
        rename(session, "Slow")
        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.FAILED).exists())
        rx.release.set()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error == "No answer within 0.5 s."
    assert 400 <= attempt.duration_ms < 2000


def test_a_day_of_failures_switches_the_subscription_off(hooks, event):
    session = f.scheduled(event=event)
    with receiver([503]) as rx:
        subscription, _ = subscribe(event, rx.url)
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            failing_since=timezone.now() - dt.timedelta(hours=24, minutes=1)
        )
        rename(session, "One")
        rename(session, "Two")
        drain(lambda: not WebhookSubscription.objects.get(pk=subscription.pk).active)
        run_worker_once()

        assert len(rx.requests) == 1  # the second delivery is not sent to a switched-off hook
    subscription.refresh_from_db()
    assert subscription.disabled_at is not None
    assert subscription.disabled_reason.startswith("Switched off: every delivery failed since ")
    assert subscription.disabled_reason.endswith("Last error: HTTP 503")
    assert list(WebhookDelivery.objects.values_list("state", flat=True)) == ["failed", "failed"]

    # Switched on again: a clean slate, and new changes flow.
    subscriptions.webhook_update(
        webhook_id=subscription.pk,
        organisation_id=event.organisation_id,
        data={"active": True},
    )
    subscription.refresh_from_db()
    assert (subscription.active, subscription.failing_since, subscription.disabled_reason) == (
        True,
        None,
        "",
    )


def test_a_delivery_is_given_up_after_the_retry_window(hooks, event):
    hooks["RETRY_FOR_SECONDS"] = 3600
    session = f.scheduled(event=event)
    with receiver([500]) as rx:
        subscribe(event, rx.url)
        rename(session, "Late")
        outbox.fan_out()
        WebhookDelivery.objects.update(created_at=timezone.now() - dt.timedelta(hours=2))
        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.FAILED).exists())

        assert len(rx.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.next_attempt_at is None
    assert delivery.subscription.active  # failing for minutes, not a day


def test_event_types_filter_what_a_subscription_gets(hooks, event):
    session = f.live(event=event, capacity=10)
    registrant = f.registrant(event=event)
    with receiver() as selections, receiver() as renames:
        subscribe(event, selections.url, ["selection.*"])
        subscribe(event, renames.url, ["session.updated"])
        rename(session, "Renamed")
        services.selection_add(
            registrant_id=registrant.pk, session_id=session.pk, actor=services.SYSTEM
        )
        drain(lambda: len(selections.requests) == 1 and len(renames.requests) == 1)
        run_worker_once()

        assert len(selections.requests) == 1 and len(renames.requests) == 1
    selected = json.loads(selections.requests[0].body)
    assert selected["type"] == "selection.created"
    assert selected["data"]["registrants"] == [
        {"registrant_id": registrant.pk, "old": None, "new": "selected"}
    ]
    assert selected["data"]["seats_taken"] == 1
    assert json.loads(renames.requests[0].body)["type"] == "session.updated"


def test_only_the_organisations_changes_from_the_subscription_on(hooks, event):
    older = f.scheduled(event=event)
    rename(older, "Before the subscription")
    elsewhere = f.scheduled(event=f.event())
    with receiver() as rx:
        subscribe(event, rx.url)
        rename(elsewhere, "Another organisation")
        rename(older, "After the subscription")
        drain(lambda: len(rx.requests) >= 1)
        run_worker_once()

        assert len(rx.requests) == 1
    assert json.loads(rx.requests[0].body)["data"]["changes"]["name"]["new"] == (
        "After the subscription"
    )


def test_the_secret_is_stored_encrypted_and_survives_a_key_rotation(hooks, event, settings):
    _, secret = subscribe(event, "https://hooks.example.com/in")

    stored = WebhookSubscription.objects.values_list("sealed_secret", flat=True).get()
    assert secret.startswith("whsec_") and len(secret) > 40
    assert secret not in stored
    assert sealing.unseal(stored) == secret

    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-key-" + "k" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert sealing.unseal(stored) == secret
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(sealing.UnsealError):
        sealing.unseal(stored)


# Sealed by the release before the move by concern (sessions_app/sealing.py), under
# SECRET_KEY "k" * 50: the key derivation must not change, or stored secrets are lost.
SEALED_BEFORE = (
    "gAAAAABrEtM6YbMMQfB16LN8DuXGXKdwTtqDnsuoKPgJbl7O9Be2bKIa5hGcdpbXzeFKV15DHARBkoQDxMISw5Fz"
    "VcwPGtzvV7IQEwzQAIrOTTrvVea1sUg="
)


def test_a_secret_sealed_by_an_earlier_release_still_opens(settings):
    settings.SECRET_KEY = "k" * 50
    settings.SECRET_KEY_FALLBACKS = []
    assert sealing.unseal(SEALED_BEFORE) == "whsec_sealed-before-the-move"


def test_an_attempt_lost_with_its_worker_is_logged_and_made_again(hooks, event):
    session = f.scheduled(event=event)
    with receiver() as rx:
        subscribe(event, rx.url)
        rename(session, "Lost once")
        outbox.fan_out()
        delivery = WebhookDelivery.objects.get()
        # A worker began the attempt (lease taken, attempt logged) and died before the POST.
        _begin(delivery.pk)
        WebhookDelivery.objects.update(locked_until=timezone.now() - dt.timedelta(seconds=1))

        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).exists())

        assert len(rx.requests) == 1
    lost, made = WebhookAttempt.objects.order_by("number")
    assert (lost.number, lost.status_code) == (1, None)
    assert lost.error == "The worker stopped during this attempt; it is made again."
    assert (made.number, made.status_code) == (2, 200)


def test_a_failed_delivery_can_be_sent_again(hooks, event):
    hooks["RETRY_FOR_SECONDS"] = 0
    session = f.scheduled(event=event)
    with receiver([500, 200]) as rx:
        subscribe(event, rx.url)
        rename(session, "Again")
        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.FAILED).exists())
        delivery = WebhookDelivery.objects.get()

        assert delivery_retry(delivery_id=delivery.pk) is True
        assert delivery_retry(delivery_id=delivery.pk) is False  # pending now
        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).exists())

        assert len(rx.requests) == 2


# --- The SSRF guard ---------------------------------------------------------------------


@pytest.fixture
def production_guard(hooks):
    hooks["ALLOW_PRIVATE_ADDRESSES"] = False
    return hooks


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "http://hooks.example.com/in",
        "https://user:pw@hooks.example.com/in",
        "ftp://hooks.example.com/in",
        "https://127.000.000.001:8443/hook",
        "https://0177.0.0.1/hook",
        "https://0x7f.0.0.1/hook",
        "https://2130706433/hook",
        "https://127.1/hook",
        "https://hooks.example.com:99999/in",
        "https://hooks.example.com:0/in",
    ],
    ids=[
        "loopback-http",
        "loopback-https",
        "private-10",
        "private-192",
        "metadata",
        "ipv6-loopback",
        "mapped-loopback",
        "localhost",
        "plain-http",
        "userinfo",
        "ftp",
        "leading-zeros",
        "octal",
        "hex",
        "bare-integer",
        "short-form",
        "port-too-big",
        "port-zero",
    ],
)
def test_guard_refuses_inside_addresses_and_plain_http(production_guard, event, url):
    with pytest.raises(ValidationError) as refused:
        subscribe(event, url)

    assert list(refused.value.error_dict) == ["url"]
    assert WebhookSubscription.objects.count() == 0


def test_guard_refuses_a_name_that_resolves_inside_at_connect_time(hooks, event, settings):
    session = f.scheduled(event=event)
    hooks["RETRY_FOR_SECONDS"] = 0
    with receiver() as rx:
        port = rx.url.split(":")[2].split("/")[0]
        # Accepted while private addresses are allowed, then the guard is switched on: the
        # address the name resolves to is judged when the worker connects.
        subscribe(event, f"http://localhost:{port}/hook")
        hooks["ALLOW_PRIVATE_ADDRESSES"] = False
        rename(session, "Guarded")
        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.FAILED).exists())

        assert rx.requests == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error == transport.REFUSED


def test_a_refused_address_is_never_connected_to_open_port_or_closed(hooks):
    """The guard checks the resolved addresses before it connects: a listening port gets no
    connection, and an open port and a closed one fail with the same words (no port scan
    through the delivery log)."""
    hooks["ALLOW_PRIVATE_ADDRESSES"] = False
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    open_port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        answers = [
            transport.post(f"http://{host}:{port}/hook", b"{}", {}, timeout=1.0)
            for host in ("127.0.0.1", "localhost", "127.000.000.001")
            for port in (open_port, closed_port)
        ]
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()
    assert {(a.status_code, a.error) for a in answers} == {(None, transport.REFUSED)}


def test_a_stored_url_that_cannot_be_sent_to_fails_its_delivery_once(hooks, event):
    """A subscription stored before ports were checked: the attempt is recorded as failed
    with its reason and given up after the retry window; nothing loops."""
    hooks["RETRY_FOR_SECONDS"] = 0
    session = f.scheduled(event=event)
    subscription, _secret = subscribe(event, "https://hooks.example.com/in")
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        url="https://hooks.example.com:99999/in"
    )
    rename(session, "Port out of range")
    drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.FAILED).exists())

    attempt = WebhookAttempt.objects.get()
    assert attempt.finished_at is not None
    assert attempt.error.startswith("Not a URL a webhook can be sent to")
    assert WebhookDelivery.objects.get().locked_until is None


def test_an_allowed_internal_network_may_receive(production_guard, event):
    production_guard["ALLOWED_NETWORKS"] = ["127.0.0.0/8"]
    session = f.scheduled(event=event)
    with receiver() as rx:
        subscribe(event, rx.url)
        rename(session, "Inside, allowed")
        drain(lambda: len(rx.requests) == 1)


def test_the_cursor_skips_what_no_subscription_is_owed_and_reads_in_batches(hooks, event):
    session = f.scheduled(event=event)
    for n in range(6):
        rename(session, f"Before {n}")  # history no subscription is owed
    with receiver() as rx:
        subscribe(event, rx.url)
        latest = SessionChange.objects.order_by("-id").first().pk

        assert not outbox.fan_out()  # nothing owed: one look, the cursor jumps
        assert OutboxCursor.objects.get().last_id == latest

        for n in range(5):
            rename(session, f"After {n}")
        first = outbox.fan_out(batch=2)
        assert (first.made, first.more) == (2, True)
        rest = []
        while result := outbox.fan_out(batch=2):
            rest.append(result.made)
        assert sum(rest) == 3
        assert WebhookDelivery.objects.count() == 5


def test_a_subscription_switched_on_again_gets_the_changes_from_then_on(hooks, event):
    session = f.scheduled(event=event)
    with receiver() as rx:
        subscription, _ = subscribe(event, rx.url)
        organisation_id = event.organisation_id
        subscriptions.webhook_update(
            webhook_id=subscription.pk, organisation_id=organisation_id, data={"active": False}
        )
        rename(session, "While off")
        subscriptions.webhook_update(
            webhook_id=subscription.pk, organisation_id=organisation_id, data={"active": True}
        )
        rename(session, "Back on")
        drain(lambda: len(rx.requests) == 1)
        run_worker_once()

        assert len(rx.requests) == 1
    assert json.loads(rx.requests[0].body)["data"]["changes"]["name"]["new"] == "Back on"


def test_a_delivery_whose_queued_attempt_was_lost_is_queued_again(hooks, event):
    session = f.scheduled(event=event)
    with receiver() as rx:
        subscribe(event, rx.url)
        rename(session, "Orphaned")
        outbox.fan_out()
        DBTaskResult.objects.all().delete()  # the queue lost its task
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(minutes=11))

        drain(lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).exists())

        assert len(rx.requests) == 1


def test_prune_webhook_deliveries_keeps_the_recent_and_the_pending(hooks, event):
    from io import StringIO

    session = f.scheduled(event=event)
    subscribe(event, "https://hooks.example.com/in")
    for n in range(3):
        rename(session, f"R{n}")
    outbox.fan_out()
    old, pending_old, recent = WebhookDelivery.objects.order_by("id")
    long_ago = timezone.now() - dt.timedelta(days=40)
    WebhookDelivery.objects.filter(pk=old.pk).update(state="delivered", created_at=long_ago)
    WebhookDelivery.objects.filter(pk=pending_old.pk).update(created_at=long_ago)
    WebhookDelivery.objects.filter(pk=recent.pk).update(state="failed")

    out = StringIO()
    call_command("prune_webhook_deliveries", "--days", "30", stdout=out)

    assert sorted(WebhookDelivery.objects.values_list("pk", flat=True)) == [
        pending_old.pk,
        recent.pk,
    ]
    assert out.getvalue().strip() == "Deleted 1 webhook delivery older than 30 days."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_change_committed_after_the_subscription_is_delivered(hooks):
    """A slow write's history row has a lower id than a quicker one committed before the
    subscription: it commits after the subscription, so the subscription gets it, even
    when the outbox had moved past the quicker one with nobody subscribed."""
    event = f.event()
    slow, quick = f.scheduled(event=event), f.scheduled(event=event, start="14:00", end="15:00")
    rename(quick, "Long ago")  # a database in use has history older than the grace
    SessionChange.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))

    with receiver() as rx:
        with committed_after(lambda: rename(slow, "Slow")):
            rename(quick, "Quick")
            assert not outbox.fan_out()  # nobody subscribed yet
            subscribe(event, rx.url)
        drain(lambda: any(b"Slow" in request.body for request in rx.requests))
        run_worker_once()

    names = [json.loads(r.body)["data"]["changes"]["name"]["new"] for r in rx.requests]
    assert names.count("Slow") == 1
    assert "Long ago" not in names
