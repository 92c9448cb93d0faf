from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db
def test_makemigrations_check_is_clean():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_migrations_unapply_and_reapply():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("sessions_app")
    # django-oauth-toolkit's tables point at our ApiClient, so they go first.
    call_command("migrate", "oauth2_provider", "zero", verbosity=0)
    call_command("migrate", "sessions_app", "zero", verbosity=0)
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "sessions_app_session" not in tables
    call_command("migrate", verbosity=0)
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(latest) == []
    with connection.cursor() as cursor:
        assert "sessions_app_session" in connection.introspection.table_names(cursor)
