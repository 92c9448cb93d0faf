"""Choices and the one table of allowed status moves."""

from django.db import models


class SessionStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CONVERTED = "converted", "Converted"
    LIVE = "live", "Live"
    # Taken back by its speaker: before a decision, or declined once approved.
    WITHDRAWN = "withdrawn", "Withdrawn"


# The single source of truth for the workflow: admin buttons, API errors and
# validators all read this table.
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    SessionStatus.SUBMITTED: (
        SessionStatus.APPROVED,
        SessionStatus.REJECTED,
        SessionStatus.WITHDRAWN,
    ),
    SessionStatus.APPROVED: (
        SessionStatus.CONVERTED,
        SessionStatus.LIVE,
        SessionStatus.REJECTED,
        SessionStatus.SUBMITTED,
        SessionStatus.WITHDRAWN,
    ),
    SessionStatus.CONVERTED: (SessionStatus.LIVE, SessionStatus.APPROVED),
    SessionStatus.LIVE: (SessionStatus.APPROVED,),
    SessionStatus.REJECTED: (SessionStatus.SUBMITTED,),
    SessionStatus.WITHDRAWN: (SessionStatus.SUBMITTED,),
}

# Statuses in which a session occupies its location for its time slot.
HOLDING_STATUSES: tuple[str, ...] = (
    SessionStatus.APPROVED,
    SessionStatus.CONVERTED,
    SessionStatus.LIVE,
)


def allowed_transitions(current: str) -> tuple[str, ...]:
    return ALLOWED_TRANSITIONS.get(current, ())


class ProposedProgramme(models.TextChoices):
    """What the public agenda shows of the approved sessions not yet on it."""

    OFF = "off", "Not shown"
    LIST = "list", "Listed"
    INTEREST = "interest", "Listed, and registrants may mark their interest"


class InterestOnPublish(models.TextChoices):
    """What registrants' interests become when their session goes live."""

    SEAT = "seat", "Seats, first come first served (the rest wait)"
    TELL = "tell", "They stay interests; registrants are told the session is bookable"


class SelectionControl(models.TextChoices):
    OPTIONAL = "optional", "Optional"
    INCLUDED = "included", "Included"


class CustomFieldType(models.TextChoices):
    TEXT = "text", "Text"
    TEXTAREA = "textarea", "Text area"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    URL = "url", "URL"
    CHECKBOX = "checkbox", "Checkbox"
    DROPDOWN = "dropdown", "Dropdown"
    MULTISELECT = "multiselect", "Multi-select"


CHOICE_FIELD_TYPES: tuple[str, ...] = (CustomFieldType.DROPDOWN, CustomFieldType.MULTISELECT)


class MemberRole(models.TextChoices):
    ORGANISER = "organiser", "Organiser"
    REVIEWER = "reviewer", "Reviewer"


# The group whose permissions each role gives, in the organisations where it is held.
ROLE_GROUPS = {MemberRole.ORGANISER: "Organisers", MemberRole.REVIEWER: "Reviewers"}


class ImportKind(models.TextChoices):
    SESSIONS = "sessions", "Sessions"
    REGISTRANTS = "registrants", "Registrants"


class JobState(models.TextChoices):
    """Where a job of the background worker is: an import, an export."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ImportState = JobState


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel"


class ImportOutcome(models.TextChoices):
    """What one row of an import did."""

    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    UNCHANGED = "unchanged", "Unchanged"
    REFUSED = "refused", "Refused"


class HistoryAction(models.TextChoices):
    CREATE = "session.create", "Created"
    UPDATE = "session.update", "Updated"
    DELETE = "session.delete", "Deleted"
    STATUS_SUBMITTED = "session.status.submitted", "Moved to submitted"
    STATUS_APPROVED = "session.status.approved", "Approved"
    STATUS_REJECTED = "session.status.rejected", "Rejected"
    STATUS_CONVERTED = "session.status.converted", "Converted"
    STATUS_LIVE = "session.status.live", "Published (live)"
    STATUS_WITHDRAWN = "session.status.withdrawn", "Withdrawn"
    SPEAKER_ANSWER = "session.speaker.answer", "A speaker confirmed or declined"
    RESCHEDULE = "session.reschedule", "Rescheduled by event time zone change"
    SELECTION_CREATED = "selection.created", "Seat taken"
    SELECTION_WAITLISTED = "selection.waitlisted", "Joined the waitlist"
    SELECTION_DELETED = "selection.deleted", "Seat or waitlist place given up"
    SELECTION_PROMOTED = "selection.promoted", "Seated from the waitlist"
    SELECTION_INCLUDED = "selection.included", "Every registrant seated (included)"
    SELECTION_INTERESTED = "selection.interested", "Interest marked"
    SELECTION_CONVERTED = "selection.converted", "Interests turned into seats (published)"
    SELECTION_BOOKABLE = "selection.bookable", "Interested registrants told (published)"
    # Not a session's: a registrant's personal data erased on request (sessions_app.privacy).
    # Its row names no session (``session_id`` 0) and holds no personal data.
    REGISTRANT_ERASED = "registrant.erased", "A registrant's personal data erased"


def status_action(status: str) -> str:
    return f"session.status.{status}"


# Human labels for history actions, in one place for the admin and the API.
ACTION_LABELS: dict[str, str] = dict(HistoryAction.choices)


# --- Webhooks (API.md "Webhooks") --------------------------------------------------------
# The event types a subscription may list; "session.*", "selection.*" and "*" name families.
WEBHOOK_EVENT_TYPES: tuple[str, ...] = (
    "session.created",
    "session.updated",
    *(f"session.status.{status}" for status in SessionStatus.values),
    "session.deleted",
    "selection.created",
    "selection.deleted",
    "selection.promoted",
    "registrant.erased",
)
WEBHOOK_EVENT_PATTERNS: tuple[str, ...] = (
    "*",
    "session.*",
    "session.status.*",
    "selection.*",
    "registrant.*",
    *WEBHOOK_EVENT_TYPES,
)
_EVENT_TYPE_OF_ACTION = {
    HistoryAction.CREATE: "session.created",
    HistoryAction.UPDATE: "session.updated",
    HistoryAction.RESCHEDULE: "session.updated",
    HistoryAction.SPEAKER_ANSWER: "session.updated",
    HistoryAction.DELETE: "session.deleted",
    HistoryAction.SELECTION_CREATED: "selection.created",
    HistoryAction.SELECTION_WAITLISTED: "selection.created",
    HistoryAction.SELECTION_INCLUDED: "selection.created",
    HistoryAction.SELECTION_DELETED: "selection.deleted",
    HistoryAction.SELECTION_PROMOTED: "selection.promoted",
    HistoryAction.SELECTION_INTERESTED: "selection.created",
    HistoryAction.SELECTION_CONVERTED: "selection.promoted",
    HistoryAction.REGISTRANT_ERASED: "registrant.erased",
}


def webhook_event_type(action: str) -> str | None:
    """The webhook event a history action is (``session.status.live`` is itself)."""
    if action.startswith("session.status."):
        return action
    return _EVENT_TYPE_OF_ACTION.get(action)


# --- Notices: messages to speakers and registrants (sessions_app.notices) -----------------
class NoticeKind(models.TextChoices):
    SPEAKER_APPROVED = "speaker.approved", "To speakers: session approved"
    SPEAKER_REJECTED = "speaker.rejected", "To speakers: session rejected"
    SPEAKER_PUBLISHED = "speaker.published", "To speakers: session published"
    SPEAKER_MOVED = "speaker.moved", "To speakers: session moved"
    SPEAKER_CANCELLED = "speaker.cancelled", "To speakers: session cancelled"
    SPEAKER_RECEIVED = "speaker.received", "To speakers: proposal received"
    SPEAKER_INVITED = "speaker.invited", "To speakers: invited to co-present a proposal"
    SPEAKER_CONFIRM = "speaker.confirm", "To speakers: please confirm you will come"
    SPEAKER_SIGN_IN = "speaker.sign_in", "To speakers: their sign-in link"
    REGISTRANT_WELCOME = "registrant.welcome", "To registrants: welcome, with their page"
    REGISTRANT_SEATED = "registrant.seated", "To registrants: a seat from the waitlist"
    REGISTRANT_MOVED = "registrant.moved", "To registrants: a session they hold moved"
    REGISTRANT_CANCELLED = "registrant.cancelled", "To registrants: a session they hold cancelled"
    REGISTRANT_INTEREST_SEATED = (
        "registrant.interest_seated",
        "To registrants: a session they were interested in is published, with their seat",
    )
    REGISTRANT_INTEREST_WAITLISTED = (
        "registrant.interest_waitlisted",
        "To registrants: a session they were interested in is published and full: they wait",
    )
    REGISTRANT_BOOKABLE = (
        "registrant.bookable",
        "To registrants: a session they were interested in is published and bookable",
    )


# Moves that coalesce: several within the window make one message per person and session.
MOVE_KINDS = frozenset({NoticeKind.SPEAKER_MOVED, NoticeKind.REGISTRANT_MOVED})
# Messages to registrants: their names, addresses and (when sent) page links are personal
# data, read only by roles and tokens that may read registrants.
REGISTRANT_KINDS = frozenset(kind for kind in NoticeKind if kind.startswith("registrant."))
# Sent at once even where the event holds its messages: a person waits for them.
UNHELD_KINDS = frozenset({NoticeKind.SPEAKER_SIGN_IN})


class SpeakerAnswer(models.TextChoices):
    """A speaker's answer to an approved session: will they come."""

    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"


class MessageState(models.TextChoices):
    HELD = "held", "Held for review"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    DISCARDED = "discarded", "Discarded"
