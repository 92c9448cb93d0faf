"""Django's PostgreSQL backend whose health check skips a connection it has just used.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every
request on a persistent connection: one more round trip on every request, however busy
the connection is. Like PgBouncer's ``server_check_delay``, this backend trusts a
connection that a request used without an error less than ``DB_HEALTH_CHECK_DELAY``
seconds ago, and checks it as Django does once it has been idle for longer, or at once
when the server has written to the idle connection: a server that shuts down or
terminates the backend sends a last message and closes the socket, which a zero-timeout
``select()`` sees without a round trip. So a database restart costs no request. A
connection cut without a word (a network partition) still costs the next request on it a
503 (the outage answer, see ``sessions_app.ops.outage``), after which Django's own check
of a connection that saw an error replaces it; ``0`` checks before every request.

With prepared statements on (``DJANGO_DB_PREPARED_STATEMENTS``), a connection keeps up to
``PREPARED_STATEMENTS_KEPT`` of them rather than psycopg's 100: the admin's lists and the
API's filters have many shapes, and once more than 100 had been prepared since the hot
path's last request, each new one evicted another with a ``DEALLOCATE`` round trip and the
hot statements were planned again.
"""

import select
import time

from django.conf import settings
from django.db.backends.postgresql import base

PREPARED_STATEMENTS_KEPT = 500


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.last_used_at: float | None = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        connection.prepared_max = PREPARED_STATEMENTS_KEPT
        return connection

    def close_if_unusable_or_obsolete(self):
        # Called as a request starts and as it ends; ``health_check_done`` is True only at
        # the end of a request that used the connection (the start resets it).
        used = self.health_check_done
        super().close_if_unusable_or_obsolete()
        if used and self.connection is not None and not self.errors_occurred:
            self.last_used_at = time.monotonic()

    def close_if_health_check_failed(self):
        delay = getattr(settings, "DB_HEALTH_CHECK_DELAY", 0)
        if (
            self.connection is not None
            and self.last_used_at is not None
            and time.monotonic() - self.last_used_at < delay
            and not self._server_wrote_while_idle()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _server_wrote_while_idle(self) -> bool:
        """Data (or end of file) waiting on an idle connection: the server said goodbye.

        Nothing here LISTENs, so an idle connection never has anything to read otherwise.
        """
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self):
        super().close()
        self.last_used_at = None
