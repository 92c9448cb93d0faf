"""The texts of the messages: built in, or the event's own (``MessageTemplate``).

A text is plain text with ``{placeholder}`` fields (``{{`` and ``}}`` for a brace). Each kind
of message has its own placeholders; a text that names another, or anything but a plain name
(``{name.attr}``, ``{name[0]}``, a conversion or a format), is refused when it is saved.
"""

from __future__ import annotations

import html
import re
import string
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from sessions_app.enums import NoticeKind

COMMON = {
    "name": "the person's name",
    "event": "the event's name",
    "link": "the page to look at (a registrant's own page, or the session's public page)",
}
SESSION = {
    "session": "the session's name",
    "time": "when it is, in the event's time zone (e.g. Mon 4 Jan 2027, 09:00\u201310:00 CET)",
    "room": "where it is",
}
MOVE = {
    "old_time": "when it was",
    "new_time": "when it is now",
    "old_room": "where it was",
    "new_room": "where it is now",
}

DECISION = {
    "comments": "what the reviewers wrote for the speakers (nothing where they wrote nothing)",
}

PLACEHOLDERS: dict[str, dict[str, str]] = {
    NoticeKind.SPEAKER_APPROVED: {**COMMON, **SESSION, **DECISION},
    NoticeKind.SPEAKER_REJECTED: {**COMMON, **SESSION, **DECISION},
    NoticeKind.SPEAKER_PUBLISHED: {**COMMON, **SESSION},
    NoticeKind.SPEAKER_MOVED: {**COMMON, **SESSION, **MOVE},
    NoticeKind.SPEAKER_CANCELLED: {**COMMON, **SESSION},
    NoticeKind.SPEAKER_RECEIVED: {**COMMON, "session": SESSION["session"]},
    NoticeKind.SPEAKER_INVITED: {
        **COMMON,
        "session": SESSION["session"],
        "inviter": "the name of the speaker who proposed it",
    },
    NoticeKind.SPEAKER_CONFIRM: {**COMMON, **SESSION},
    NoticeKind.SPEAKER_SIGN_IN: {**COMMON},
    NoticeKind.REGISTRANT_WELCOME: {**COMMON},
    NoticeKind.REGISTRANT_SEATED: {**COMMON, **SESSION},
    NoticeKind.REGISTRANT_MOVED: {**COMMON, **SESSION, **MOVE},
    NoticeKind.REGISTRANT_CANCELLED: {**COMMON, **SESSION},
    NoticeKind.REGISTRANT_INTEREST_SEATED: {**COMMON, **SESSION},
    NoticeKind.REGISTRANT_INTEREST_WAITLISTED: {**COMMON, **SESSION},
    NoticeKind.REGISTRANT_BOOKABLE: {**COMMON, **SESSION},
}

# Stands in a registrant's message for the link to their own page until it is sent.
PAGE_LINK = "[the link to their own page, added when the message is sent]"
# Stands in a speaker's sign-in message for their one-time link until it is sent: the
# outbox, which organisers read, never holds a link that signs someone in.
SIGN_IN_LINK = "[their one-time sign-in link, added when the message is sent]"

_SIGNATURE = "\n\n-- \n{event}"
DEFAULTS: dict[str, tuple[str, str]] = {
    NoticeKind.SPEAKER_APPROVED: (
        "Your session {session} is approved",
        "Hello {name},\n\nyour session {session} at {event} is approved. It is planned for "
        "{time}, {room}. We will write again when it is published on the agenda.{comments}"
        + _SIGNATURE,
    ),
    NoticeKind.SPEAKER_REJECTED: (
        "About your session {session}",
        "Hello {name},\n\nthank you for proposing {session} for {event}. We are sorry: it is "
        "not in the programme this time.{comments}" + _SIGNATURE,
    ),
    NoticeKind.SPEAKER_PUBLISHED: (
        "Your session {session} is on the agenda",
        "Hello {name},\n\nyour session {session} is now on the agenda of {event}: {time}, "
        "{room}.\n\n{link}" + _SIGNATURE,
    ),
    NoticeKind.SPEAKER_MOVED: (
        "Your session {session} has moved",
        "Hello {name},\n\nyour session {session} at {event} has moved.\n\n"
        "Was: {old_time}, {old_room}\nNow: {new_time}, {new_room}\n\n{link}" + _SIGNATURE,
    ),
    NoticeKind.SPEAKER_CANCELLED: (
        "Your session {session} is cancelled",
        "Hello {name},\n\nyour session {session} ({time}, {room}) at {event} is cancelled."
        + _SIGNATURE,
    ),
    NoticeKind.SPEAKER_RECEIVED: (
        "We received your proposal {session}",
        "Hello {name},\n\nthank you for proposing {session} for {event}. It has arrived and "
        "waits for the programme committee. See where it stands, change it while it is "
        "being reviewed, or withdraw it, on your speaker page:\n\n{link}" + _SIGNATURE,
    ),
    NoticeKind.SPEAKER_INVITED: (
        "{inviter} invites you to present {session}",
        "Hello {name},\n\n{inviter} proposed {session} for {event} and named you as a "
        "co-speaker. Sign in with this address to see the proposal, complete your profile "
        "and, once it is approved, confirm that you will come:\n\n{link}" + _SIGNATURE,
    ),
    NoticeKind.SPEAKER_CONFIRM: (
        "Please confirm: {session}",
        "Hello {name},\n\nyour session {session} at {event} is in the programme ({time}, "
        "{room}). Please tell us whether you will come, on your speaker page:\n\n{link}"
        + _SIGNATURE,
    ),
    NoticeKind.SPEAKER_SIGN_IN: (
        "Your sign-in link for {event}",
        "Hello {name},\n\nhere is your link to sign in to your speaker page. It works "
        "once, within 15 minutes:\n\n{link}\n\nIf you did not ask for it, ignore this "
        "message." + _SIGNATURE,
    ),
    NoticeKind.REGISTRANT_WELCOME: (
        "Welcome to {event}",
        "Hello {name},\n\nyou are registered for {event}. Choose your sessions, and see "
        "the ones you hold, on your own page:\n\n{link}\n\nKeep this link to yourself: it "
        "opens your page without a password." + _SIGNATURE,
    ),
    NoticeKind.REGISTRANT_SEATED: (
        "You have a seat in {session}",
        "Hello {name},\n\na seat came free in {session} ({time}, {room}) and it is yours: "
        "you were on its waitlist.\n\n{link}" + _SIGNATURE,
    ),
    NoticeKind.REGISTRANT_MOVED: (
        "{session} has moved",
        "Hello {name},\n\n{session}, which you hold a seat in, has moved.\n\n"
        "Was: {old_time}, {old_room}\nNow: {new_time}, {new_room}\n\n{link}" + _SIGNATURE,
    ),
    NoticeKind.REGISTRANT_CANCELLED: (
        "{session} is cancelled",
        "Hello {name},\n\n{session} ({time}, {room}), which you held a seat in, is cancelled "
        "and no longer on the agenda of {event}.\n\n{link}" + _SIGNATURE,
    ),
    NoticeKind.REGISTRANT_INTEREST_SEATED: (
        "You have a seat in {session}",
        "Hello {name},\n\n{session}, which you said interests you, is now on the agenda of "
        "{event} ({time}, {room}), and a seat in it is yours. If you cannot come, give it up "
        "on your page so that someone else can have it:\n\n{link}" + _SIGNATURE,
    ),
    NoticeKind.REGISTRANT_INTEREST_WAITLISTED: (
        "{session} is full: you are on its waitlist",
        "Hello {name},\n\n{session}, which you said interests you, is now on the agenda of "
        "{event} ({time}, {room}). Its seats went to those who said so first; you are on its "
        "waitlist and will have a seat as soon as one comes free.\n\n{link}" + _SIGNATURE,
    ),
    NoticeKind.REGISTRANT_BOOKABLE: (
        "{session} can be booked now",
        "Hello {name},\n\n{session}, which you said interests you, is now on the agenda of "
        "{event} ({time}, {room}). Take your seat on your page while there are seats:"
        "\n\n{link}" + _SIGNATURE,
    ),
}

_NAME = re.compile(r"[a-z_]+")


def placeholders_in(text: str) -> list[str]:
    """The fields a text names; ValueError if it is not a well-formed text."""
    found = []
    for _literal, field, spec, conversion in string.Formatter().parse(text):
        if field is None:
            continue
        if not _NAME.fullmatch(field) or spec or conversion:
            raise ValueError(f"{{{field}}} is not a placeholder: use a plain name in braces.")
        found.append(field)
    return found


def check(kind: str, **texts: str) -> None:
    """ValidationError naming each text whose placeholders are not all this kind's."""
    allowed = PLACEHOLDERS[kind]
    errors = {}
    for field, text in texts.items():
        try:
            unknown = sorted(set(placeholders_in(text)) - set(allowed))
        except ValueError as exc:
            errors[field] = str(exc) + " A brace on its own is written {{ or }}."
            continue
        if unknown:
            errors[field] = (
                "Unknown placeholder"
                + ("s " if len(unknown) > 1 else " ")
                + ", ".join(f"{{{name}}}" for name in unknown)
                + ". This message knows "
                + ", ".join(f"{{{name}}}" for name in allowed)
                + "."
            )
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


def text_for(kind: str, custom: dict[str, tuple[str, str]] | None = None) -> Text:
    subject, body = (custom or {}).get(kind) or DEFAULTS[kind]
    return Text(subject, body)


def render(text: Text, context: dict[str, str]) -> tuple[str, str]:
    """The subject (one line) and the body, with the context's values in their places."""
    values = {name: str(context.get(name, "")) for name in PLACEHOLDERS_ALL}
    subject = text.subject.format_map(values)
    return " ".join(subject.split())[:300], text.body.format_map(values)


PLACEHOLDERS_ALL = sorted({name for names in PLACEHOLDERS.values() for name in names})

_URL = re.compile(r"https?://[^\s<>\"]+")


def html_part(body: str) -> str:
    """The HTML alternative, built from the plain text: paragraphs, line breaks, links."""
    paragraphs = []
    for block in body.split("\n\n"):
        escaped = html.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return (
        '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">'
        + "\n".join(paragraphs)
        + "</body></html>"
    )


def reviewers_words(comments: list[str]) -> str:
    """The reviewers' comments for the speakers, as the ``{comments}`` of a decision."""
    kept = [text.strip() for text in comments if text.strip()]
    if not kept:
        return ""
    return "\n\nFrom the reviewers:\n\n" + "\n\n".join(kept)
