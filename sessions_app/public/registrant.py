"""The registrant's own page (their ``selection_url``): pick sessions by the event's rules.

No login: the unguessable link is the key (``Registrant.page_token``), and the page shows
only that registrant's own seats. Every change is a call to ``services.attendance``, the
same code as the API and the admin.
"""

from __future__ import annotations

import zoneinfo
from itertools import groupby

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sessions_app import selectors, services
from sessions_app.enums import InterestOnPublish, ProposedProgramme, SelectionControl
from sessions_app.models import Registrant, Selection, SelectionState
from sessions_app.validators import ascii_int

app_name = "attend"


def _registrant(pk: int, token: str) -> Registrant:
    registrant = Registrant.objects.select_related("event__organisation").filter(pk=pk).first()
    if registrant is None or not registrant.page_token_matches(token):
        raise Http404("No such page.")
    return registrant


def _ids(values: list[str]) -> set[int]:
    return {number for number in map(ascii_int, values) if number is not None}


def _overlaps(session, others) -> list:
    return [
        other for other in others if other.pk != session.pk and selectors.overlap(session, other)
    ]


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def page(request, pk: int, token: str):
    registrant = _registrant(pk, token)
    if request.method == "POST":
        return _save(request, registrant)
    event = registrant.event
    sessions = list(selectors.agenda_sessions(event))
    held = {
        s.session_id: s
        for s in selectors.with_waitlist_position(Selection.objects.filter(registrant=registrant))
    }
    reports = {}
    for message in messages.get_messages(request):
        reports.setdefault(message.extra_tags, []).append(message)
    first_visit = registrant.page_saved_at is None
    held_sessions = [s for s in sessions if s.pk in held]
    zone = zoneinfo.ZoneInfo(event.timezone)
    rows = []
    for session in sessions:
        selection = held.get(session.pk)
        state = selection.state if selection else None
        seated = state == SelectionState.SELECTED
        included = session.selection_control == SelectionControl.INCLUDED
        fixed = seated and (included or session.locked_when_saved)
        if seated:
            why = (
                "Included for everyone."
                if included
                else ("Locked once saved." if session.locked_when_saved else "")
            )
        else:
            why = ""
        overlapping = _overlaps(session, held_sessions)
        if state is None:
            blocking = [
                o
                for o in overlapping
                if o.prevent_session_conflicts or session.prevent_session_conflicts
            ]
        else:
            blocking = []
        rows.append(
            {
                "session": session,
                "state": state,
                "position": selection.waitlist_position if selection else None,
                "checked": seated
                or (first_visit and state is None and session.selected_by_default),
                "editable": state != SelectionState.WAITLISTED
                and not fixed
                and not (state is None and (session.is_sold_out or blocking)),
                "fixed_reason": why,
                "can_wait": state is None and session.is_sold_out and not blocking,
                "blocking": blocking,
                "overlapping": overlapping if state is not None else [],
                "reports": reports.get(f"session-{session.pk}", []),
            }
        )
    days = [
        {"date": day, "rows": list(group)}
        for day, group in groupby(
            [r for r in rows if r["session"].starts_at is not None],
            key=lambda r: r["session"].starts_at.astimezone(zone).date(),
        )
    ]
    # Before the schedule exists: the approved sessions, to mark interest in.
    proposed = []
    if event.proposed_programme == ProposedProgramme.INTEREST:
        for session in selectors.proposed_sessions(event):
            selection = held.get(session.pk)
            proposed.append(
                {
                    "session": session,
                    "state": selection.state if selection else None,
                    "reports": reports.get(f"session-{session.pk}", []),
                }
            )
    context = {
        "registrant": registrant,
        "event": event,
        "days": days,
        "proposed": proposed,
        "seats_on_publish": event.interest_on_publish == InterestOnPublish.SEAT,
        "first_visit": first_visit,
        "general": reports.get("general", []),
        "notices_reports": reports.get("notices", []),
    }
    response = render(request, "attend/page.html", context)
    # The link is the key: never send it to another site (same-origin keeps the Origin
    # header that CSRF checks; no-referrer would make form posts "Origin: null").
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _save(request, registrant: Registrant):
    actor = services.Actor(registrant=registrant)
    post = request.POST
    outcomes: list[tuple[int, bool, str]] = []
    if post.get("waitlist"):
        (session_id,) = _ids([post["waitlist"]]) or {0}
        try:
            result = services.selection_add(
                registrant_id=registrant.pk, session_id=session_id, actor=actor, waitlist=True
            )
            seated = result.selection.state == SelectionState.SELECTED
            outcomes.append(
                (session_id, True, "You have a seat." if seated else "You are on the waitlist.")
            )
        except ValidationError as exc:
            outcomes.append((session_id, False, _sentence(exc)))
    if post.get("leave"):
        (session_id,) = _ids([post["leave"]]) or {0}
        try:
            services.selection_remove(
                registrant_id=registrant.pk, session_id=session_id, actor=actor
            )
            outcomes.append((session_id, True, "You left the waitlist."))
        except ValidationError as exc:
            outcomes.append((session_id, False, _sentence(exc)))
        except Selection.DoesNotExist:
            pass
    # The ticks are saved whichever button was pressed, so none is lost.
    for outcome in services.registrant_save_page(
        registrant=registrant,
        wanted=_ids(post.getlist("session")),
        shown=_ids(post.getlist("shown")),
    ):
        outcomes.append((outcome.session.pk, outcome.ok, outcome.message))
    if not outcomes:
        messages.info(request, "Nothing to change.", extra_tags="general")
    for session_id, ok, text in outcomes:
        level = messages.SUCCESS if ok else messages.ERROR
        messages.add_message(request, level, text, extra_tags=f"session-{session_id}")
    return HttpResponseRedirect(registrant.get_selection_path())


def _sentence(exc) -> str:
    return " ".join(m for errors in exc.message_dict.values() for m in errors)


@csrf_exempt  # the page's key is in the address; mail clients post here (RFC 8058)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def notices(request, pk: int, token: str):
    """Stop (or resume) the registrant's notices: the page's switch, and the one-click
    ``List-Unsubscribe`` of every message sent to them."""
    registrant = _registrant(pk, token)
    if request.method == "POST":
        wanted = request.POST.get("notices")
        off = wanted != "on"  # the one-click body, or "off"
        if registrant.notices_off != off:
            Registrant.objects.filter(pk=registrant.pk).update(notices_off=off)
        messages.success(
            request,
            "You will get no more messages about this event."
            if off
            else "You will get messages about your sessions again.",
            extra_tags="notices",
        )
    return HttpResponseRedirect(registrant.get_selection_path() + "#notices")


urlpatterns = [
    path("<int:pk>/<str:token>/", page, name="page"),
    path("<int:pk>/<str:token>/notices/", notices, name="notices"),
]
