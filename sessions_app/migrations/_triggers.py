"""SQLite adds a NOT NULL column by rebuilding the table. The rebuild drops the triggers on
that table, and fails on the triggers of other tables that name it (the session counts, the
agenda version). ``around_rebuild(table, operations)`` keeps them aside for the rebuild and
makes them again after it; on other databases it does nothing around the operations.

(Django's migration loader skips modules whose names start with "_", so this is a helper,
not a migration.)
"""

from django.db import migrations


def around_rebuild(table: str, operations: list) -> list:
    kept: list[tuple[str, str]] = []

    def set_aside(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                "(tbl_name = %s OR sql LIKE %s)",
                [table, f"%{table}%"],
            )
            kept[:] = cursor.fetchall()
        for name, _sql in kept:
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')

    def put_back(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for _name, sql in kept:
            schema_editor.execute(sql)
        kept.clear()

    return [
        migrations.RunPython(set_aside, put_back),
        *operations,
        migrations.RunPython(put_back, set_aside),
    ]
