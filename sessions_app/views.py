"""The public agenda: what attendees see. Only live sessions; read straight from the database,
so a change to a live session shows on the next page load."""

import zoneinfo
from itertools import groupby

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render

from . import selectors
from .models import Event


def home(request):
    return render(request, "home.html")


def agenda_index(request):
    events = Event.objects.select_related("organisation").order_by("start_date", "name")
    return render(request, "agenda/index.html", {"events": events})


def agenda_event(request, organisation_slug: str, event_slug: str):
    event = get_object_or_404(
        Event.objects.select_related("organisation").prefetch_related(
            Prefetch("sessions", queryset=selectors.agenda_sessions(), to_attr="live_sessions")
        ),
        organisation__slug=organisation_slug,
        slug=event_slug,
    )
    zone = zoneinfo.ZoneInfo(event.timezone)
    days = []
    scheduled = [s for s in event.live_sessions if s.starts_at is not None]
    for day, sessions in groupby(scheduled, key=lambda s: s.starts_at.astimezone(zone).date()):
        days.append({"date": day, "sessions": list(sessions)})
    context = {"event": event, "days": days, "zone": zone}
    return render(request, "agenda/event.html", context)
