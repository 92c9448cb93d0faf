"""PostgreSQL: every history row notifies ``agenda_changes`` with its event id on commit,
so open agenda streams wake at once (sessions_app.notify). Nothing on SQLite."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION sessions_app_change_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('agenda_changes', NEW.event_id::text);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER sessionchange_notify
    AFTER INSERT ON sessions_app_sessionchange
    FOR EACH ROW EXECUTE FUNCTION sessions_app_change_notify();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS sessionchange_notify ON sessions_app_sessionchange;
DROP FUNCTION IF EXISTS sessions_app_change_notify();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0014_webhook_permissions")]

    operations = [migrations.RunPython(forward, backward)]
