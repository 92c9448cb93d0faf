"""A trigram index for the registrant search, on first name, last name and email as one text.

The API's and the admin's registrant searches had each looked in the three columns one by
one, which no index answers: at 100,000 registrants a search read them all (80 to 105 ms).
Both now search ``selectors.RegistrantSearchedText`` (the columns joined by U+001F, as the
session search of migration 0018), and this index is on ``UPPER()`` of it. The expression
below must stay the SQL that it compiles to, or searches stop using the index; a PostgreSQL
test checks that both searches use it.

Built CONCURRENTLY, so that a deployment does not hold off registrations while it builds
(hence ``atomic = False``). A build that failed half-way leaves an invalid index behind, so
the index is dropped before it is built. fastupdate off, as 0008 explains. SQLite searches
by scanning, as before.
"""

from django.db import migrations

INDEX = "registrant_search_text_trgm"
SEARCHED_TEXT = '"first_name" || CHR(31) || "last_name" || CHR(31) || "email"'
CREATE = (
    f"CREATE INDEX CONCURRENTLY {INDEX} ON sessions_app_registrant "
    f"USING gin ((UPPER(({SEARCHED_TEXT}))) gin_trgm_ops) WITH (fastupdate = off)"
)
DROP = f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}"


def build(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("sessions_app", "0022_export_job")]

    operations = [migrations.RunPython(build, drop)]
