"""System checks: of the settings, and of the database the app runs on (``manage.py check
--database default``; ``migrate`` runs them too)."""

from django.conf import settings
from django.core import checks
from django.db import connections


@checks.register()
def check_housekeeping(app_configs=None, **kwargs):
    """A worker deletes what is older than KEEP_DAYS: 0 or less would take today's too."""
    days = settings.HOUSEKEEPING["KEEP_DAYS"]
    if days >= 1:
        return []
    return [
        checks.Error(
            f"DJANGO_HOUSEKEEPING_KEEP_DAYS is {days}: the workers' housekeeping would delete "
            "the delivery log and the imports of today.",
            hint="Set it to a whole number of days, 1 or more (default 30).",
            id="sessions_app.E001",
        )
    ]


def folds_case(connection) -> bool:
    """Whether the database's ``UPPER()`` folds letters beyond ASCII.

    Every case-insensitive search here is ``UPPER(text) LIKE UPPER(term)`` on PostgreSQL,
    and its ``UPPER()`` follows the database's character type: under ``LC_CTYPE`` ``C`` (or
    ``POSIX``) it changes only the 26 ASCII letters.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT UPPER('é') = 'É'")
        (folds,) = cursor.fetchone()
    return folds


@checks.register(checks.Tags.database)
def check_case_folding(app_configs=None, databases=None, **kwargs):
    return [
        warning
        for alias in databases or ()
        for warning in case_folding_warnings(connections[alias])
    ]


def case_folding_warnings(connection) -> list[checks.CheckMessage]:
    if connection.vendor != "postgresql" or folds_case(connection):
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_setting('lc_ctype')")
        name, ctype = cursor.fetchone()
    return [
        checks.Warning(
            f"The database {name!r} has the character type {ctype!r}: its UPPER() leaves "
            "letters beyond ASCII as they are, so a search for 'élodie' does not find "
            "'Élodie' (sessions, speakers, registrants, the admin).",
            hint=(
                "Create the database with a UTF-8 character type, e.g. CREATE DATABASE "
                "... TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C.UTF-8' (or "
                "'en_US.UTF-8'), and load the data into it."
            ),
            id="sessions_app.W001",
        )
    ]
