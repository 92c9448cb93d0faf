"""The database cache's table, so `migrate` alone readies a server (no createcachetable step).

createcachetable is idempotent and does nothing for a cache that is not in the database
(Redis, when REDIS_URL is set).
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0006_event_custom_field_schema")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
