"""Benchmarks: print how fast the main paths are, on a throwaway test database.

    .venv/bin/python scripts/bench.py [--sessions 2000] [--rounds 200]

Uses SQLite unless DATABASE_URL is set (e.g. the cluster from scripts/pg_cluster.py:
``python scripts/pg_cluster.py -- .venv/bin/python scripts/bench.py``). Figures, not
pass/fail: compare them between changes on the same machine.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def timed(fn, rounds: int) -> list[float]:
    samples = []
    for i in range(rounds):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(
        f"{label:<44} n={len(samples):<5} median={statistics.median(samples):7.2f} ms"
        f"  p95={p95:7.2f} ms  {1000 / statistics.mean(samples):8.1f}/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000, help="sessions in the event")
    parser.add_argument("--rounds", type=int, default=200, help="timed calls per figure")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args) -> None:
    from django.test import Client

    from sessions_app import services
    from sessions_app.models import ApiClient, Session
    from tests import factories as f

    event = f.event(start_date=dt.date(2030, 6, 10), end_date=dt.date(2030, 6, 12))
    rooms = [f.location(event=event) for _ in range(20)]
    tracks = [f.track(event=event) for _ in range(5)]
    per_room_day = -(-args.sessions // (len(rooms) * 3))  # ceil: every session its own slot
    sessions = []
    for i in range(args.sessions):
        room = rooms[i % len(rooms)]
        day, slot = divmod((i // len(rooms)) % (per_room_day * 3), per_room_day)
        minutes = 8 * 60 + slot * 15
        start = dt.time(minutes // 60 % 24, minutes % 60)
        end_minutes = minutes + 10
        sessions.append(
            Session(
                event=event,
                name=f"Session {i}",
                location=room,
                track=tracks[i % 5],
                date=event.start_date + dt.timedelta(days=day % 3),
                start_time=start,
                end_time=dt.time(end_minutes // 60 % 24, end_minutes % 60),
                session_status="approved",
            )
        )
    for s in sessions:
        s.compute_instants()
    Session.objects.bulk_create(sessions, batch_size=500)
    ids = list(Session.objects.values_list("pk", flat=True))
    print(
        f"database: {os.environ.get('DATABASE_URL', 'sqlite (test)')!s:.40}  "
        f"sessions: {len(ids)}  rooms: {len(rooms)}"
    )

    report(
        "service session_update (rename)",
        timed(
            lambda i: services.session_update(
                session_id=ids[i % len(ids)], data={"name": f"Renamed {i}"}, actor=services.SYSTEM
            ),
            args.rounds,
        ),
    )
    starts = dict(Session.objects.values_list("pk", "start_time"))

    def move(i: int) -> None:
        # Stretch the session by 1-2 minutes within its free 15-minute slot: a real clash check.
        pk = ids[i % len(ids)]
        start = dt.datetime.combine(event.start_date, starts[pk])
        end = (start + dt.timedelta(minutes=11 + i % 2)).time()
        services.session_update(session_id=pk, data={"end_time": end}, actor=services.SYSTEM)

    report("service session_update (move, clash check)", timed(move, args.rounds))

    client_record = ApiClient(
        organisation=event.organisation,
        name="bench",
        client_type=ApiClient.CLIENT_CONFIDENTIAL,
        authorization_grant_type=ApiClient.GRANT_CLIENT_CREDENTIALS,
        client_secret="bench-secret",
        hash_client_secret=True,
    )
    client_record.save()
    http = Client()
    basic = base64.b64encode(f"{client_record.client_id}:bench-secret".encode()).decode()
    token_response = http.post(
        "/oauth2/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    if token_response.status_code != 200:
        print(f"API figures skipped: token endpoint answered {token_response.status_code}")
        return
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token_response.json()['access_token']}"}
    from django.test import override_settings

    with override_settings(
        API_RATE_LIMIT={"REQUESTS": 10**9, "WINDOW_SECONDS": 600, "LIST_COST": 10}
    ):
        report(
            "API PATCH /sessions/{id}",
            timed(
                lambda i: http.patch(
                    f"/api/v1/sessions/{ids[i % len(ids)]}",
                    data=f'{{"description": "bench {i}"}}',
                    content_type="application/json",
                    **bearer,
                ),
                args.rounds,
            ),
        )
        report(
            "API GET /sessions?per-page=200",
            timed(
                lambda i: http.get(f"/api/v1/sessions?per-page=200&page={i % 5 + 1}", **bearer),
                max(10, args.rounds // 10),
            ),
        )
        report(
            "API GET /sessions/{id}",
            timed(
                lambda i: http.get(f"/api/v1/sessions/{ids[i % len(ids)]}", **bearer), args.rounds
            ),
        )


if __name__ == "__main__":
    main()
