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


@pytest.mark.django_db(transaction=True)
def test_event_session_count_follows_every_insert_and_delete():
    """The triggers of 0009 survive the whole history (SQLite drops a rebuilt table's)."""
    from sessions_app import services
    from sessions_app.models import Event, Session
    from tests import factories

    event, other = factories.event(), factories.event()
    created = [factories.session(event=event) for _ in range(3)]  # plain ORM saves
    Session.objects.bulk_create([Session(event=other, name=f"Bulk {n}") for n in range(4)])
    services.session_create(
        event=other, data={"name": "Through the service"}, actor=services.SYSTEM
    )
    created[0].delete()
    Session.objects.filter(event=other, name__startswith="Bulk").exclude(name="Bulk 0").delete()

    counts = dict(Event.objects.values_list("pk", "session_count"))
    assert counts[event.pk] == Session.objects.filter(event=event).count() == 2
    assert counts[other.pk] == Session.objects.filter(event=other).count() == 2


@pytest.mark.django_db
def test_the_session_table_has_the_model_indexes_and_not_the_ones_they_replaced():
    """0020 replaced the one-column indexes of date, status and updated_at (the last by its
    name, which a typo would leave in place without an error)."""
    from sessions_app.models import Session

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Session._meta.db_table)
    indexed = {name: tuple(c["columns"]) for name, c in constraints.items() if c["index"]}

    assert {index.name for index in Session._meta.indexes} <= indexed.keys()
    replaced = {("date",), ("session_status",), ("updated_at",)}
    assert not replaced & set(indexed.values()), indexed
