"""Housekeeping (sessions_app.ops.housekeeping): what piles up is deleted once old enough, what
is still in use is kept, and the worker does it by itself."""

from __future__ import annotations

import datetime as dt
import threading
import time
from importlib import import_module
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session as LoginSession
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from oauth2_provider.models import AccessToken

from sessions_app.enums import ImportKind, ImportState
from sessions_app.management.commands import run_worker
from sessions_app.models import (
    ApiRateCounter,
    DeliveryState,
    ExportJob,
    ImportJob,
    WebhookAttempt,
    WebhookDelivery,
)
from sessions_app.ops import housekeeping
from sessions_app.transfer.imports import run_import
from sessions_app.webhooks import subscriptions
from tests import factories as f

pytestmark = pytest.mark.django_db

LONG_AGO = dt.timedelta(days=31)


class Piles:
    """One of each thing housekeeping deletes, old enough, beside one it must keep."""

    def __init__(self):
        now = timezone.now()
        event = f.event()
        subscription, _ = subscriptions.webhook_create(
            organisation_id=event.organisation_id,
            data={"url": "https://hooks.example.com/in", "events": ["*"]},
        )

        def delivery(n, state, created_at):
            return WebhookDelivery.objects.create(
                subscription=subscription, change_id=n, event_type="session.update",
                body="{}", state=state, created_at=created_at,
            )  # fmt: skip

        self.delivered_long_ago = delivery(1, DeliveryState.DELIVERED, now - LONG_AGO)
        WebhookAttempt.objects.create(delivery=self.delivered_long_ago, number=1)
        self.failed_long_ago = delivery(2, DeliveryState.FAILED, now - LONG_AGO)
        self.pending_long_ago = delivery(3, DeliveryState.PENDING, now - LONG_AGO)
        self.delivered_lately = delivery(4, DeliveryState.DELIVERED, now)

        def job(state, finished_at):
            return ImportJob.objects.create(
                kind=ImportKind.REGISTRANTS, event=event, total=0, state=state,
                finished_at=finished_at,
            )  # fmt: skip

        self.import_long_ago = job(ImportState.DONE, now - LONG_AGO)
        self.import_lately = job(ImportState.FAILED, now)
        self.import_running = job(ImportState.RUNNING, None)

        def export(state, finished_at):
            return ExportJob.objects.create(
                created_by=f.user(), file_format="csv", total=0, state=state,
                finished_at=finished_at, content=b"id\n" if state == ImportState.DONE else None,
            )  # fmt: skip

        # Files are kept for a day (EXPORTS["KEEP_HOURS"]), whatever KEEP_DAYS says.
        self.export_yesterday = export(ImportState.DONE, now - dt.timedelta(hours=25))
        self.export_failed_yesterday = export(ImportState.FAILED, now - dt.timedelta(hours=25))
        self.export_lately = export(ImportState.DONE, now - dt.timedelta(hours=23))
        self.export_running = export(ImportState.RUNNING, None)

        def result(status, finished_at=None, started_at=None):
            pk = run_import.enqueue(0).id
            DBTaskResult.objects.filter(pk=pk).update(
                status=status, finished_at=finished_at, started_at=started_at
            )
            return pk

        self.result_long_ago = result("SUCCESSFUL", finished_at=now - LONG_AGO)
        self.result_lately = result("FAILED", finished_at=now)
        self.result_queued = result("READY")
        # Its worker was killed a month ago: it never finishes.
        self.result_stuck = result("RUNNING", started_at=now - LONG_AGO)
        self.result_running = result("RUNNING", started_at=now)

        window = settings.API_RATE_LIMIT["WINDOW_SECONDS"]
        self.counter_ended = ApiRateCounter.objects.create(
            key="ip:192.0.2.1", window_start=int(time.time()) - 2 * window - 100, count=5
        )
        self.counter_current = ApiRateCounter.objects.create(
            key="ip:192.0.2.2", window_start=int(time.time()) - 10, count=5
        )

        client = f.api_client(organisation=event.organisation)
        self.token_expired = AccessToken.objects.create(
            application=client, token="expired-token", expires=now - dt.timedelta(minutes=1)
        )
        self.token_valid = AccessToken.objects.create(
            application=client, token="valid-token", expires=now + dt.timedelta(minutes=29)
        )

        store = import_module(settings.SESSION_ENGINE).SessionStore
        expired, valid = store(), store()
        expired.set_expiry(-60)
        expired.create()
        valid.create()
        self.login_expired, self.login_valid = expired.session_key, valid.session_key


def test_housekeeping_deletes_what_is_old_enough_and_keeps_the_rest():
    piles = Piles()

    deleted = housekeeping.run()

    assert deleted == {
        "webhook deliveries": 2,
        "imports": 1,
        "exports": 2,
        "task results": 2,
        "rate counters": 1,
        "sign-in records": 0,
        "personal data requests": 0,
        "events erased": 0,  # no organisation has a retention here
        "registrants erased": 0,
    }
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {
        piles.pending_long_ago.pk,  # still to be made, however old
        piles.delivered_lately.pk,
    }
    assert not WebhookAttempt.objects.exists()  # went with its delivery
    assert set(ImportJob.objects.values_list("pk", flat=True)) == {
        piles.import_lately.pk,
        piles.import_running.pk,
    }
    assert set(ExportJob.objects.values_list("pk", flat=True)) == {
        piles.export_lately.pk,
        piles.export_running.pk,
    }
    assert {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)} == {
        piles.result_lately,
        piles.result_queued,
        piles.result_running,
    }
    assert list(ApiRateCounter.objects.values_list("pk", flat=True)) == [piles.counter_current.pk]
    assert list(AccessToken.objects.values_list("pk", flat=True)) == [piles.token_valid.pk]
    assert list(LoginSession.objects.values_list("session_key", flat=True)) == [piles.login_valid]


def test_housekeeping_keeps_the_days_it_is_told_to(settings):
    piles = Piles()
    settings.HOUSEKEEPING = {**settings.HOUSEKEEPING, "KEEP_DAYS": 60}

    deleted = housekeeping.run()

    assert deleted["webhook deliveries"] == deleted["imports"] == deleted["task results"] == 0
    assert WebhookDelivery.objects.filter(pk=piles.delivered_long_ago.pk).exists()
    assert housekeeping.run(keep_days=30)["webhook deliveries"] == 2


def test_deletes_go_in_batches_until_none_is_left(monkeypatch):
    monkeypatch.setattr(housekeeping, "BATCH_SIZE", 2)
    keys = [f"ip:192.0.2.{n}" for n in range(5)]
    ApiRateCounter.objects.bulk_create(
        ApiRateCounter(key=key, window_start=0, count=1) for key in keys
    )
    ApiRateCounter.objects.create(key="ip:198.51.100.1", window_start=int(time.time()), count=1)

    assert housekeeping.delete_in_batches(housekeeping.stale_rate_counters(time.time())) == 5
    assert list(ApiRateCounter.objects.values_list("key", flat=True)) == ["ip:198.51.100.1"]


def test_the_housekeeping_command_says_what_it_deleted():
    Piles()
    out = StringIO()

    call_command("housekeeping", "--days", "30", stdout=out)

    assert out.getvalue().strip() == (
        "Deleted (older than 30 days, exports a day, sign-ins 90 days, personal data requests "
        "1095 days, or ended): webhook deliveries 2, imports 1, exports 2, task results 2, "
        "rate counters 1, sign-in records 0, personal data requests 0. Erased past their "
        "organisation's retention: 0 event(s), 0 registrant(s). Expired tokens and logins "
        "cleared."
    )
    assert not AccessToken.objects.filter(token="expired-token").exists()
    with pytest.raises(CommandError, match="--days"):
        call_command("housekeeping", "--days", "0")


@pytest.fixture
def keep_connections(monkeypatch):
    """The loop closes its thread's connections around each run; here that thread is the
    test's, whose connection holds the test's transaction."""
    monkeypatch.setattr(run_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(run_worker.connections, "close_all", lambda: None)


class Stop:
    """The worker's stop event, scripted: it records each wait and is set after ``runs``.

    With a ``period``, a wait of that long lets the pool's housekeeping claim lapse, as time
    would; a shorter one (the retry after a failure) does not.
    """

    def __init__(self, runs: int, period: float | None = None):
        self.runs, self.period, self.waits = runs, period, []

    def is_set(self) -> bool:
        return len(self.waits) >= self.runs

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.period is not None and seconds >= self.period:
            cache.delete(run_worker.HOUSEKEEPING_CLAIM)


def test_the_worker_keeps_house_every_period_and_soon_again_after_a_failure(
    monkeypatch, keep_connections
):
    outcomes = [DatabaseError("the server closed the connection"), None, None]

    def run():
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return {}

    monkeypatch.setattr(run_worker.housekeeping, "run", run)
    stop = Stop(runs=3, period=86400.0)

    run_worker._housekeeping_loop(stop, 86400.0)

    assert stop.waits == [300.0, 86400.0, 86400.0]
    assert outcomes == []  # the failed run gave its claim up, so the next try ran


def test_one_worker_of_the_pool_keeps_house_each_period(monkeypatch, keep_connections):
    runs = []
    monkeypatch.setattr(run_worker.housekeeping, "run", lambda: runs.append("ran"))
    first, second = Stop(runs=1), Stop(runs=1)

    run_worker._housekeeping_loop(first, 3600.0)
    run_worker._housekeeping_loop(second, 3600.0)  # another worker, in the same period

    assert runs == ["ran"]
    assert second.waits == [3600.0]  # it looks again a period later
    cache.delete(run_worker.HOUSEKEEPING_CLAIM)  # the period over: the claim has lapsed
    run_worker._housekeeping_loop(Stop(runs=1), 3600.0)
    assert runs == ["ran", "ran"]


def test_the_worker_starts_its_housekeeping_only_when_it_has_a_period(monkeypatch, settings):
    started = []
    ran = threading.Event()

    def housekeeping_loop(stop, every):
        started.append(every)
        ran.set()

    monkeypatch.setattr(run_worker, "_outbox_loop", lambda stop, poll: None)
    monkeypatch.setattr(run_worker, "_housekeeping_loop", housekeeping_loop)

    class Finished:
        running = False

        def __init__(self, **kwargs):
            pass

        def configure_signals(self):
            pass

        def run(self):
            pass

    monkeypatch.setattr(run_worker, "Worker", Finished)
    for every in (0.0, 3600.0):
        settings.HOUSEKEEPING = {**settings.HOUSEKEEPING, "EVERY_SECONDS": every}
        out = StringIO()
        call_command("run_worker", stdout=out)
        kept = "every 3600 s" if every else "off"
        assert f"housekeeping {kept}" in out.getvalue()

    assert ran.wait(10)  # in the worker's own thread
    assert started == [3600.0]
