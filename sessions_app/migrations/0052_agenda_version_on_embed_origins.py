"""A change of the sites that may embed an event's agenda is a new agenda version: the pages
say in their headers who may frame them (``frame-ancestors``), and the pages kept in front of
Django (``public.quick``) are kept by version."""

import importlib

from django.db import migrations

versions = importlib.import_module("sessions_app.migrations.0026_agenda_version")


def _changed(columns, distinct: str) -> str:
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in columns)


def _event_trigger(columns):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute("DROP TRIGGER IF EXISTS agenda_version ON sessions_app_event")
            schema_editor.execute(
                versions._postgres_trigger(
                    "sessions_app_event",
                    "UPDATE",
                    "sessions_app_agenda_by_event",
                    when=_changed(columns, "IS DISTINCT FROM"),
                )
            )
        elif vendor == "sqlite":
            schema_editor.execute("DROP TRIGGER IF EXISTS agenda_version_sessions_app_event_update")
            schema_editor.execute(
                "CREATE TRIGGER agenda_version_sessions_app_event_update AFTER UPDATE ON "
                f"sessions_app_event WHEN {_changed(columns, 'IS NOT')} "
                f"BEGIN {versions._sqlite_bump('NEW.id')} END"
            )

    return run


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0051_event_embed_origins")]

    operations = [
        migrations.RunPython(
            _event_trigger((*versions.EVENT_COLUMNS, "embed_origins")),
            _event_trigger(versions.EVENT_COLUMNS),
        )
    ]
