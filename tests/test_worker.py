"""The worker as it runs in production: ``manage.py run_worker`` in a process of its own,
on the test run's PostgreSQL, delivering to a receiver on loopback, killed mid-delivery.

At least once: a worker killed with SIGKILL while its POST is in flight loses nothing; the
next worker takes the attempt for lost when its lease runs out and makes it again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from sessions_app import services
from sessions_app.enums import ImportState
from sessions_app.management.commands.run_worker import HOUSEKEEPING_CLAIM
from sessions_app.models import (
    DeliveryState,
    ImportJob,
    Registrant,
    SessionChange,
    WebhookAttempt,
    WebhookDelivery,
)
from sessions_app.webhooks import subscriptions
from sessions_app.webhooks.delivery import signature
from tests import factories as f
from tests.receiver import receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent


def _test_database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def start_worker(tmp_path, name: str, **env: str) -> subprocess.Popen:
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--interval", "0.2", "--worker-id", name],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _test_database_url(),
            "DJANGO_LOG_LEVEL": "INFO",
            **env,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until(check, timeout: float = 30.0, what: str = "", log: Path | None = None) -> None:
    """Poll ``check`` until it holds; on timeout, fail with what the worker's ``log`` says."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            said = log.read_text() if log is not None and log.exists() else "(no log)"
            pytest.fail(f"timed out waiting for {what}; the worker's log:\n{said}")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_a_worker_killed_mid_delivery_loses_nothing(tmp_path):
    event = f.event()
    session = f.scheduled(event=event, name="Before")
    settings_env = {"DJANGO_WEBHOOK_TIMEOUT": "30", "DJANGO_WEBHOOK_LEASE": "3"}
    with receiver(["hang", 200]) as rx:
        _, secret = subscriptions.webhook_create(
            organisation_id=event.organisation_id, data={"url": rx.url, "events": ["*"]}
        )
        first = start_worker(tmp_path, "first", **settings_env)
        second = None
        try:
            services.session_update(
                session_id=session.pk, data={"name": "After"}, actor=services.SYSTEM
            )
            assert rx.got.wait(30), (tmp_path / "first.log").read_text()
            # The POST is in flight, the receiver holds it: kill the worker outright.
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)

            delivery = WebhookDelivery.objects.get()
            assert delivery.state == DeliveryState.PENDING
            assert delivery.locked_until is not None
            (started,) = WebhookAttempt.objects.all()
            assert started.finished_at is None  # it never came back

            second = start_worker(tmp_path, "second", **settings_env)
            wait_until(
                lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).exists(),
                what="the second worker's delivery",
            )
            assert stop(second) == 0, (tmp_path / "second.log").read_text()
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.kill()

        killed, redone = rx.wait_for(2)
    change = SessionChange.objects.get(session_id=session.pk, action="session.update")
    assert killed.body == redone.body
    assert redone.headers["X-Webhook-Signature"] == signature(secret, redone.body)
    assert killed.headers["X-Webhook-Id"] == redone.headers["X-Webhook-Id"] == str(change.pk)
    assert json.loads(redone.body)["data"]["changes"] == {"name": {"old": "Before", "new": "After"}}
    lost, made = WebhookAttempt.objects.order_by("number")
    assert (lost.number, lost.status_code, lost.finished_at is not None) == (1, None, True)
    assert lost.error == "The worker stopped during this attempt; it is made again."
    assert (made.number, made.status_code) == (2, 200)
    assert len(rx.requests) == 2


def test_two_workers_share_the_work_and_deliver_each_change_once(tmp_path):
    event = f.event()
    sessions = [
        f.scheduled(event=event, start=f"{10 + n}:00", end=f"{10 + n}:30") for n in range(4)
    ]
    with receiver([200]) as rx:
        subscriptions.webhook_create(
            organisation_id=event.organisation_id, data={"url": rx.url, "events": ["*"]}
        )
        workers = [start_worker(tmp_path, f"w{n}") for n in range(2)]
        try:
            for round_ in range(5):
                for session in sessions:
                    services.session_update(
                        session_id=session.pk,
                        data={"name": f"{session.pk} round {round_}"},
                        actor=services.SYSTEM,
                    )
            wait_until(
                lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count() == 20,
                what="20 deliveries",
            )
            time.sleep(1)  # anything extra would arrive now
        finally:
            for worker in workers:
                assert stop(worker) == 0
        ids = [got.headers["X-Webhook-Id"] for got in rx.requests]
    assert len(ids) == 20
    assert len(set(ids)) == 20
    assert WebhookDelivery.objects.count() == 20


def test_the_worker_runs_an_uploaded_import(tmp_path, client):
    """An organiser's CSV upload, through the admin, imported by ``run_worker``."""
    event = f.event()
    client.force_login(f.user(username="root", is_superuser=True))
    people = "first_name,last_name,email\n" + "".join(
        f"P{n},X,p{n}@example.org\n" for n in range(60)
    )
    response = client.post(
        "/admin/sessions_app/registrant/import/",
        {"event": event.pk, "file": SimpleUploadedFile("people.csv", people.encode())},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    worker = start_worker(tmp_path, "importer")
    try:
        wait_until(
            lambda: ImportJob.objects.filter(pk=job.pk, state=ImportState.DONE).exists(),
            what="the import",
        )
        assert stop(worker) == 0, (tmp_path / "importer.log").read_text()
    finally:
        if worker.poll() is None:
            worker.kill()

    assert Registrant.objects.filter(event=event).count() == 60
    page = client.get(response["Location"]).content.decode()
    assert "<strong>60</strong> of 60 rows registered" in page


def _kill(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGKILL)


def _stop_at_once(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)  # after the import, it would stop
    time.sleep(0.2)
    worker.send_signal(signal.SIGTERM)  # now, at once


# Enough rows that the first worker is still at it when it is ended (a few seconds of work).
ROWS = 1000


@pytest.mark.parametrize(
    ("end_worker", "left"),
    [
        # SIGKILL: nobody tells the job; the next worker's sweep finds it silent.
        (_kill, {ImportState.RUNNING}),
        # Two SIGTERMs: the worker queues it again as it stops (or, if the stop broke its
        # database connection mid-query, leaves it to the sweep).
        (_stop_at_once, {ImportState.QUEUED, ImportState.RUNNING}),
    ],
    ids=["killed", "stopped at once"],
)
def test_an_import_broken_off_mid_file_is_finished_by_the_next_worker(
    tmp_path, client, end_worker, left
):
    """The next worker goes on with the first row the first one had not written: every
    row is imported exactly once."""
    event = f.event()
    client.force_login(f.user(username="root", is_superuser=True))
    people = "first_name,last_name,email\n" + "".join(
        f"P{n},X,p{n}@example.org\n" for n in range(ROWS)
    )
    client.post(
        "/admin/sessions_app/registrant/import/",
        {"event": event.pk, "file": SimpleUploadedFile("people.csv", people.encode())},
    )
    job = ImportJob.objects.get()
    # Batches of 2 rows for the first worker, so that it is still at it when it is ended; the
    # second goes on in batches of the default size.
    first = start_worker(tmp_path, "first", DJANGO_IMPORT_BATCH_ROWS="2")
    second = None
    try:
        wait_until(
            lambda: ImportJob.objects.filter(pk=job.pk, processed__gt=0).exists(),
            what="the import's first progress",
        )
        end_worker(first)
        first.wait(timeout=20)
        job.refresh_from_db()
        assert job.state in left, job.error
        assert 0 < Registrant.objects.filter(event=event).count() < ROWS

        # Silent for 3 s: taken for lost (the second worker's own run beats every 0.75 s).
        quick = {"DJANGO_IMPORT_ABANDONED_AFTER": "3", "DJANGO_IMPORT_SWEEP": "0.2"}
        second = start_worker(tmp_path, "second", **quick)
        wait_until(
            lambda: ImportJob.objects.filter(pk=job.pk, state=ImportState.DONE).exists(),
            timeout=120,
            what="the second worker to finish the import",
            log=tmp_path / "second.log",
        )
        assert stop(second) == 0, (tmp_path / "second.log").read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()

    job.refresh_from_db()
    assert (job.runs, job.processed, job.error) == (2, ROWS, "")
    assert job.report == {"created": ROWS, "refused": []}  # no row twice: none refused
    emails = Registrant.objects.filter(event=event).values_list("email", flat=True)
    assert sorted(emails) == sorted(f"p{n}@example.org" for n in range(ROWS))


def test_the_worker_keeps_house_when_it_starts(tmp_path):
    """Housekeeping in the worker processes: the old delivery log goes, the recent stays, and
    of two workers started together one keeps house."""
    event = f.event()
    subscription, _ = subscriptions.webhook_create(
        organisation_id=event.organisation_id,
        data={"url": "https://hooks.example.com/in", "events": ["*"]},
    )
    now = timezone.now()
    _, recent = (
        WebhookDelivery.objects.create(
            subscription=subscription,
            change_id=n,
            event_type="session.update",
            body="{}",
            state=DeliveryState.DELIVERED,
            created_at=created_at,
        )
        for n, created_at in enumerate([now - dt.timedelta(days=31), now])
    )
    # The pool's claim (run_worker.HOUSEKEEPING_CLAIM) is in the cache, which a flush leaves.
    cache.delete(HOUSEKEEPING_CLAIM)
    logs = [tmp_path / f"{name}.log" for name in ("keeper", "other")]
    workers = [start_worker(tmp_path, log.stem, DJANGO_HOUSEKEEPING_EVERY="3600") for log in logs]
    kept, left = "housekeeping: deleted", "housekeeping done by another worker"

    def outcome(log) -> str | None:
        text = log.read_text()
        return "kept" if kept in text else "left" if left in text else None

    try:
        wait_until(lambda: None not in map(outcome, logs), what="the workers' housekeeping")
        for worker, log in zip(workers, logs, strict=True):
            assert stop(worker) == 0, log.read_text()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()

    assert sorted(map(outcome, logs)) == ["kept", "left"]
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [recent.pk]
