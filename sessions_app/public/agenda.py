"""The public agenda: what attendees see. Only live sessions, read from the database, so a
change to a live session shows on the next load; the page, the session pages and the feeds
answer an ETag of the event's agenda version and 304 to a client that has it, after one
query."""

import datetime as dt
import hashlib
import json
import logging
import threading
import zoneinfo
from collections import OrderedDict
from itertools import groupby

from django.conf import settings
from django.core.cache import caches
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import quote_etag, urlencode
from django.views.decorators.cache import never_cache

from sessions_app import selectors
from sessions_app.enums import ProposedProgramme
from sessions_app.models import AgendaVersion, Event
from sessions_app.ops.outage import UNAVAILABLE_ERRORS
from sessions_app.public import feeds, stream
from sessions_app.validators import ascii_int

# Named as before the move by concern: log filters and alerts key on it.
logger = logging.getLogger("sessions_app.views")

# The event and agenda version a kept answer was made at, for the ASGI front only.
VERSION_HEADER = "X-Agenda-Version"


def home(request):
    return render(request, "home.html")


def agenda_index(request):
    events = Event.objects.select_related("organisation").order_by("start_date", "name")
    return render(request, "agenda/index.html", {"events": events})


def event_or_404(organisation_slug: str, event_slug: str) -> Event:
    """The event with its organisation and its agenda version, in one query: all that a
    client that has the current page needs to be told so."""
    return get_object_or_404(
        Event.objects.select_related("organisation", "agenda_version"),
        organisation__slug=organisation_slug,
        slug=event_slug,
    )


def _live(event: Event):
    return selectors.agenda_sessions(event)


def agenda_version(event: Event) -> int:
    """How many times what ``event``'s agenda shows has changed (``AgendaVersion``)."""
    try:
        return event.agenda_version.version
    except AgendaVersion.DoesNotExist:
        return 0


def shared_cache_control(response) -> None:
    """Public pages may be kept by browsers, a CDN or a reverse proxy for a few seconds and
    served stale a little longer while they ask again: the live stream brings every change
    to an open agenda anyway (docs: operators/event-day)."""
    patch_cache_control(
        response,
        public=True,
        max_age=settings.AGENDA_MAX_AGE_SECONDS,
        stale_while_revalidate=settings.AGENDA_STALE_SECONDS,
    )


def made_of_the_agenda(request, event: Event, build, *, variant: str = "", keep: bool = True):
    """The response ``build`` makes of ``event``'s agenda, keyed by the event's agenda
    version rather than by building it: a client that has it gets 304 without another query,
    and a body made before at the same version comes from this process's memory or the
    ``agenda`` cache (unless ``keep`` is false). The version is read with the event, before
    anything the body is built of, and only grows: a body kept under it is at least as new
    as it, and no later state of the agenda has the same key. ``variant`` is whatever else
    the body depends on."""
    parts = (
        build.__name__,
        request.scheme,
        request.get_host(),
        variant,
        str(event.pk),
        str(agenda_version(event)),
    )
    key = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    etag = quote_etag(key)
    answered = get_conditional_response(request, etag=etag)
    if answered is None:
        made = _kept(key) if keep else None
        if made is None:
            built = build()
            made = (built.status_code, dict(built.items()), built.content)
            if keep and built.status_code == 200:
                _keep(key, made)
        status, headers, body = made
        answered = HttpResponse(body, status=status)
        for name, value in headers.items():
            answered[name] = value
    answered["ETag"] = etag
    shared_cache_control(answered)
    if keep and settings.ASGI:
        # For the ASGI front (sessions_app.public.quick), which keeps the answer by this
        # version and takes the header off before it goes out.
        answered[VERSION_HEADER] = f"{event.pk}:{agenda_version(event)}"
    return answered


class _Bodies:
    """The bodies this process built or fetched lately, most recent last, up to
    ``AGENDA_LOCAL_CACHE_BYTES`` in all: a crowd on one agenda costs no cache round trip."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            made = self._items.get(key)
            if made is not None:
                self._items.move_to_end(key)
            return made

    def put(self, key: str, made) -> None:
        size = len(made[2])
        limit = settings.AGENDA_LOCAL_CACHE_BYTES
        if size > limit:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = made
            self._size += size
            while self._size > limit:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped[2])

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


local_bodies = _Bodies()


def _kept(key: str):
    """A body kept in this process or the ``agenda`` cache, or None; None too when the
    cache (Redis) cannot be reached: the page is then built, as it was before there was a
    cache."""
    made = local_bodies.get(key)
    if made is not None:
        return made
    try:
        made = caches["agenda"].get(key)
    except UNAVAILABLE_ERRORS as exc:
        logger.warning("agenda cache unavailable: %s", exc)
        return None
    if made is not None:
        local_bodies.put(key, made)
    return made


def _keep(key: str, made) -> None:
    local_bodies.put(key, made)
    try:
        caches["agenda"].set(key, made)
    except UNAVAILABLE_ERRORS as exc:
        logger.warning("agenda cache unavailable: %s", exc)


def _day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw and len(raw) == 10 else None
    except ValueError:
        return None


def framed_by_listed_sites(response: HttpResponse, event: Event) -> HttpResponse:
    """The agenda and its session pages may be shown in a frame by the sites the event lists
    for embedding (``Event.embed_origins``), and by no other: ``frame-ancestors`` names them
    (the site's policy says 'none'), and ``X-Frame-Options``, which cannot name them, goes."""
    origins = event.embed_origin_list()
    if origins:
        response._csp_replace = {"frame-ancestors": ["'self'", *origins]}
        response.xframe_options_exempt = True
    return response


def agenda_event(request, organisation_slug: str, event_slug: str):
    event = event_or_404(organisation_slug, event_slug)
    track_id = ascii_int(request.GET.get("track"))
    search = request.GET.get("q", "").strip().replace("\x00", "")[:200]
    chosen_day = _day(request.GET.get("day"))

    def agenda_page():
        # Before the sessions are read: the stream sends what changes after what the page
        # shows. A page kept at this version keeps this cursor: what the history holds
        # after it either changes the version or is no change to the page.
        cursor = stream.page_cursor(event)
        zone = zoneinfo.ZoneInfo(event.timezone)
        sessions = _live(event)
        if track_id is not None:
            sessions = sessions.filter(track_id=track_id)
        if search:
            sessions = sessions.filter(
                Q(name__icontains=search)
                | Q(description__icontains=search)
                | Q(badge_name__icontains=search)
            )
        scheduled = [s for s in sessions if s.starts_at is not None]
        days = []
        for day, group in groupby(scheduled, key=lambda s: s.starts_at.astimezone(zone).date()):
            if chosen_day is None or day == chosen_day:
                days.append({"date": day, "sessions": list(group)})
        all_days = [
            event.start_date + dt.timedelta(days=n)
            for n in range((event.end_date - event.start_date).days + 1)
        ]
        context = {
            "event": event,
            "days": days,
            "zone": zone,
            "all_days": all_days,
            "tracks": list(event.tracks.order_by("name")),
            "chosen_day": chosen_day,
            "chosen_track": track_id,
            "search": search,
            "filtered": bool(chosen_day or track_id or search),
            "ics_url": reverse("agenda:ics", args=[organisation_slug, event_slug]),
            "schedule_url": reverse("agenda:schedule", args=[organisation_slug, event_slug]),
            "schedule_xml_url": reverse(
                "agenda:schedule_xml", args=[organisation_slug, event_slug]
            ),
            "proposed_url": reverse("agenda:proposed", args=[organisation_slug, event_slug])
            if event.proposed_programme != ProposedProgramme.OFF
            else "",
            "stream_url": reverse("agenda:stream", args=[organisation_slug, event_slug])
            + "?"
            + urlencode({"last_id": str(cursor)}),
        }
        return render(request, "agenda/event.html", context)

    # The event's setting is not part of the agenda's version: the link to the proposed
    # programme is keyed by it.
    variant = "\x1f".join([str(chosen_day), str(track_id), search, event.proposed_programme])
    # A searched page is not kept: any text makes one, and they would crowd the cache.
    response = made_of_the_agenda(request, event, agenda_page, variant=variant, keep=not search)
    return framed_by_listed_sites(response, event)


@never_cache
def agenda_proposed(request, organisation_slug: str, event_slug: str):
    """The proposed programme (approved sessions not on the agenda yet), where the event
    shows it; with how many registrants are interested in each where it shows that too.
    Not kept by the agenda's version (which follows the live sessions): read each time."""
    event = event_or_404(organisation_slug, event_slug)
    if event.proposed_programme == ProposedProgramme.OFF:
        raise Http404("This event does not show its proposed programme.")
    context = {
        "event": event,
        "sessions": list(selectors.proposed_sessions(event)),
        "with_interest": event.proposed_programme == ProposedProgramme.INTEREST,
        "agenda_url": reverse("agenda:event", args=[organisation_slug, event_slug]),
    }
    response = render(request, "agenda/proposed.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


def agenda_session(request, organisation_slug: str, event_slug: str, pk: int):
    """A live session's own page: its ``direct_link``."""
    event = event_or_404(organisation_slug, event_slug)

    def session_page():
        session = _live(event).filter(pk=pk).first()
        if session is None:
            raise Http404("No such session on the agenda.")
        context = {
            "event": event,
            "session": session,
            "agenda_url": reverse("agenda:event", args=[organisation_slug, event_slug]),
        }
        return render(request, "agenda/session.html", context)

    return framed_by_listed_sites(
        made_of_the_agenda(request, event, session_page, variant=str(pk)), event
    )


def session_url(request, event: Event):
    def url_for(session) -> str:
        return request.build_absolute_uri(
            reverse("agenda:session", args=[event.organisation.slug, event.slug, session.pk])
        )

    return url_for


def agenda_ics(request, organisation_slug: str, event_slug: str):
    event = event_or_404(organisation_slug, event_slug)

    def calendar():
        body = feeds.event_calendar(event, _live(event), url_for=session_url(request, event))
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{event.slug}.ics"'
        return response

    return made_of_the_agenda(request, event, calendar)


def agenda_schedule(request, organisation_slug: str, event_slug: str):
    return _schedule(request, organisation_slug, event_slug, xml=False)


def agenda_schedule_xml(request, organisation_slug: str, event_slug: str):
    return _schedule(request, organisation_slug, event_slug, xml=True)


def _schedule(request, organisation_slug: str, event_slug: str, *, xml: bool):
    """schedule.json and schedule.xml: one document, in either form."""
    event = event_or_404(organisation_slug, event_slug)

    def schedule():
        sessions = list(_live(event))
        newest = max((s.updated_at for s in sessions), default=None)
        version = newest.strftime("%Y%m%dT%H%M%S.%f") if newest else "empty"
        document = feeds.schedule_document(
            event,
            sessions,
            agenda_url=request.build_absolute_uri(
                reverse("agenda:event", args=[organisation_slug, event_slug])
            ),
            url_for=session_url(request, event),
            version=version,
        )
        if xml:
            return HttpResponse(
                feeds.schedule_xml(document), content_type="application/xml; charset=utf-8"
            )
        return HttpResponse(
            json.dumps(document, ensure_ascii=False, indent=1),
            content_type="application/json; charset=utf-8",
        )

    return made_of_the_agenda(request, event, schedule, variant="xml" if xml else "")
