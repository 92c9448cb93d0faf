"""Indexes for the API's session sorts, so that every ``sort`` is as flat at 100,000 sessions
as the default one.

Before these, a list sorted by name or by start time, or by a date descending, sorted every
session of the organisation for each page (80 to 95 ms at 100,000 sessions, against 10 ms
for the id order). ``name`` and ``start_time`` get an index with ``id``, the tie-break the
API adds; the descending name reads the first backwards. A descending date or start time
keeps the sessions without one last, so on PostgreSQL they get their own index, in that
order (``DESC NULLS LAST``); SQLite's CREATE INDEX cannot say NULLS LAST, and sorts.
The other sorts' columns (``id``, ``created_at``, ``updated_at``) have indexes already.

The indexes of the ``date``, ``session_status`` and ``updated_since`` filters now hold the
event too: every list is scoped to the organisation's events, so a filter that matches many
sessions had its count read every matching row (20 ms for the 28,000 live sessions of
100,000, 45 ms for 100,000 dates); with the event in the index it counts from the index
alone (3 ms for the live ones). They replace the one-column indexes, so a write maintains
as many indexes as before for them.

Built CONCURRENTLY on PostgreSQL, so that a deployment does not hold off session writes
while they build (hence ``atomic = False``). A build that failed half-way leaves an invalid
index behind, so each is dropped, if there, before it is built. The new indexes exist before
the ones they replace go.
"""

import django.utils.timezone
from django.db import migrations, models
from django.db.migrations.operations import AddIndex, RemoveIndex

DESCENDING = {
    "session_date_desc": "date DESC NULLS LAST, id",
    "session_start_time_desc": "start_time DESC NULLS LAST, id",
}


class AddIndexConcurrently(AddIndex):
    """AddIndex, built CONCURRENTLY on PostgreSQL (``contrib.postgres``'s operation of that
    name runs on PostgreSQL only, and SQLite runs these migrations too)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {self.index.name}")
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


class RemoveIndexConcurrently(RemoveIndex):
    """RemoveIndex, dropped CONCURRENTLY on PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(
                self.name
            )
            schema_editor.remove_index(model, index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {self.name}")
            schema_editor.add_index(model, index, concurrently=True)


def add_descending(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, columns in DESCENDING.items():
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY {name} ON sessions_app_session ({columns})"
            )


def drop_descending(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in DESCENDING:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


# The column's own index (0001's db_index=True), by the name Django gave it. Dropped by name
# rather than by AlterField's database operation, which on SQLite rebuilds the table and with
# it loses 0009's triggers.
UPDATED_AT_INDEX = "sessions_app_session_updated_at_3aae5d87"


def _concurrently(schema_editor) -> str:
    return " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def drop_updated_at_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX{_concurrently(schema_editor)} IF EXISTS {UPDATED_AT_INDEX}")


def create_updated_at_index(apps, schema_editor):
    schema_editor.execute(
        f"CREATE INDEX{_concurrently(schema_editor)} {UPDATED_AT_INDEX} "
        "ON sessions_app_session (updated_at)"
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("sessions_app", "0019_import_job")]

    operations = [
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(fields=["name", "id"], name="session_name"),
        ),
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(fields=["start_time", "id"], name="session_start_time"),
        ),
        migrations.RunPython(add_descending, drop_descending),
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(fields=["date", "event"], name="session_date_event"),
        ),
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(fields=["session_status", "event"], name="session_status_event"),
        ),
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(fields=["updated_at", "event"], name="session_updated_event"),
        ),
        RemoveIndexConcurrently(model_name="session", name="session_date"),
        RemoveIndexConcurrently(model_name="session", name="session_status"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="session",
                    name="updated_at",
                    field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
                )
            ],
            database_operations=[
                migrations.RunPython(drop_updated_at_index, create_updated_at_index)
            ],
        ),
    ]
