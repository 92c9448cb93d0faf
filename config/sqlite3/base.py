"""Django's SQLite backend in write-ahead-log mode, whose LIKE ignores case in every
alphabet, not only in ASCII.

Write-ahead log (``journal_mode=WAL``, kept in the database file): readers and the one
writer no longer wait for each other. In SQLite's default rollback journal a commit needs
every reader out of the file and shuts readers out while it writes, and a waiting
connection retries in sleeps of up to 100 ms. Every API request writes its rate budget,
so every request waited on the journal: under four gunicorn workers the log answered 1.2 to
1.5 times as many requests, with a p99 about a third lower (README). Writes stay as durable
as before (``synchronous`` is left at FULL: a commit is on disk when it returns), but for the
rate budget's counts, which commit unsynced (``sessions_app.ops.ratelimit``). The log
needs the file on a local disk, not a network share.

SQLite's own LIKE folds only the 26 ASCII letters, so on the embedded default a search for
"élodie" missed "Élodie" (Django's ``icontains``, ``iexact`` and ``istartswith`` are all LIKE
there). SQLite lets an application replace the ``like()`` function behind the operator;
this one matches with Python's case-insensitive regular expressions, as PostgreSQL's
``UPPER() LIKE UPPER()`` does on a database with a UTF-8 character type. As with SQLite's
own LIKE, Django's case-sensitive ``contains`` stays case-insensitive on SQLite.

A replaced ``like()`` costs one Python call per row compared, and SQLite no longer answers a
prefix LIKE from an index: fine at the sizes the embedded default is for.
"""

import functools
import re

from django.db.backends.sqlite3 import base


@functools.lru_cache(maxsize=512)
def like_pattern(pattern: str, escape: str | None) -> re.Pattern:
    """The regular expression of a LIKE pattern: ``%`` any run, ``_`` any one character,
    and the escape character (if any) makes the next character plain."""
    if escape is not None and len(escape) != 1:
        raise ValueError("ESCAPE expression must be a single character")
    parts = []
    characters = iter(pattern)
    for character in characters:
        if character == escape:
            character = next(characters, "")
            parts.append(re.escape(character))
        elif character == "%":
            parts.append(".*")
        elif character == "_":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    return re.compile("".join(parts), re.DOTALL | re.IGNORECASE)


def like(pattern, value, escape=None):
    """``value LIKE pattern [ESCAPE escape]``: NULL if either side is NULL, as in SQL."""
    if pattern is None or value is None:
        return None
    return like_pattern(str(pattern), escape).fullmatch(str(value)) is not None


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        connection.create_function("like", 2, like, deterministic=True)
        connection.create_function("like", 3, like, deterministic=True)
        if not self.is_in_memory_db():
            connection.execute("PRAGMA journal_mode = WAL")
        return connection
