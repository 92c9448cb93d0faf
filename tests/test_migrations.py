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


@pytest.mark.django_db(transaction=True)
def test_tasks_queued_before_the_move_by_concern_are_found_after_it():
    """0025: a task queued under its old path runs after the upgrade, and back again."""
    from django.utils import timezone
    from django.utils.module_loading import import_string
    from django_tasks_db.models import DBTaskResult

    before = [("sessions_app", "0024_agenda_cache_table")]
    call_command("migrate", "sessions_app", "0024", verbosity=0)
    old_paths = [
        "sessions_app.tasks.run_import",
        "sessions_app.tasks.run_export",
        "sessions_app.tasks.deliver_webhook",
    ]
    try:
        for path in [*old_paths, "someone_else.tasks.work"]:
            DBTaskResult.objects.create(
                task_path=path,
                queue_name="default",
                backend_name="default",
                args_kwargs={},
                run_after=timezone.now(),
            )
        call_command("migrate", "sessions_app", "0025", verbosity=0)
        paths = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
        assert paths == [
            "sessions_app.transfer.exports.run_export",
            "sessions_app.transfer.imports.run_import",
            "sessions_app.webhooks.delivery.deliver_webhook",
            "someone_else.tasks.work",
        ]
        for path in paths[:3]:
            import_string(path)
        MigrationExecutor(connection).migrate(before)
        assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == sorted(
            [*old_paths, "someone_else.tasks.work"]
        )
    finally:
        call_command("migrate", verbosity=0)


@pytest.mark.django_db
def test_0037_takes_stored_page_links_out_of_messages():
    import importlib

    from django.apps import apps

    from sessions_app.enums import MessageState, NoticeKind
    from sessions_app.models import Message
    from sessions_app.notices.texts import PAGE_LINK
    from tests import factories

    scrub = importlib.import_module("sessions_app.migrations.0037_scrub_stored_page_links")
    event = factories.event()
    grace = factories.registrant(event=event)
    link = grace.selection_url()
    welcome = Message.objects.create(
        event=event,
        kind=NoticeKind.REGISTRANT_WELCOME,
        state=MessageState.SENT,
        registrant=grace,
        to_email=grace.email,
        subject="Welcome",
        body=f"Hello,\n\n{link}\n\nKeep this link to yourself.",
        context={"name": "Grace", "link": link},
    )
    to_speaker = Message.objects.create(
        event=event,
        kind=NoticeKind.SPEAKER_PUBLISHED,
        state=MessageState.SENT,
        to_email="ada@example.org",
        subject="Published",
        body="See https://example.org/agenda/o/e/sessions/4/",
    )
    scrub.scrub(apps, None)
    welcome.refresh_from_db()
    assert link not in welcome.body and link not in str(welcome.context)
    assert welcome.body == f"Hello,\n\n{PAGE_LINK}\n\nKeep this link to yourself."
    assert welcome.context == {"name": "Grace", "link": PAGE_LINK}
    assert scrub.PAGE_LINK == PAGE_LINK
    assert Message.objects.get(pk=to_speaker.pk).body == to_speaker.body
