"""The agenda in the organiser's own website: ``<sessions-agenda>``, a custom element.

The organiser pastes two lines (the event's admin page shows them): a script from this site,
``/agenda/embed.js``, and the element with the address of the event's data,
``/agenda/<organisation>/<event>/embed.json``. The element reads that data without cookies
and draws the programme in its own shadow tree, styled by the host page through CSS custom
properties; it follows the event's live stream and reads the data again when it changes.

Only the sites the event lists (``Event.embed_origins``) may read the data and the stream
from a browser: their answers carry ``Access-Control-Allow-Origin`` for that origin alone,
and a browser on any other site refuses them. The data is the public agenda's, nothing more.
"""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from itertools import groupby

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import quote_etag, urlencode
from django.views.decorators.http import require_safe

from sessions_app import selectors
from sessions_app.models import Event
from sessions_app.public import stream
from sessions_app.public.agenda import event_or_404
from sessions_app.validators import ascii_int, date_or_none


def allow_origin(response: HttpResponse, request, event: Event) -> HttpResponse:
    """CORS for the event's listed sites only: the origin asking, if listed; none else."""
    origin = request.headers.get("Origin")
    if event.allows_embed(origin):
        response["Access-Control-Allow-Origin"] = origin
    patch_vary_headers(response, ["Origin"])
    return response


@require_safe
def embed_script(request):
    response = HttpResponse(
        render_to_string("agenda/embed.js"), content_type="text/javascript; charset=utf-8"
    )
    # Pasted into other sites by its address, so the address stays and the copy is short-lived.
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"  # the script holds nothing of any event
    return response


def _session(session, zone, link) -> dict:
    starts, ends = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    seats = None
    if session.capacity is not None:
        seats = (
            session.sold_out_message or "Sold out"
            if session.is_sold_out
            else f"{session.seats_left} seat{'' if session.seats_left == 1 else 's'} left"
        )
    return {
        "id": session.pk,
        "name": session.name,
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
        "time": f"{starts:%H:%M}\u2013{ends:%H:%M}",
        "room": session.location.name if session.location else None,
        "track": session.track.name if session.track else None,
        "track_color": session.track.color if session.track else None,
        "speakers": [link.speaker.full_name for link in session.speaker_links.all()],
        "seats": seats,
        "url": link(session.pk),
    }


@require_safe
def embed_data(request, organisation_slug: str, event_slug: str):
    event = event_or_404(organisation_slug, event_slug)
    track_id = ascii_int(request.GET.get("track"))
    day = date_or_none(request.GET.get("day"))
    version = getattr(getattr(event, "agenda_version", None), "version", 0)
    etag = quote_etag(
        hashlib.sha256(
            f"embed:{request.get_host()}:{event.pk}:{version}:{day}:{track_id}".encode()
        ).hexdigest()[:32]
    )
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        return allow_origin(not_modified, request, event)

    cursor = stream.page_cursor(event)  # before the sessions: the stream sends what follows
    zone = zoneinfo.ZoneInfo(event.timezone)
    sessions = selectors.agenda_sessions(event)
    if track_id is not None:
        sessions = sessions.filter(track_id=track_id)
    base = request.build_absolute_uri("/")[:-1]

    def link(pk: int) -> str:
        return base + reverse("agenda:session", args=[organisation_slug, event_slug, pk])

    days = []
    scheduled = [s for s in sessions if s.starts_at is not None]
    for date, group in groupby(scheduled, key=lambda s: s.starts_at.astimezone(zone).date()):
        if day is None or date == day:
            days.append(
                {
                    "date": date.isoformat(),
                    "sessions": [_session(session, zone, link) for session in group],
                }
            )
    agenda = reverse("agenda:event", args=[organisation_slug, event_slug])
    stream_path = reverse("agenda:stream", args=[organisation_slug, event_slug])
    data = {
        "event": {
            "name": event.name,
            "timezone": event.timezone,
            "url": base + agenda,
        },
        "days": days,
        "stream_url": f"{base}{stream_path}?{urlencode({'last_id': str(cursor)})}",
    }
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=5"
    return allow_origin(response, request, event)
