"""``AgendaVersion``: one number per event that every write changing its public agenda bumps,
in that write's transaction, so the agenda's pages and feeds tell "unchanged" with one read.

Triggers rather than code in the services, as 0009: every way of writing counts (services,
admin, the grid, imports, selections, raw SQL, ``QuerySet.update``). What they watch is what
the agenda is built of: the event and its organisation, its tracks, rooms and speakers, its
live sessions (a session that becomes or stops being live included; seats taken are a column
of the session) and those sessions' speaker links.

On PostgreSQL they are constraint triggers deferred to the commit: the version row is locked
only while the transaction commits, after every other lock it takes, so writers of one
event queue for a moment there and never deadlock on it (a row trigger would hold the lock
from the first write to the commit, across the session and room locks taken later). SQLite
serialises writers anyway. SQLite drops a table's triggers when a migration rebuilds the
table: ``tests/test_migrations.py`` checks that all of them are there after the history.
"""

import django.db.models.deletion
from django.db import migrations, models

# Tables whose rows carry the event id: (table, only rows of live sessions count).
BY_EVENT_ID = [
    ("sessions_app_track", False),
    ("sessions_app_location", False),
    ("sessions_app_speaker", False),
    ("sessions_app_session", True),
]

POSTGRES_BUMP = """
-- Each new version is also notified (channel agenda_versions, "<event id>:<version>"), on
-- commit: a server process that listens knows the current version without a query
-- (sessions_app.public.quick).
CREATE FUNCTION sessions_app_bump_agenda(event_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    bumped record;
BEGIN
    FOR bumped IN
        INSERT INTO sessions_app_agendaversion (event_id, version)
        SELECT id, 1 FROM sessions_app_event WHERE id = ANY(event_ids) ORDER BY id
        ON CONFLICT (event_id) DO UPDATE SET version = sessions_app_agendaversion.version + 1
        RETURNING event_id, version
    LOOP
        PERFORM pg_notify('agenda_versions', bumped.event_id || ':' || bumped.version);
    END LOOP;
END
$$;

CREATE FUNCTION sessions_app_agenda_by_event_id() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    live_only boolean := TG_NARGS > 0 AND TG_ARGV[0] = 'live';
    ids bigint[] := '{}';
BEGIN
    -- Nested: PL/pgSQL may evaluate every part of a condition, and only sessions have a
    -- status.
    IF TG_OP <> 'INSERT' THEN
        IF NOT live_only THEN
            ids := ids || OLD.event_id;
        ELSIF OLD.session_status = 'live' THEN
            ids := ids || OLD.event_id;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NOT live_only THEN
            ids := ids || NEW.event_id;
        ELSIF NEW.session_status = 'live' THEN
            ids := ids || NEW.event_id;
        END IF;
    END IF;
    IF cardinality(ids) > 0 THEN
        PERFORM sessions_app_bump_agenda(ids);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION sessions_app_agenda_by_session_id() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    session_ids bigint[] := '{}';
BEGIN
    IF TG_OP <> 'INSERT' THEN session_ids := session_ids || OLD.session_id; END IF;
    IF TG_OP <> 'DELETE' THEN session_ids := session_ids || NEW.session_id; END IF;
    PERFORM sessions_app_bump_agenda(ARRAY(
        SELECT event_id FROM sessions_app_session WHERE id = ANY(session_ids)
    ));
    RETURN NULL;
END
$$;

CREATE FUNCTION sessions_app_agenda_by_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sessions_app_bump_agenda(ARRAY[NEW.id]);
    RETURN NULL;
END
$$;

CREATE FUNCTION sessions_app_agenda_by_organisation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sessions_app_bump_agenda(ARRAY(
        SELECT id FROM sessions_app_event WHERE organisation_id = NEW.id
    ));
    RETURN NULL;
END
$$;
"""


# What the agenda shows of the event itself; the counters and the custom field schema that
# the triggers and receivers keep in the row are not among it.
EVENT_COLUMNS = ("name", "slug", "timezone", "start_date", "end_date", "organisation_id")


def _event_changed(distinct: str) -> str:
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in EVENT_COLUMNS)


def _postgres_trigger(
    table: str, events: str, function: str, argument: str = "", when: str = ""
) -> str:
    return f"""
    CREATE CONSTRAINT TRIGGER agenda_version AFTER {events} ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {f"WHEN ({when})" if when else ""}
    EXECUTE FUNCTION {function}({argument})
    """


POSTGRES_SQL = [
    POSTGRES_BUMP,
    *(
        _postgres_trigger(
            table, "INSERT OR UPDATE OR DELETE", "sessions_app_agenda_by_event_id", "'live'" * live
        )
        for table, live in BY_EVENT_ID
    ),
    _postgres_trigger(
        "sessions_app_sessionspeaker",
        "INSERT OR UPDATE OR DELETE",
        "sessions_app_agenda_by_session_id",
    ),
    _postgres_trigger(
        "sessions_app_event",
        "UPDATE",
        "sessions_app_agenda_by_event",
        when=_event_changed("IS DISTINCT FROM"),
    ),
    _postgres_trigger("sessions_app_organisation", "UPDATE", "sessions_app_agenda_by_organisation"),
]
POSTGRES_DROP_SQL = [
    *(
        f"DROP TRIGGER IF EXISTS agenda_version ON {table}"
        for table in [t for t, _ in BY_EVENT_ID]
        + ["sessions_app_sessionspeaker", "sessions_app_event", "sessions_app_organisation"]
    ),
    "DROP FUNCTION IF EXISTS sessions_app_agenda_by_event_id()",
    "DROP FUNCTION IF EXISTS sessions_app_agenda_by_session_id()",
    "DROP FUNCTION IF EXISTS sessions_app_agenda_by_event()",
    "DROP FUNCTION IF EXISTS sessions_app_agenda_by_organisation()",
    "DROP FUNCTION IF EXISTS sessions_app_bump_agenda(bigint[])",
]


def _sqlite_bump(event_ids: str) -> str:
    return f"""
        INSERT INTO sessions_app_agendaversion (event_id, version)
        SELECT id, 1 FROM sessions_app_event WHERE id IN ({event_ids})
        ON CONFLICT (event_id) DO UPDATE SET version = version + 1;"""


def _sqlite_triggers() -> list[str]:
    statements = []
    rows = {"INSERT": ["NEW"], "UPDATE": ["OLD", "NEW"], "DELETE": ["OLD"]}
    for table, live in BY_EVENT_ID:
        for op, which in rows.items():
            when = " OR ".join(f"{row}.session_status = 'live'" for row in which)
            event_ids = ", ".join(f"{row}.event_id" for row in which)
            statements.append(
                f"CREATE TRIGGER agenda_version_{table}_{op.lower()} AFTER {op} ON {table}"
                + (f" WHEN {when}" if live else "")
                + f" BEGIN {_sqlite_bump(event_ids)} END"
            )
    for op, which in rows.items():
        session_ids = ", ".join(f"{row}.session_id" for row in which)
        statements.append(
            f"CREATE TRIGGER agenda_version_sessions_app_sessionspeaker_{op.lower()} AFTER {op} "
            "ON sessions_app_sessionspeaker BEGIN "
            + _sqlite_bump(f"SELECT event_id FROM sessions_app_session WHERE id IN ({session_ids})")
            + " END"
        )
    statements.append(
        "CREATE TRIGGER agenda_version_sessions_app_event_update AFTER UPDATE ON "
        f"sessions_app_event WHEN {_event_changed('IS NOT')} BEGIN {_sqlite_bump('NEW.id')} END"
    )
    statements.append(
        "CREATE TRIGGER agenda_version_sessions_app_organisation_update AFTER UPDATE ON "
        "sessions_app_organisation BEGIN "
        + _sqlite_bump("SELECT id FROM sessions_app_event WHERE organisation_id = NEW.id")
        + " END"
    )
    return statements


SQLITE_SQL = _sqlite_triggers()
SQLITE_DROP_SQL = [
    f"DROP TRIGGER IF EXISTS {sql.split()[2]}" for sql in SQLITE_SQL
]


def add_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": POSTGRES_SQL, "sqlite": SQLITE_SQL}.get(vendor, []):
        schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": POSTGRES_DROP_SQL, "sqlite": SQLITE_DROP_SQL}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0025_task_paths_by_concern")]

    operations = [
        migrations.CreateModel(
            name="AgendaVersion",
            fields=[
                (
                    "event",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        db_constraint=False,
                        related_name="agenda_version",
                        serialize=False,
                        to="sessions_app.event",
                    ),
                ),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
