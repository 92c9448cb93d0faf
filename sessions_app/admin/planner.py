"""The schedule grid as an editor: what a drop, a resize, a key press or an undo sends.

Every change is one call to ``services.session_update`` with the version the grid was
drawn from (``expected_version``), exactly as the session form and the API write: the same
rules, locks and one history entry per drop. The grid polls ``state`` (an ETag of the
day's sessions, rooms and tracks) to show other people's changes without a reload.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.http import quote_etag

from sessions_app import selectors, services
from sessions_app.admin.scoping import events_for
from sessions_app.enums import SessionStatus
from sessions_app.exceptions import StaleVersionError
from sessions_app.models import Event, Location, Session, Track
from sessions_app.validators import ascii_int, date_or_none

_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])\Z")
MAX_BODY = 4096


def _problem(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"message": message, **extra}, status=status)


def _time(raw) -> dt.time:
    if not isinstance(raw, str) or not _TIME.match(raw):
        raise ValueError
    return dt.time(int(raw[:2]), int(raw[3:5]))


def _move_data(body: dict, session: Session) -> dict:
    """What the drop (or the pin key) asks for, as the service's typed data."""
    if "pinned" in body:
        if type(body["pinned"]) is not bool:
            raise ValueError
        return {"pinned": body["pinned"]}
    if body.get("unschedule") is True:
        return {"date": None, "start_time": None, "end_time": None}
    data = {}
    if "location_id" in body:
        location_id = body["location_id"]
        if location_id is not None and (
            type(location_id) is not int or not 0 < location_id < 2**63
        ):
            raise ValueError
        data["location_id"] = location_id
    data["date"] = dt.date.fromisoformat(body["date"])
    data["start_time"] = _time(body["start_time"])
    data["end_time"] = _time(body["end_time"])
    return data


def _sentence(exc: ValidationError) -> str:
    return " ".join(message for messages in exc.message_dict.values() for message in messages)


def move_view(model_admin, request):
    """POST JSON ``{"id", "version", "date", "start_time", "end_time", "location_id"}``,
    ``{"id", "version", "unschedule": true}`` or ``{"id", "version", "pinned": bool}``: 200
    with the session's new state, 409 or 422 with the rule that refused it, 412 when the
    grid was stale."""
    if len(request.body) > MAX_BODY:
        return _problem(413, "The request is too large.")
    try:
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise ValueError
        session_id, version = body["id"], body["version"]
        if type(session_id) is not int or type(version) is not int or session_id < 1:
            raise ValueError
        if not 0 < version < 2**31:
            raise ValueError
    except (ValueError, KeyError, UnicodeDecodeError):
        return _problem(400, "Send the session's id and the version the grid shows.")
    session = (
        model_admin.get_queryset(request).filter(pk=session_id).select_related("event").first()
        if session_id < 2**63
        else None
    )
    if session is None:
        raise Http404("No such session.")
    if not model_admin.has_change_permission(request, session):
        raise PermissionDenied
    try:
        data = _move_data(body, session)
    except (ValueError, KeyError, TypeError):
        return _problem(
            400, "Send a date (YYYY-MM-DD) and times (HH:MM), unschedule, or pinned (true/false)."
        )
    try:
        saved = services.session_update(
            session_id=session.pk,
            data=data,
            actor=services.Actor(user=request.user),
            expected_version=version,
            note="Schedule grid",
        )
    except StaleVersionError as exc:
        return _problem(
            412,
            "Someone else changed this session since the grid was drawn; it has been "
            "redrawn. Try again if you still want the move.",
            version=exc.current,
        )
    except ValidationError as exc:
        codes = {e.code for errors in exc.error_dict.values() for e in errors}
        status = 409 if codes & {"conflict", "invalid_transition"} else 422
        return _problem(status, _sentence(exc))
    return JsonResponse(
        {
            "id": saved.pk,
            "version": saved.version,
            "location_id": saved.location_id,
            "date": saved.date.isoformat() if saved.date else None,
            "start_time": saved.start_time.strftime("%H:%M") if saved.start_time else None,
            "end_time": saved.end_time.strftime("%H:%M") if saved.end_time else None,
            "pinned": saved.pinned,
        }
    )


def state_view(model_admin, request):
    """An ETag of what the grid of ``event`` and ``day`` is made of (its sessions, the
    unscheduled ones, the event's rooms and tracks, each row whole), 304 while it stands:
    one query a poll. A room renamed or added by someone else redraws the grid too."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    event_id = ascii_int(request.GET.get("event"))
    event = events_for(request).filter(pk=event_id).first() if event_id else None
    if event is None:
        raise Http404("No such event.")
    day = date_or_none(request.GET.get("day"))
    if day is None:
        return _problem(400, "Send the day as YYYY-MM-DD.")
    zone = zoneinfo.ZoneInfo(event.timezone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    digest = selectors.rows_digest(
        Session.objects.filter(event=event)
        .filter(
            Q(starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=1))
            | Q(starts_at__isnull=True)
        )
        .exclude(session_status=SessionStatus.REJECTED),
        Location.objects.filter(event=event),
        Track.objects.filter(event=event),
    )
    etag = quote_etag(digest)
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse({"state": digest})
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


def unscheduled(event: Event):
    """The event's sessions without a slot, for the grid's side list (rejected ones left out)."""
    return (
        Session.objects.filter(event=event, starts_at__isnull=True)
        .exclude(session_status=SessionStatus.REJECTED)
        .select_related("track")
        .order_by("name", "id")
    )
