"""At most ``DJANGO_DB_POOL_SIZE`` requests of a process run at once under ASGI; the rest wait
their turn in the event loop, in order of arrival.

Under WSGI a sync worker answers one request at a time and the others wait in the socket's
backlog. Under ASGI every request that arrives starts at once in a thread of its own, and
all of them would then wait for the few connections of the pool, each giving up with a 503
after ``DJANGO_DB_POOL_TIMEOUT``: a registration rush of 500 requests in one second turned
into 400 errors. Here they queue before they take a thread or ask for a connection, as
they would in the backlog, and the pool's timeout is left to mean what it says (the
database cannot be reached). A request waiting here costs a coroutine, not a thread.

Outermost: the request's own log line (``RequestLogMiddleware``) starts when its turn comes.
The live agenda's streams pass through too: they take a turn only to be admitted, and
stream outside it.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import markcoroutinefunction
from django.conf import settings


class RequestGate:
    """Async only, so that Django runs the chain below it in a thread per request and the
    waiting happens here, in the event loop. Installed under ASGI only (``settings.ASGI``)."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)
        self._turns: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, request):
        return await self._in_turn(request)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._turns is None or self._loop is not loop:
            self._loop = loop
            self._turns = asyncio.Semaphore(settings.ASGI_CONCURRENT_REQUESTS)
        return self._turns

    async def _in_turn(self, request):
        async with self._semaphore():
            return await self.get_response(request)
