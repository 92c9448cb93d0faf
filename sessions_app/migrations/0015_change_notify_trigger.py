"""PostgreSQL: a history row that the agenda shows (a change of a live session, or a status
move, which may publish or unpublish one) notifies ``agenda_changes`` with its event id on
commit, so open agenda streams wake at once (sessions_app.notify). Other rows send nothing:
a NOTIFY serialises the commits that send one. Nothing on SQLite."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION sessions_app_change_notify() RETURNS trigger AS $$
BEGIN
    IF NEW.changes ? 'session_status' OR EXISTS (
        SELECT 1 FROM sessions_app_session
        WHERE id = NEW.session_id AND session_status = 'live'
    ) THEN
        PERFORM pg_notify('agenda_changes', NEW.event_id::text);
    END IF;
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
