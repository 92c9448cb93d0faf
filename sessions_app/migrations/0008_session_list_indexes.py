"""Indexes that keep the session lists flat from 1,000 to 100,000 sessions.

An event's sessions in id order (the API lists), the admin list's order (whole and per
event), the ``date`` filter, two indexes fewer for every write to maintain (the location's
is the prefix of (location, starts_at); the status's LIKE-pattern twin is never used), and on PostgreSQL a
trigram index for the substring search of the API and the admin: Django's ``icontains``
is ``UPPER(column::text) LIKE UPPER(%s)`` there, which this index on the same expressions
answers without reading every row. SQLite searches by scanning, as before.
"""

import django.db.models.deletion
from django.db import migrations, models

SEARCHED = ("name", "admin_short_name", "badge_name", "description")
# fastupdate off: with it on, every write appends to a pending list that each search then
# reads in full until a vacuum merges it (searches ten times slower after a burst of
# writes); off costs a write about 0.05 ms more.
TRIGRAM_SQL = (
    "CREATE INDEX session_search_trgm ON sessions_app_session USING gin ({}) "
    "WITH (fastupdate = off)"
).format(", ".join(f"UPPER({column}::text) gin_trgm_ops" for column in SEARCHED))


def add_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # As in 0002: not TrigramExtension, whose reverse would drop a shared extension.
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(TRIGRAM_SQL)


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS session_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0007_cache_table")]

    operations = [
        migrations.AlterField(
            model_name="session",
            name="event",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sessions",
                to="sessions_app.event",
            ),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(fields=["event", "id"], name="session_event_id"),
        ),
        migrations.AlterField(
            model_name="session",
            name="starts_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(fields=["starts_at", "name", "id"], name="session_start_order"),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(
                fields=["event", "starts_at", "name", "id"], name="session_event_start"
            ),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(fields=["date"], name="session_date"),
        ),
        migrations.AlterField(
            model_name="session",
            name="location",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sessions",
                to="sessions_app.location",
            ),
        ),
        migrations.AlterField(
            model_name="session",
            name="session_status",
            field=models.CharField(
                choices=[
                    ("submitted", "Submitted"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                    ("converted", "Converted"),
                    ("live", "Live"),
                ],
                default="submitted",
                max_length=20,
            ),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(fields=["session_status"], name="session_status"),
        ),
        migrations.RunPython(add_trigram_index, drop_trigram_index),
    ]
