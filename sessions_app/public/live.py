"""The live agenda's endpoint as a Django view: ``/agenda/<organisation>/<event>/stream``.

Under ``make serve`` (``config.asgi``) the URL is answered before Django, by
``sessions_app.public.sse``. This view answers it when Django's own handler gets it: under
WSGI with one look at the history (``stream.sync_stream``), and under Django's ASGI handler
(its async test client) from this process's hub, as ``sse`` does: admitted or refused (503,
``Retry-After``) before anything touches the database, then fed from memory.
"""

from __future__ import annotations

import random

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404

from sessions_app.models import Event
from sessions_app.public import stream
from sessions_app.public.embed import allow_origin
from sessions_app.public.hub import hub


def _event_or_404(organisation_slug: str, event_slug: str) -> Event:
    return get_object_or_404(
        Event.objects.select_related("organisation"),
        organisation__slug=organisation_slug,
        slug=event_slug,
    )


def _busy() -> HttpResponse:
    """This process holds all the streams it will: come back in a few seconds (spread, so
    that a refused crowd does not return at once). The page's script reconnects."""
    response = HttpResponse(
        "This server holds as many live agendas as it can; try again in a few seconds.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(random.randint(2, 10))  # noqa: S311  (spread, not a secret)
    response["Cache-Control"] = "no-store"
    return response


async def agenda_stream(request, organisation_slug: str, event_slug: str):
    if isinstance(request, ASGIRequest):
        if hub.full():
            return _busy()
        event = await hub.event(organisation_slug, event_slug)
        if event is None:
            raise Http404("No such event.")
        content = hub.stream(event, stream.requested_cursor(request))
    else:
        event = await sync_to_async(_event_or_404)(organisation_slug, event_slug)
        cursor = stream.requested_cursor(request) or await sync_to_async(stream.start_cursor)()
        content = stream.sync_stream(event, cursor)
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each message on at once
    return allow_origin(response, request, event)  # the event's embedding sites
