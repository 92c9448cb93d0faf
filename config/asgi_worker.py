"""gunicorn's worker for the ASGI application (``make serve``): uvicorn's, with the live
agenda's streams sent away first when the worker stops.

On a restart or a deploy, gunicorn stops each worker with SIGTERM. uvicorn then waits for
every open response to end, and an agenda stream does not end by itself for minutes, so
without this each worker would wait out ``graceful_timeout`` and be killed, and every
browser would reconnect the moment it saw the connection drop. Here each stream is told
first: a ``retry`` spread over ``AGENDA_STREAM_RETRY_SPREAD_SECONDS`` and the end of the
response (``sessions_app.public.hub.Hub.send_everyone_away``), so the crowd returns to the
new workers over seconds.
"""

from __future__ import annotations

import logging
import socket
import sys

from gunicorn.arbiter import Arbiter
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

from sessions_app.ops.request_log import RedactFilter

logger = logging.getLogger("uvicorn.error")
# uvicorn's access line (on when GUNICORN_ACCESS_LOG is set) names the path and query: a
# registrant's page key is redacted there as in the app's own line.
logging.getLogger("uvicorn.access").addFilter(RedactFilter())


class AgendaServer(Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        from sessions_app.public.hub import hub

        count = hub.send_everyone_away()
        if count:
            logger.info("Sent %d open agenda stream(s) away with a retry hint", count)
        await super().shutdown(sockets=sockets)


class Worker(UvicornWorker):
    async def _serve(self) -> None:
        # UvicornWorker._serve with this server class.
        self.config.app = self.wsgi
        server = AgendaServer(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
