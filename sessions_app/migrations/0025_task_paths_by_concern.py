"""The background tasks moved with their concerns: tasks queued before the upgrade (an
import, an export, a webhook attempt waiting for its retry) name the new paths, so the
worker still finds them. Reversible, for a downgrade."""

from django.db import migrations

MOVED = {
    "sessions_app.tasks.run_import": "sessions_app.transfer.imports.run_import",
    "sessions_app.tasks.run_export": "sessions_app.transfer.exports.run_export",
    "sessions_app.tasks.deliver_webhook": "sessions_app.webhooks.delivery.deliver_webhook",
}


def _rename(apps, pairs):
    task_result = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in pairs:
        task_result.objects.filter(task_path=old).update(task_path=new)


def forwards(apps, schema_editor):
    _rename(apps, MOVED.items())


def backwards(apps, schema_editor):
    _rename(apps, ((new, old) for old, new in MOVED.items()))


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0024_agenda_cache_table"),
        ("django_tasks_database", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
