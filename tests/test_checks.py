"""sessions_app.ops.checks: a PostgreSQL database whose UPPER() cannot fold "é" is reported."""

import pytest
from django.core.management import call_command
from django.db import connection, connections

from sessions_app.ops import checks

pytestmark = pytest.mark.django_db


def _connection_to(name: str):
    """A connection of its own to another database of the same server (autocommit). Its
    alias stays "default": django.contrib.postgres looks the alias up as it connects."""
    default = connections["default"]
    return type(default)({**default.settings_dict, "NAME": name})


def test_the_test_database_folds_case_and_passes(capsys):
    assert checks.check_case_folding(databases=["default"]) == []
    call_command("check", "--database", "default", "--fail-level", "WARNING")
    assert "sessions_app.W001" not in capsys.readouterr().err


@pytest.mark.postgres
def test_a_database_with_the_c_character_type_is_reported():
    """A real database created with LC_CTYPE 'C' beside the test database."""
    name = "ctype_c_check"
    server = _connection_to("postgres")  # CREATE DATABASE runs outside the test's transaction
    other = _connection_to(name)
    with server.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")
    try:
        assert checks.folds_case(other) is False
        [warning] = checks.case_folding_warnings(other)
        assert warning.id == "sessions_app.W001"
        assert f"'{name}'" in warning.msg
        assert "'C'" in warning.msg
        assert checks.folds_case(connection) is True
    finally:
        other.close()
        with server.cursor() as cursor:
            cursor.execute(f"DROP DATABASE {name}")
        server.close()


def test_housekeeping_that_keeps_no_day_is_an_error(settings):
    from sessions_app.ops.checks import check_housekeeping

    assert check_housekeeping() == []
    settings.HOUSEKEEPING = {**settings.HOUSEKEEPING, "KEEP_DAYS": 0}
    (error,) = check_housekeeping()
    assert error.id == "sessions_app.E001"
    assert "DJANGO_HOUSEKEEPING_KEEP_DAYS is 0" in error.msg
