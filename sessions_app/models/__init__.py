"""Thin models: fields, database constraints, and ``clean()`` that gathers the validators.

One module per concern; every model is importable from ``sessions_app.models``.
"""

from sessions_app.models.accounts import StaffSignIn
from sessions_app.models.attendance import Registrant, Selection, SelectionState
from sessions_app.models.cfp import CallForProposals
from sessions_app.models.clients import ApiClient, ApiRateCounter
from sessions_app.models.events import (
    AgendaVersion,
    CustomField,
    CustomFieldChoice,
    Event,
    Location,
    Membership,
    Organisation,
    SessionType,
    Track,
)
from sessions_app.models.exports import ExportJob
from sessions_app.models.imports import ImportJob, ImportRowOutcome
from sessions_app.models.notices import Message, MessageTemplate
from sessions_app.models.people import SessionSpeaker, Speaker, SpeakerPhoto
from sessions_app.models.planning import (
    BlockedSlot,
    LocationOpening,
    ScheduleProposal,
    SpeakerAvailability,
)
from sessions_app.models.privacy import PrivacyRequest
from sessions_app.models.reviews import (
    Comparison,
    Review,
    ReviewAssignment,
    ReviewCriterion,
    Reviewer,
    ReviewSettings,
)
from sessions_app.models.sessions import Session, SessionChange, new_secure_id
from sessions_app.models.webhooks import (
    DeliveryState,
    OutboxCursor,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "AgendaVersion",
    "ApiClient",
    "ApiRateCounter",
    "BlockedSlot",
    "CallForProposals",
    "Comparison",
    "CustomField",
    "CustomFieldChoice",
    "DeliveryState",
    "Event",
    "ExportJob",
    "ImportJob",
    "ImportRowOutcome",
    "Location",
    "LocationOpening",
    "Membership",
    "Message",
    "MessageTemplate",
    "Organisation",
    "OutboxCursor",
    "PrivacyRequest",
    "Registrant",
    "Review",
    "ReviewAssignment",
    "ReviewCriterion",
    "ReviewSettings",
    "Reviewer",
    "ScheduleProposal",
    "Selection",
    "SelectionState",
    "Session",
    "SessionChange",
    "SessionSpeaker",
    "SessionType",
    "Speaker",
    "SpeakerAvailability",
    "SpeakerPhoto",
    "StaffSignIn",
    "Track",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "new_secure_id",
]
