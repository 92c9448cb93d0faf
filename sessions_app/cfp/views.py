"""The call's page, the speakers' sign-in and their own page.

Every page works without JavaScript. A speaker is signed in by Django's session after a
one-time link (django-sesame); what they may see and do is what ``services.proposals``
gives them: their own proposals, nothing else.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from sessions_app import services, validators
from sessions_app.cfp import calendar
from sessions_app.cfp.forms import (
    AvailabilityForm,
    ProfileForm,
    ProposalFields,
    SignInForm,
    SubmitForm,
)
from sessions_app.cfp.guard import over_budget
from sessions_app.enums import NoticeKind, SessionStatus, SpeakerAnswer
from sessions_app.models import CallForProposals, Speaker, SpeakerAvailability, SpeakerPhoto
from sessions_app.notices import compose as notices
from sessions_app.services.proposals import own_proposal, speaker_rows
from sessions_app.wire.custom_fields import CUSTOM_PREFIX

# A service's field names → the form's.
FORM_FIELD = {"session_type_id": "session_type", "track_id": "track"}


def _call(organisation_slug: str, event_slug: str) -> CallForProposals:
    call = (
        CallForProposals.objects.select_related("event__organisation")
        .filter(event__organisation__slug=organisation_slug, event__slug=event_slug)
        .first()
    )
    if call is None:
        raise NoCall
    return call


class NoCall(Exception):
    """No such event, or one without a call: answered with a page that says so (404)."""


def with_call(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NoCall:
            return render(request, "cfp/no_call.html", status=404)

    return wrapped


def _local(call: CallForProposals, moment: dt.datetime) -> dt.datetime:
    zone = call.event.timezone
    if not validators.is_valid_timezone(zone):
        return moment
    return moment.astimezone(zoneinfo.ZoneInfo(zone))


def _errors_onto(form, exc: ValidationError) -> None:
    for field, errors in exc.update_error_dict({}).items():
        for error in errors:
            message = next(iter(error))
            target = FORM_FIELD.get(field, field)
            if field == "custom_fields":
                key = (error.params or {}).get("key", "")
                target = CUSTOM_PREFIX + key.removeprefix("c_")
            if target not in form.fields:
                target = None
            form.add_error(target, message)


def _too_many(request, wait: int, template: str, context: dict) -> HttpResponse:
    response = render(
        request,
        template,
        {**context, "throttled": wait},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


@with_call
@require_http_methods(["GET", "HEAD", "POST"])
def call_page(request, organisation_slug: str, event_slug: str):
    call = _call(organisation_slug, event_slug)
    event = call.event
    now = timezone.now()
    context = {
        "call": call,
        "event": event,
        "opens": _local(call, call.opens_at),
        "closes": _local(call, call.closes_at),
        "state": "open" if call.is_open(now) else ("early" if now < call.opens_at else "closed"),
    }
    if context["state"] != "open":
        status = 403 if request.method == "POST" else 200
        return render(request, "cfp/call.html", context, status=status)
    if request.method != "POST":
        return render(request, "cfp/call.html", {**context, "form": SubmitForm(call=call)})
    form = SubmitForm(request.POST, call=call)
    if form.robot():
        form.is_valid()
        form.add_error(None, "We could not take this form: please send it again.")
        return render(request, "cfp/call.html", {**context, "form": form}, status=400)
    wait = over_budget(request, "submit", request.POST.get("email", "")[:254])
    if wait:
        return _too_many(request, wait, "cfp/call.html", {**context, "form": form})
    if form.is_valid():
        try:
            with transaction.atomic():
                session, speaker, invited = services.proposal_submit(
                    call=call,
                    email=form.cleaned_data["email"],
                    profile=form.profile(),
                    data=form.proposal_data(),
                    co_speakers=form.co_speaker_list(),
                )
                notices.to_speaker(NoticeKind.SPEAKER_RECEIVED, speaker, session=session)
                for other in invited:
                    notices.to_speaker(
                        NoticeKind.SPEAKER_INVITED,
                        other,
                        session=session,
                        context={"inviter": speaker.full_name},
                    )
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            return redirect("cfp:received", organisation_slug, event_slug)
    return render(request, "cfp/call.html", {**context, "form": form}, status=422)


@with_call
def received(request, organisation_slug: str, event_slug: str):
    call = _call(organisation_slug, event_slug)
    return render(request, "cfp/received.html", {"call": call, "event": call.event})


# --- signing in ---------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request):
    if request.method != "POST":
        return render(request, "cfp/sign_in.html", {"form": SignInForm()})
    form = SignInForm(request.POST)
    if form.robot():
        form.is_valid()
        form.add_error(None, "We could not take this form: please send it again.")
        return render(request, "cfp/sign_in.html", {"form": form}, status=400)
    wait = over_budget(request, "sign_in", request.POST.get("email", "")[:254])
    if wait:
        return _too_many(request, wait, "cfp/sign_in.html", {"form": form})
    if not form.is_valid():
        return render(request, "cfp/sign_in.html", {"form": form}, status=422)
    email = form.cleaned_data["email"]
    # The same answer whether or not the address is known: nobody learns who speaks.
    speaker = (
        Speaker.objects.filter(email__iexact=email.strip()).order_by("-updated_at", "-pk").first()
    )
    if speaker is not None:
        try:
            with transaction.atomic():
                services.proposals.speaker_account(speaker.email)
                notices.sign_in_link(speaker)
        except ValidationError:
            pass  # a staff account's address: no link, and the same answer
    return redirect("cfp:sign-in-sent")


def sign_in_sent(request):
    return render(request, "cfp/sign_in_sent.html", {"minutes": settings.SESAME_MAX_AGE // 60})


@require_http_methods(["GET", "HEAD", "POST"])
def sign_in_link(request):
    """The emailed link. A GET only shows a button: mail scanners that open links must
    not use up a one-time link; the POST signs in."""
    token = request.GET.get("sesame", "")[:500]
    if request.method != "POST":
        return render(request, "cfp/sign_in_link.html", {"token": token})
    token = request.POST.get("sesame", "")[:500]
    user = authenticate(request, sesame=token) if token else None
    if user is None or user.is_staff:
        return render(request, "cfp/sign_in_link.html", {"expired": True}, status=400)
    login(request, user, backend="sesame.backends.ModelBackend")
    return redirect("cfp:home")


@require_POST
def sign_out(request):
    logout(request)
    return redirect("cfp:sign-in")


def speaker_required(view):
    @functools.wraps(view)
    @never_cache
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('cfp:sign-in')}?next={request.path}")
        if user.is_staff:
            return render(request, "cfp/staff.html", status=403)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            return render(request, "cfp/not_yours.html", status=404)

    return wrapped


# --- the speaker's page ---------------------------------------------------------------------


def _actions(session) -> dict[str, bool]:
    status = session.session_status
    call = getattr(session.event, "call", None)
    return {
        "edit": status == SessionStatus.SUBMITTED or bool(call and call.open_after),
        "withdraw": status in (SessionStatus.SUBMITTED, SessionStatus.APPROVED),
        "answer": status in (SessionStatus.APPROVED, SessionStatus.CONVERTED, SessionStatus.LIVE),
    }


@speaker_required
def home(request):
    rows = {s.pk: s for s in speaker_rows(request.user)}
    proposals = []
    for session in services.proposals_of(request.user):
        mine = next((pk for pk in session.speaker_ids or [] if pk in rows), None)
        answer = (session.speaker_confirmations or {}).get(str(mine), "unconfirmed")
        proposals.append(
            {
                "session": session,
                "event": session.event,
                "answer": answer,
                "actions": _actions(session),
                "published": session.session_status == SessionStatus.LIVE,
                "starts": session.in_effective_zone(session.starts_at),
                "ends": session.in_effective_zone(session.ends_at),
            }
        )
    return render(
        request,
        "cfp/home.html",
        {
            "proposals": proposals,
            "feed": request.build_absolute_uri(
                reverse("cfp:calendar", args=[calendar.feed_token(request.user)])
            ),
            "done": request.GET.get("done", "")[:40],
        },
    )


@speaker_required
@require_http_methods(["GET", "HEAD", "POST"])
def proposal(request, pk: int):
    session, _speaker = own_proposal(request.user, pk)
    call = getattr(session.event, "call", None)
    if call is None:
        call = CallForProposals(event=session.event, abstract_max=validators.TEXTAREA_MAX)
    actions = _actions(session)
    form = ProposalFields(request.POST or None, call=call, session=session)
    if session.session_status != SessionStatus.SUBMITTED:
        open_after = set(call.open_after or [])
        for name in list(form.fields):
            if name not in open_after:
                form.fields[name].disabled = True
    context = {"session": session, "event": session.event, "form": form, "actions": actions}
    if request.method != "POST" or not actions["edit"]:
        return render(request, "cfp/proposal.html", context)
    if form.is_valid():
        data = form.proposal_data()
        if session.session_status != SessionStatus.SUBMITTED:
            data = {k: v for k, v in data.items() if k in set(call.open_after or [])}
        try:
            services.proposal_edit(user=request.user, session_id=session.pk, data=data)
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            return redirect(f"{reverse('cfp:home')}?done=saved")
    return render(request, "cfp/proposal.html", context, status=422)


@speaker_required
@require_POST
def withdraw(request, pk: int):
    try:
        services.proposal_withdraw(
            user=request.user, session_id=pk, note=request.POST.get("note", "")[:1000]
        )
    except ValidationError:
        return redirect(f"{reverse('cfp:home')}?done=refused")
    return redirect(f"{reverse('cfp:home')}?done=withdrawn")


@speaker_required
@require_POST
def answer(request, pk: int):
    choice = request.POST.get("answer", "")
    if choice not in SpeakerAnswer.values:
        return redirect(f"{reverse('cfp:home')}?done=refused")
    try:
        services.speaker_answer(
            user=request.user,
            session_id=pk,
            answer=choice,
            note=request.POST.get("note", "")[:1000],
        )
    except ValidationError:
        return redirect(f"{reverse('cfp:home')}?done=refused")
    return redirect(f"{reverse('cfp:home')}?done={choice}")


@speaker_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    rows = list(speaker_rows(request.user).select_related("event").order_by("-pk"))
    latest = rows[0] if rows else None
    initial = {}
    if latest is not None:
        initial = {
            name: getattr(latest, name)
            for name in ("first_name", "last_name", "company", "job_title", "bio", "links")
        }
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    context = {
        "form": form,
        "speaker": latest,
        "has_photo": latest is not None and SpeakerPhoto.objects.filter(speaker=latest).exists(),
        "events": _availability_forms(rows),
    }
    if request.method != "POST":
        return render(request, "cfp/profile.html", context)
    upload = request.FILES.get("photo")
    if upload is not None and upload.size > services.proposals.PHOTO_MAX_BYTES:
        form.is_valid()
        form.add_error(
            "photo",
            f"The photo is {upload.size / 1024 / 1024:.1f} MB; send at most "
            f"{services.proposals.PHOTO_MAX_BYTES // 1024 // 1024} MB.",
        )
        return render(request, "cfp/profile.html", context, status=422)
    if form.is_valid():
        try:
            services.speaker_profile_update(
                user=request.user,
                data=form.profile_data(),
                photo=upload.read() if upload is not None else None,
                remove_photo=form.cleaned_data.get("remove_photo", False),
            )
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            return redirect(f"{reverse('cfp:home')}?done=profile")
    return render(request, "cfp/profile.html", context, status=422)


def _availability_forms(rows: list[Speaker]) -> list[dict]:
    by_event = {}
    for row in rows:
        by_event.setdefault(row.event_id, row)
    windows = {}
    for window in SpeakerAvailability.objects.filter(speaker__in=by_event.values()).order_by(
        "starts_at"
    ):
        windows.setdefault(window.speaker_id, []).append(window)
    forms = []
    for row in by_event.values():
        zone = (
            zoneinfo.ZoneInfo(row.event.timezone)
            if validators.is_valid_timezone(row.event.timezone)
            else dt.UTC
        )
        lines = [
            f"{w.starts_at.astimezone(zone):%Y-%m-%d %H:%M}-{w.ends_at.astimezone(zone):%H:%M}"
            for w in windows.get(row.pk, [])
        ]
        forms.append(
            {
                "speaker": row,
                "form": AvailabilityForm(
                    initial={"windows": "\n".join(lines)}, prefix=f"e{row.pk}"
                ),
            }
        )
    return forms


def parse_windows(text: str, zone_name: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """``2027-03-10 09:00-17:00`` a line, in the event's zone; ValidationError otherwise."""
    zone = zoneinfo.ZoneInfo(zone_name) if validators.is_valid_timezone(zone_name) else dt.UTC
    windows = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            day, _, hours = line.partition(" ")
            start, _, end = hours.strip().partition("-")
            date = dt.date.fromisoformat(day)
            starts = dt.datetime.combine(date, dt.time.fromisoformat(start.strip()), tzinfo=zone)
            ends = dt.datetime.combine(date, dt.time.fromisoformat(end.strip()), tzinfo=zone)
        except ValueError:
            raise ValidationError(
                {
                    "windows": ValidationError(
                        f"Line {number}: write it as 2027-03-10 09:00-17:00.", code="invalid"
                    )
                }
            ) from None
        windows.append((starts, ends))
    if len(windows) > 50:
        raise ValidationError({"windows": ValidationError("Give at most 50 times.")})
    return windows


@speaker_required
@require_POST
def availability(request, speaker_id: int):
    row = speaker_rows(request.user).select_related("event").filter(pk=speaker_id).first()
    if row is None:
        raise PermissionDenied
    form = AvailabilityForm(request.POST, prefix=f"e{row.pk}")
    if form.is_valid():
        try:
            windows = parse_windows(form.cleaned_data["windows"], row.event.timezone)
            services.speaker_update(speaker_id=row.pk, data={}, availability=windows)
        except ValidationError as exc:
            messages = [m for errors in exc.message_dict.values() for m in errors]
            return render(
                request,
                "cfp/availability_refused.html",
                {"speaker": row, "messages": messages},
                status=422,
            )
    return redirect(f"{reverse('cfp:home')}?done=availability")


@speaker_required
def photo(request, speaker_id: int):
    row = SpeakerPhoto.objects.filter(
        speaker__in=speaker_rows(request.user), speaker_id=speaker_id
    ).first()
    if row is None:
        raise PermissionDenied
    response = HttpResponse(bytes(row.content), content_type=row.content_type)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def calendar_feed(request, token: str):
    try:
        user = calendar.user_of(token)
    except signing.BadSignature:
        raise Http404("No such calendar.") from None
    body = calendar.ical(user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
