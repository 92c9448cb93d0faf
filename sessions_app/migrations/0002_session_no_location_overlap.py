"""On PostgreSQL, the database itself refuses two holding sessions overlapping in one location.

A write that bypasses the services (raw SQL, ``QuerySet.update``) still cannot double-book.
``DEFERRABLE INITIALLY IMMEDIATE`` lets a batch move (an event's time zone change) defer the
check to the end of its transaction. SQLite has no exclusion constraints: there the services'
locked check is the guard.
"""

from django.db import migrations

CONSTRAINT_SQL = """
ALTER TABLE sessions_app_session
    ADD CONSTRAINT session_no_location_overlap
    EXCLUDE USING gist (
        location_id WITH =,
        tstzrange(starts_at, ends_at, '[)') WITH &&
    )
    WHERE (
        session_status IN ('approved', 'converted', 'live')
        AND location_id IS NOT NULL
        AND starts_at IS NOT NULL
        AND ends_at IS NOT NULL
    )
    DEFERRABLE INITIALLY IMMEDIATE
"""
DROP_SQL = "ALTER TABLE sessions_app_session DROP CONSTRAINT session_no_location_overlap"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Not django.contrib.postgres's BtreeGistExtension: its reverse queries pg_extension
        # on SQLite too, and dropping a shared extension on unapply would be rude anyway.
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        schema_editor.execute(CONSTRAINT_SQL)


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0001_initial")]

    operations = [migrations.RunPython(add_constraint, drop_constraint)]
