"""``Event.session_count``, kept by triggers on every insert and delete of a session.

Triggers rather than code in the services, so that every way a session is written counts:
the services, the bulk loader's COPY, the tests' factories, raw SQL. On PostgreSQL one
statement-level trigger per INSERT or DELETE statement adds up its rows by event (a COPY
of 10,000 rows is one UPDATE per event); SQLite has row-level triggers only.

SQLite drops a table's triggers when a later migration rebuilds the table:
``tests/test_migrations.py`` checks the count after the whole migration history.
"""

from django.db import migrations, models

RECOUNT_SQL = """
UPDATE sessions_app_event SET session_count = (
    SELECT COUNT(*) FROM sessions_app_session WHERE sessions_app_session.event_id = sessions_app_event.id
)
"""

POSTGRES_SQL = [
    """
    CREATE FUNCTION sessions_app_count_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE sessions_app_event AS e SET session_count = e.session_count + n.changed
            FROM (SELECT event_id, COUNT(*) AS changed FROM new_rows GROUP BY event_id) AS n
            WHERE e.id = n.event_id;
        ELSE
            UPDATE sessions_app_event AS e SET session_count = e.session_count - o.changed
            FROM (SELECT event_id, COUNT(*) AS changed FROM old_rows GROUP BY event_id) AS o
            WHERE e.id = o.event_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER session_count_insert AFTER INSERT ON sessions_app_session
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_app_count_sessions()
    """,
    """
    CREATE TRIGGER session_count_delete AFTER DELETE ON sessions_app_session
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_app_count_sessions()
    """,
]
POSTGRES_DROP_SQL = [
    "DROP TRIGGER IF EXISTS session_count_insert ON sessions_app_session",
    "DROP TRIGGER IF EXISTS session_count_delete ON sessions_app_session",
    "DROP FUNCTION IF EXISTS sessions_app_count_sessions()",
]
SQLITE_SQL = [
    """
    CREATE TRIGGER session_count_insert AFTER INSERT ON sessions_app_session
    BEGIN
        UPDATE sessions_app_event SET session_count = session_count + 1 WHERE id = NEW.event_id;
    END
    """,
    """
    CREATE TRIGGER session_count_delete AFTER DELETE ON sessions_app_session
    BEGIN
        UPDATE sessions_app_event SET session_count = session_count - 1 WHERE id = OLD.event_id;
    END
    """,
]
SQLITE_DROP_SQL = [
    "DROP TRIGGER IF EXISTS session_count_insert",
    "DROP TRIGGER IF EXISTS session_count_delete",
]


def add_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRES_SQL, "sqlite": SQLITE_SQL}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)
    schema_editor.execute(RECOUNT_SQL)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": POSTGRES_DROP_SQL, "sqlite": SQLITE_DROP_SQL}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0008_session_list_indexes")]

    operations = [
        migrations.AddField(
            model_name="event",
            name="session_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
