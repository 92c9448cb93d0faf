"""Thin models: fields, database constraints, and ``clean()`` that gathers the validators.

One module per concern; every model is importable from ``sessions_app.models``.
"""

from .attendance import Registrant, Selection, SelectionState
from .clients import ApiClient, ApiRateCounter
from .events import CustomField, CustomFieldChoice, Event, Location, Membership, Organisation, Track
from .exports import ExportJob
from .imports import ImportJob, ImportRowOutcome
from .people import SessionSpeaker, Speaker
from .sessions import Session, SessionChange, new_secure_id
from .webhooks import (
    DeliveryState,
    OutboxCursor,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "ApiClient",
    "ApiRateCounter",
    "CustomField",
    "CustomFieldChoice",
    "DeliveryState",
    "Event",
    "ExportJob",
    "ImportJob",
    "ImportRowOutcome",
    "Location",
    "Membership",
    "Organisation",
    "OutboxCursor",
    "Registrant",
    "Selection",
    "SelectionState",
    "Session",
    "SessionChange",
    "SessionSpeaker",
    "Speaker",
    "Track",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "new_secure_id",
]
