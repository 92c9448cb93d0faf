"""The table of the ``agenda`` database cache (config/settings/base.py), for a database
migrated before it was configured. As 0007: idempotent, and nothing for Redis."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0023_registrant_search_index")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
