"""Bulk sessions for scale tests: ``seed_demo --sessions N``.

Spreads N sessions over ten load events of the demo organisation, each session in a slot
of its own (a room, a day and an hour), so they are valid and never clash by construction.
Days fill one after the other, a full day being ten rooms from 08:00 to 18:00, so a day
looks the same at 1,000 sessions as at 100,000 (the schedule grid of a day is the same
page); what grows is the number of days and events. The PostgreSQL exclusion constraint
would refuse any that clashed. Written in
bulk (one ``session.create`` history entry each, as the services write) because a service
call per row would take minutes for 100,000 rows: PostgreSQL's COPY there, ``bulk_create``
elsewhere. Running it again adds N more in the next free slots.

On PostgreSQL the search's trigram index takes the new rows in one merge at the end
(``_search_index_merged_at_end``): added one by one, as ``fastupdate = off`` has it, they
cost the database more than everything else the load writes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from sessions_app.enums import HistoryAction, SessionStatus
from sessions_app.models import Event, Location, Organisation, Session, SessionChange, Track
from sessions_app.services import history

EVENTS = 10
ROOMS = 10
TRACKS = 5
DAYS = 150  # a long season, so that ten events can hold 150,000 sessions
FIRST_SLOT = dt.time(8, 0)
SLOT_MINUTES = 60  # back to back: half-open intervals do not clash
SLOTS_PER_DAY = 10  # 08:00 to 18:00
SESSIONS_PER_DAY = ROOMS * SLOTS_PER_DAY
SLOTS_PER_EVENT = DAYS * SESSIONS_PER_DAY
# Mostly sessions that hold their room, as in a planned event.
STATUSES = [
    SessionStatus.APPROVED,
    SessionStatus.LIVE,
    SessionStatus.APPROVED,
    SessionStatus.SUBMITTED,
    SessionStatus.CONVERTED,
    SessionStatus.LIVE,
    SessionStatus.REJECTED,
]
# About a hundred topics, so that a word search finds a share of sessions a real
# programme would (each word is in about 2%), not a tenth of them.
# fmt: off
WORDS = [
    "django", "postgres", "scaling", "design", "community", "security", "testing", "keynote",
    "workshop", "python", "caching", "search", "accessibility", "release", "observability",
    "migrations", "async", "forms", "admin", "deployment", "kubernetes", "docker", "linux",
    "networking", "databases", "indexing", "queries", "replication", "backups", "monitoring",
    "logging", "tracing", "metrics", "alerting", "incidents", "oncall", "reliability",
    "performance", "profiling", "memory", "concurrency", "threads", "queues", "workers",
    "scheduling", "streaming", "events", "webhooks", "apis", "graphql", "rest", "authentication",
    "authorization", "oauth", "privacy", "compliance", "encryption", "secrets", "payments",
    "billing", "pricing", "analytics", "dashboards", "reports", "exports", "imports",
    "translations", "localisation", "timezones", "calendars", "mobile", "tablets", "browsers",
    "javascript", "typescript", "css", "layouts", "typography", "colour", "images", "video",
    "audio", "captions", "mentoring", "hiring", "careers", "leadership", "management",
    "planning", "roadmaps", "documentation", "tutorials", "onboarding", "support", "feedback",
    "surveys", "research", "ethics", "sustainability", "energy", "hardware", "robotics",
    "sensors", "maps",
]
# fmt: on
BATCH = 5000
# The trigram index of selectors.SearchedText (migration 0018).
SEARCH_INDEX = "session_search_text_trgm"


def _insert(model, rows: list) -> None:
    """Insert ``rows`` and set their ids: COPY on PostgreSQL, ``bulk_create`` elsewhere.

    COPY is several times faster than a bulk INSERT at this size; the ids come from the
    table's own sequence first, so that the rows can be referred to (history entries).
    """
    connection = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is read 400,000 times
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows)
        return
    table = model._meta.db_table
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
        columns = ", ".join(quote(field.column) for field in fields)
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        field.get_db_prep_save(getattr(row, field.attname), connection)
                        for field in fields
                    ]
                )


@contextlib.contextmanager
def _search_index_merged_at_end():
    """Let the trigram index collect the load's rows in its pending list, then merge them.

    The index runs with ``fastupdate = off`` (migration 0008 says why), so each row's
    hundred or so trigrams go into the index as the row is written: at 100,000 sessions
    that took PostgreSQL about 27 s, against 1 to 2 s to merge the same rows from the
    pending list in bulk. The options are set back and the list is merged before the
    load's transaction commits, so no search ever reads a pending list; a load that fails
    rolls the options back with it. Changing them locks the index until the commit, so
    requests that read sessions wait for the load.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        # The limit, in kB, is the largest PostgreSQL takes: the list is merged once.
        cursor.execute(
            f"ALTER INDEX {SEARCH_INDEX} SET (fastupdate = on, gin_pending_list_limit = 2097151)"
        )
        yield
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [SEARCH_INDEX])
        cursor.execute(f"ALTER INDEX {SEARCH_INDEX} SET (fastupdate = off)")
        cursor.execute(f"ALTER INDEX {SEARCH_INDEX} RESET (gin_pending_list_limit)")


def _events(organisation: Organisation) -> list[Event]:
    first_day = timezone.localdate() + dt.timedelta(days=90)
    events = []
    for n in range(1, EVENTS + 1):
        start = first_day + dt.timedelta(days=(n - 1) * DAYS)
        event, created = Event.objects.get_or_create(
            organisation=organisation,
            slug=f"load-{n}",
            defaults={
                "name": f"Load test event {n}",
                "timezone": "Europe/Berlin",
                "start_date": start,
                "end_date": start + dt.timedelta(days=DAYS - 1),
            },
        )
        if created:
            Location.objects.bulk_create(
                Location(event=event, name=f"Room {r + 1}") for r in range(ROOMS)
            )
            Track.objects.bulk_create(
                Track(event=event, name=f"Track {t + 1}", color=f"#{(t * 0x2F3A5B) % 0xFFFFFF:06x}")
                for t in range(TRACKS)
            )
        events.append(event)
    return events


def _topics(slot: int) -> str:
    """Two topics of WORDS for the session in ``slot`` of an event.

    The first walks the list; the second walks it too, shifted by another amount in each
    round of it (never by a whole round: the two always differ). Each word is first in one
    session of every len(WORDS) and second in one, so a word is in about 2% of an event's
    sessions at any size: a search at 1,000 sessions is a search at 100,000 made smaller.
    """
    n = len(WORDS)
    first = slot % n
    second = (first + 1 + (n // 2 + slot // n) % (n - 1)) % n
    return f"{WORDS[first]} {WORDS[second]}"


def _session(event: Event, slot: int, rooms: list[Location], tracks: list[Track]) -> Session:
    day, rest = divmod(slot, SESSIONS_PER_DAY)
    room, index = divmod(rest, SLOTS_PER_DAY)
    start = dt.datetime.combine(event.start_date, FIRST_SLOT) + dt.timedelta(
        minutes=index * SLOT_MINUTES
    )
    end = start + dt.timedelta(minutes=SLOT_MINUTES)
    words = _topics(slot)
    session = Session(
        event=event,
        name=f"Session {slot + 1} on {words}",
        description=f"A load test session about {words}.",
        date=event.start_date + dt.timedelta(days=day),
        start_time=start.time(),
        end_time=end.time(),
        duration_minutes=SLOT_MINUTES,
        location=rooms[room],
        track=tracks[slot % len(tracks)],
        session_status=STATUSES[slot % len(STATUSES)],
    )
    session.compute_instants()
    return session


@transaction.atomic
def add_load_sessions(*, organisation: Organisation, count: int) -> int:
    """Add ``count`` sessions over the load events; returns how many load sessions exist."""
    events = _events(organisation)
    plan = []
    for event in events:
        taken = event.sessions.count()
        plan.append([event, taken, 0])
    # Fill the emptiest event first so they grow evenly.
    for _ in range(count):
        entry = min(plan, key=lambda e: e[1] + e[2])
        entry[2] += 1
    now = timezone.now()
    total = 0
    with _search_index_merged_at_end():
        for event, taken, extra in plan:
            total += _add_to_event(event, taken, extra, now)
    return total


def fill_event(event: Event, count: int) -> int:
    """Add ``count`` sessions to one event (which needs locations and tracks, and days
    enough: a hundred sessions a day with ten rooms) in its next free slots; returns how
    many sessions it holds. For tests and benchmarks of one event at scale."""
    with _search_index_merged_at_end():
        return _add_to_event(event, event.sessions.count(), count, timezone.now())


def _add_to_event(event: Event, taken: int, extra: int, now: dt.datetime) -> int:
    """Add ``extra`` sessions to ``event`` after its ``taken`` ones; returns how many it holds."""
    if taken + extra > SLOTS_PER_EVENT:
        raise ValueError(f"{event.name} has room for {SLOTS_PER_EVENT} sessions.")
    rooms = list(event.locations.order_by("pk"))
    tracks = list(event.tracks.order_by("pk"))
    slots = iter(range(taken, taken + extra))
    while batch := [_session(event, s, rooms, tracks) for s in itertools.islice(slots, BATCH)]:
        _insert(Session, batch)
        _insert(
            SessionChange,
            [
                SessionChange(
                    session_id=session.pk,
                    event_id=event.pk,
                    action=HistoryAction.CREATE.value,
                    changes=history.diff({}, history.snapshot(session)),
                    note="Load test data (seed_demo --sessions).",
                    version=session.version,
                    actor_label="system",
                    created_at=now,
                )
                for session in batch
            ],
        )
    return taken + extra
