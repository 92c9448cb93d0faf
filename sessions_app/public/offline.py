"""The agenda as an installable web app that works offline: a manifest per event and one
service worker for the site.

The service worker (``/sw.js``, so that its scope covers the agenda and the registrants'
pages) answers the agenda's pages, the registrant's page and the static files from the
network whenever it can, keeps a copy of each, and answers from that copy when the network
is gone. ``static/agenda/offline.js`` registers it, keeps the event's session pages in the
copy, and says how old the copy is while offline; the live stream catches up from the
page's cursor when the network returns.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_safe

from sessions_app.public.agenda import event_or_404


@require_safe
def service_worker(request):
    body = render_to_string(
        "agenda/sw.js",
        {
            "static_files": json.dumps(
                [
                    static("agenda/agenda.css"),
                    static("agenda/live.js"),
                    static("agenda/offline.js"),
                    static("favicon.svg"),
                ]
            )
        },
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # The browser looks for a new worker at each visit; this answer is never kept.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def manifest(request, organisation_slug: str, event_slug: str):
    event = event_or_404(organisation_slug, event_slug)
    start = reverse("agenda:event", args=[organisation_slug, event_slug])
    data = {
        "name": f"{event.name}: agenda",
        "short_name": event.name[:30],
        "description": f"The programme of {event.name}, also offline.",
        "id": start,
        "start_url": start,
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#417690",
        "icons": [
            {"src": static("agenda/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("agenda/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "public, max-age=300"
    return response
