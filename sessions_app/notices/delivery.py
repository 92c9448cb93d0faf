"""Sending a message: one task per attempt, run by the worker, through Django's email
framework (SMTP from the environment; the console under ``make run``).

Each attempt takes a lease on the message (state "sending") and commits it before it talks
to the mail server, then records the answer. A worker that dies between the two leaves the
lease to lapse; ``recover_lost_sends`` queues the message again. That is at-least-once: the
mail server may have taken the first try, so the message goes with the same ``Message-ID``
every time, for receivers that drop duplicates. A refused or timed-out attempt is tried
again after ``RETRY_SECONDS`` (doubling), ``MAX_ATTEMPTS`` times in all, then the message
is marked failed; nothing else waits for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from email.utils import formataddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task
from sesame.utils import get_query_string

from sessions_app.enums import MessageState
from sessions_app.models import Message
from sessions_app.notices.texts import PAGE_LINK, SIGN_IN_LINK, html_part

logger = logging.getLogger("sessions_app.notices")


def _log(message: Message, outcome: str, detail: str = "") -> None:
    message.log = [
        *message.log,
        {"at": timezone.now().isoformat(), "outcome": outcome, "detail": detail[:500]},
    ]


def unsubscribe_url(message: Message) -> str | None:
    registrant = message.registrant
    if registrant is None:
        return None
    path = reverse("attend:notices", args=[registrant.pk, registrant.page_token()])
    return settings.SITE_URL.rstrip("/") + path


def one_line(text: str) -> str:
    """A header's text on one line: names and subjects are refused with a line break when
    they are written, and one stored before that rule must not stop the message."""
    return " ".join("".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text).split())


def body_to_send(message: Message) -> str:
    """The body with the registrant's page link in place of its mark (``PAGE_LINK``), and a
    speaker's one-time sign-in link in place of ``SIGN_IN_LINK``."""
    registrant = message.registrant
    link = registrant.selection_url() if registrant is not None else ""
    body = message.body.replace(PAGE_LINK, link)
    if SIGN_IN_LINK in body:
        body = body.replace(SIGN_IN_LINK, speaker_sign_in_url(message.to_email))
    return body


def speaker_sign_in_url(email: str) -> str:
    """A fresh one-time link that signs the speaker with this address in (django-sesame);
    none for an address without a speaker's account, or a staff account's."""
    user = (
        get_user_model()
        .objects.filter(email__iexact=email, is_staff=False, is_active=True)
        .order_by("pk")
        .first()
    )
    if user is None or not email:
        return "(this address has no speaker account)"
    path = reverse("cfp:sign-in-link")
    return settings.SITE_URL.rstrip("/") + path + get_query_string(user)


def email_for(message: Message, connection=None) -> EmailMultiAlternatives:
    headers = {"Message-ID": message.message_id, "Auto-Submitted": "auto-generated"}
    if (url := unsubscribe_url(message)) is not None:
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    body = body_to_send(message)
    email = EmailMultiAlternatives(
        subject=one_line(message.subject),
        body=body,
        from_email=settings.NOTICES["FROM"],
        to=[formataddr((one_line(message.to_name), message.to_email))],
        headers=headers,
        connection=connection,
    )
    email.attach_alternative(html_part(body), "text/html")
    return email


def _take(message_id: int) -> Message | None:
    """The message, leased for this attempt; None if it is not (or no longer) due."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("registrant")
            .filter(pk=message_id, state=MessageState.QUEUED)
            .first()
        )
        if message is None:
            return None  # sent, discarded, held again, or another attempt has it
        if message.send_after > now + dt.timedelta(seconds=1):
            return None  # put off (its own task is queued for then)
        message.state = MessageState.SENDING
        message.attempts += 1
        message.lease_until = now + dt.timedelta(seconds=settings.NOTICES["LEASE_SECONDS"])
        message.save(update_fields=["state", "attempts", "lease_until"])
    return message


def send_now(message_id: int) -> str:
    message = _take(message_id)
    if message is None:
        return "not due"
    try:
        connection = get_connection(timeout=settings.NOTICES["TIMEOUT_SECONDS"])
        email_for(message, connection).send()
    except Exception as exc:  # refused, timed out, unreachable: try again later
        error = f"{type(exc).__name__}: {exc}"
        with transaction.atomic():
            message = Message.objects.select_for_update().get(pk=message.pk)
            message.last_error = error
            message.lease_until = None
            if message.attempts >= settings.NOTICES["MAX_ATTEMPTS"]:
                message.state = MessageState.FAILED
                _log(message, "failed", error)
                logger.warning("notices: message %s failed: %s", message.pk, error)
            else:
                wait = settings.NOTICES["RETRY_SECONDS"] * 2 ** (message.attempts - 1)
                message.state = MessageState.QUEUED
                message.send_after = timezone.now() + dt.timedelta(seconds=wait)
                _log(message, "retry", error)
                send_message.using(run_after=message.send_after).enqueue(message.pk)
            message.save()
        return message.state
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        message.state = MessageState.SENT
        message.sent_at = timezone.now()
        message.lease_until = None
        message.last_error = ""
        _log(message, "sent", f"attempt {message.attempts}")
        message.save()
    return message.state


@task(queue_name="notices")
def send_message(message_id: int) -> str:
    """One attempt at sending a message (it queues itself again after a failure)."""
    return send_now(message_id)


def release(messages, *, by: str = "") -> int:
    """Queue held messages for sending now (the outbox's "send", ``by`` whom); the worker
    sends them."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for message in messages.select_for_update().filter(state=MessageState.HELD):
            message.state = MessageState.QUEUED
            message.send_after = now
            _log(message, "released", f"by {by}" if by else "")
            message.save(update_fields=["state", "send_after", "log"])
            send_message.enqueue(message.pk)
            count += 1
    return count


def discard(messages, *, by: str) -> int:
    """Discard the unsent ones (the outbox's "discard", ``by`` whom, in each one's log)."""
    count = 0
    with transaction.atomic():
        for message in messages.select_for_update().filter(
            state__in=[MessageState.HELD, MessageState.QUEUED, MessageState.FAILED]
        ):
            message.state = MessageState.DISCARDED
            _log(message, "discarded", f"by {by}")
            message.save(update_fields=["state", "log"])
            count += 1
    return count


def recover_lost_sends() -> int:
    """Queue again the messages whose attempt's worker died (their lease lapsed)."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for message in Message.objects.select_for_update(skip_locked=True).filter(
            state=MessageState.SENDING, lease_until__lt=now
        )[:100]:
            message.state = MessageState.QUEUED
            message.send_after = now
            message.lease_until = None
            _log(message, "lease lapsed", "queued again: it may have been sent once already")
            message.save()
            send_message.enqueue(message.pk)
            count += 1
    return count
