"""Proposals from speakers: a call's submissions, and what a speaker may do with their own.

A proposal is a session (status ``submitted``) written by ``session_create`` with the
speaker's account as the actor, so its rules, history, webhooks and live views are those of
every other write. A speaker is a person by email address: one account
(``speaker_account``) and, in each event they speak at, a ``Speaker`` row with that address.
They may act only on sessions that name one of their rows.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from sessions_app import validators
from sessions_app.enums import SessionStatus, SpeakerAnswer
from sessions_app.models import CallForProposals, Session, Speaker, SpeakerPhoto
from sessions_app.models.people import PHOTO_MAX_BYTES
from sessions_app.services import reviews as review_services
from sessions_app.services import sessions as session_services
from sessions_app.services import speakers as speaker_services
from sessions_app.services.actors import Actor

# What a speaker writes of a proposal, besides its speakers.
PROPOSAL_FIELDS = frozenset({"name", "description", "session_type_id", "track_id", "custom_fields"})
PROFILE_FIELDS = frozenset({"first_name", "last_name", "company", "job_title", "bio", "links"})
CO_SPEAKERS_MAX = 4
LINKS_MAX_COUNT = 5
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
PHOTO_MAX_PIXELS = 4096


def _refuse(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def normal_email(email: str) -> str:
    return email.strip().lower()


def speaker_account(email: str):
    """The account of the person with this address (made on first use), never a staff one."""
    User = get_user_model()
    email = normal_email(email)
    found = User.objects.filter(email__iexact=email).order_by("pk").first()
    if found is not None:
        if found.is_staff:
            raise _refuse(
                "email",
                "This address belongs to a staff account: propose with another address.",
                "staff_address",
            )
        return found
    user = User(username=email[:150], email=email, is_staff=False)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the same address, made by a concurrent submission
        return User.objects.get(email__iexact=email, is_staff=False)
    return user


def speaker_rows(user) -> QuerySet:
    """The person's speaker rows in every event of every organisation."""
    if not user.is_authenticated or user.is_staff or not user.email:
        return Speaker.objects.none()
    return Speaker.objects.filter(email__iexact=user.email)


def proposals_of(user) -> QuerySet:
    """Every session that names one of the person's speaker rows."""
    rows = list(speaker_rows(user).values_list("pk", flat=True))
    return (
        Session.objects.filter(speaker_links__speaker_id__in=rows)
        .select_related("event__organisation", "event__call", "track", "location", "session_type")
        .distinct()
        .order_by("-created_at", "-id")
    )


def own_proposal(user, session_id: int, *, lock: bool = False) -> tuple[Session, Speaker]:
    """The session and the person's speaker row in it; PermissionDenied when it is not theirs
    (the same answer whether it exists or not)."""
    rows = {s.pk: s for s in speaker_rows(user)}
    sessions = Session.objects.select_related("event__call")
    if lock:
        sessions = sessions.select_for_update(of=("self",), no_key=True)
    session = sessions.filter(pk=session_id, speaker_links__speaker_id__in=list(rows)).first()
    if session is None:
        raise PermissionDenied("Not a proposal of yours.")
    speaker = next(rows[pk] for pk in session.speaker_ids or [] if pk in rows)
    return session, speaker


def _event_speaker(event_id: int, email: str, profile: Mapping[str, Any]) -> Speaker:
    """The person's speaker row in the event, made (with ``profile``) if they have none."""
    found = Speaker.objects.filter(event_id=event_id, email__iexact=email).order_by("pk").first()
    if found is not None:
        return found
    data = {key: value for key, value in profile.items() if key in PROFILE_FIELDS}
    data.setdefault("first_name", email.partition("@")[0][:100])
    return speaker_services.speaker_create(event_id=event_id, data={**data, "email": email})


def check_abstract(call: CallForProposals, text: str) -> None:
    length = len(text)
    if length < call.abstract_min:
        raise _refuse(
            "description",
            f"Write at least {call.abstract_min} characters (this has {length}).",
            "too_short",
        )
    if length > call.abstract_max:
        raise _refuse(
            "description",
            f"Write at most {call.abstract_max} characters (this has {length}).",
            "too_long",
        )


def _check_choices(
    call: CallForProposals, data: Mapping[str, Any], *, stored: Mapping[str, Any] | None = None
) -> None:
    """The type and track among the call's (where sent), answers only to the questions
    asked (the call's and those the event requires), each required one answered (merged
    with the ``stored`` answers on an edit)."""
    types = {t.pk for t in call.session_types.all()}
    tracks = {t.pk for t in call.tracks.all()}
    if "session_type_id" in data or stored is None:
        if types and data.get("session_type_id") not in types:
            raise _refuse("session_type_id", "Choose one of the session types.", "required")
        if not types and data.get("session_type_id") is not None:
            raise _refuse("session_type_id", "This call has no session types.", "invalid")
    if "track_id" in data or stored is None:
        if tracks and data.get("track_id") not in tracks:
            raise _refuse("track_id", "Choose one of the tracks.", "required")
        if not tracks and data.get("track_id") is not None:
            raise _refuse("track_id", "This call has no tracks to choose.", "invalid")
    event_required = set(
        call.event.custom_fields.filter(required=True).values_list("pk", flat=True)
    )
    asked = {f.key for f in call.fields.all()} | {f"c_{pk}" for pk in event_required}
    required = {f.key for f in call.required_fields.all()} | {f"c_{pk}" for pk in event_required}
    sent = data.get("custom_fields") or {}
    if set(sent) - asked:
        raise _refuse("custom_fields", "Answer only the questions asked.", "unknown_field")
    values = {**(stored or {}), **sent}
    missing = sorted(key for key in required & asked if values.get(key) in (None, "", []))
    if missing:
        raise ValidationError(
            {
                "custom_fields": ValidationError(
                    "This question needs an answer.", code="required", params={"key": missing[0]}
                )
            }
        )


def proposal_submit(
    *,
    call: CallForProposals,
    email: str,
    profile: Mapping[str, Any],
    data: Mapping[str, Any],
    co_speakers: list[str],
) -> tuple[Session, Speaker, list[Speaker]]:
    """A proposal to ``call`` from the person with ``email``, with ``co_speakers`` (addresses).

    Side effects, in order: refuses a closed call (``call_closed``), an abstract outside the
    call's limits, a type, track or answer the call does not offer; makes the person's
    account and speaker row (and the co-speakers' rows) where they have none; writes the
    session through ``session_create`` (status submitted, actor: the speaker's account),
    which records and announces it. Returns the session, the speaker and the co-speakers.
    """
    email = normal_email(email)
    validators.validate_email_address(email=email)
    if not call.is_open():
        raise _refuse("__all__", "This call for proposals is closed.", "call_closed")
    unknown = set(data) - PROPOSAL_FIELDS
    if unknown:
        raise TypeError(f"Not proposal fields: {', '.join(sorted(unknown))}")
    check_abstract(call, data.get("description", ""))
    _check_choices(call, data)
    others = []
    for address in co_speakers:
        address = normal_email(address)
        validators.validate_email_address(email=address, field="co_speakers")
        if address != email and address not in others:
            others.append(address)
    if len(others) > CO_SPEAKERS_MAX:
        raise _refuse("co_speakers", f"Name at most {CO_SPEAKERS_MAX} co-speakers.", "too_many")
    with transaction.atomic():
        user = speaker_account(email)
        accounts = [user, *(speaker_account(address) for address in others)]
        # One person's submissions queue up behind each other (two at once would both
        # find no speaker row in the event and make two).
        list(
            get_user_model()
            .objects.select_for_update(no_key=True)
            .filter(pk__in=[a.pk for a in accounts])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        speaker = _event_speaker(call.event_id, email, profile)
        invited = [_event_speaker(call.event_id, address, {}) for address in others]
        session = session_services.session_create(
            event=call.event,
            data={
                **data,
                "session_status": SessionStatus.SUBMITTED,
                "speaker_ids": [speaker.pk, *(s.pk for s in invited)],
            },
            actor=Actor(user=user),
        )
        # Reviewers of the event's committee, if it has one, as soon as it arrives.
        review_services.assign_new_proposal(session)
    return session, speaker, invited


def proposal_edit(*, user, session_id: int, data: Mapping[str, Any]) -> Session:
    """The speaker's change of their proposal: anything asked while it is submitted, the
    call's ``open_after`` fields once it is decided (``locked`` otherwise)."""
    with transaction.atomic():
        session, _speaker = own_proposal(user, session_id, lock=True)
        call = getattr(session.event, "call", None)
        if session.session_status != SessionStatus.SUBMITTED:
            open_after = set(call.open_after if call else [])
            changed = {k for k, v in data.items() if getattr(session, k, None) != v}
            if not changed <= open_after:
                raise _refuse(
                    "__all__",
                    "This proposal is decided: only the organisers can change it now.",
                    "locked",
                )
        if call is not None and "description" in data:
            check_abstract(call, data["description"])
        if call is not None and session.session_status == SessionStatus.SUBMITTED:
            _check_choices(call, data, stored=session.custom_fields or {})
        return session_services.session_update(
            session_id=session.pk, data=data, actor=Actor(user=user)
        )


def proposal_withdraw(*, user, session_id: int, note: str = "") -> Session:
    """Withdraw a proposal (submitted or approved): a status move the history records."""
    with transaction.atomic():
        session, _speaker = own_proposal(user, session_id, lock=True)
        if session.session_status not in (SessionStatus.SUBMITTED, SessionStatus.APPROVED):
            raise _refuse(
                "__all__", "Only a proposal under review or approved can be withdrawn.", "locked"
            )
        return session_services.session_set_status(
            session_id=session.pk,
            status=SessionStatus.WITHDRAWN,
            actor=Actor(user=user),
            note=note or "Withdrawn by the speaker.",
        )


def speaker_answer(*, user, session_id: int, answer: str, note: str = "") -> Session:
    """A speaker says whether they will come to their approved session.

    Side effects: the answer in ``speaker_confirmations`` (history action
    ``session.speaker.answer``, announced like every change); the last speaker's decline
    also withdraws the session (status withdrawn, with the note), which the organisers see
    in its history.
    """
    if answer not in SpeakerAnswer.values:
        raise _refuse("answer", "Answer confirmed or declined.", "invalid_choice")
    with transaction.atomic():
        session, speaker = own_proposal(user, session_id, lock=True)
        if session.session_status not in (
            SessionStatus.APPROVED,
            SessionStatus.CONVERTED,
            SessionStatus.LIVE,
        ):
            raise _refuse("answer", "You can answer once the session is approved.", "not_approved")
        answers = {**(session.speaker_confirmations or {}), str(speaker.pk): answer}
        data: dict[str, Any] = {"speaker_confirmations": answers}
        # The session goes on while one of its speakers still may come; once every one of
        # them has declined, it is withdrawn.
        everyone_declined = all(
            answers.get(str(pk)) == SpeakerAnswer.DECLINED for pk in session.speaker_ids or []
        )
        if everyone_declined and session.session_status == SessionStatus.APPROVED:
            data["session_status"] = SessionStatus.WITHDRAWN
        return session_services.session_answer(
            session_id=session.pk,
            data=data,
            actor=Actor(user=user),
            note=note or f"{speaker.full_name} {answer}.",
        )


def _links(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > LINKS_MAX_COUNT:
        raise _refuse("links", f"Give at most {LINKS_MAX_COUNT} links.", "too_many")
    for line in lines:
        if len(line) > 500 or not validators.is_http_url(line):
            raise _refuse("links", f"{line[:60]!r} is not an http or https address.", "invalid_url")
    return "\n".join(lines)


def read_photo(content: bytes) -> str:
    """The photo's content type; ValidationError unless it is a JPEG, PNG or WebP image of
    at most ``PHOTO_MAX_BYTES`` and ``PHOTO_MAX_PIXELS`` a side."""
    if len(content) > PHOTO_MAX_BYTES:
        raise _refuse(
            "photo",
            f"The photo is {len(content) / 1024 / 1024:.1f} MB; send at most "
            f"{PHOTO_MAX_BYTES // 1024 // 1024} MB.",
            "too_large",
        )
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _refuse(
            "photo", "The photo is not an image we can read: send a JPEG, PNG or WebP.", "invalid"
        ) from None
    if kind not in PHOTO_TYPES:
        raise _refuse("photo", "Send the photo as a JPEG, PNG or WebP image.", "invalid_type")
    if max(width, height) > PHOTO_MAX_PIXELS:
        raise _refuse(
            "photo",
            f"The photo is {width} by {height} pixels; send at most {PHOTO_MAX_PIXELS} a side.",
            "too_large",
        )
    return PHOTO_TYPES[kind]


def speaker_profile_update(
    *, user, data: Mapping[str, Any], photo: bytes | None = None, remove_photo: bool = False
) -> int:
    """The person's profile, on each of their speaker rows (every event they speak at).

    Everything is checked before anything is written; returns how many rows changed.
    """
    unknown = set(data) - PROFILE_FIELDS
    if unknown:
        raise TypeError(f"Not profile fields: {', '.join(sorted(unknown))}")
    values = dict(data)
    if "links" in values:
        values["links"] = _links(values["links"])
    photo_type = read_photo(photo) if photo else None
    with transaction.atomic():
        rows = list(speaker_rows(user).select_for_update(no_key=True).order_by("pk"))
        for row in rows:
            speaker_services.speaker_update(
                speaker_id=row.pk,
                data={k: v for k, v in values.items() if k != "links"},
            )
            if "links" in values:
                Speaker.objects.filter(pk=row.pk).update(links=values["links"])
            if photo_type is not None:
                SpeakerPhoto.objects.update_or_create(
                    speaker=row,
                    defaults={
                        "content": photo,
                        "content_type": photo_type,
                        "updated_at": timezone.now(),
                    },
                )
            elif remove_photo:
                SpeakerPhoto.objects.filter(speaker=row).delete()
    return len(rows)
