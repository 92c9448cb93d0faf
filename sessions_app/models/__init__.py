"""Thin models: fields, database constraints, and ``clean()`` that gathers the validators.

One module per concern; every model is importable from ``sessions_app.models``.
"""

from .attendance import Registrant, Selection, SelectionState
from .clients import ApiClient, ApiRateCounter
from .events import CustomField, CustomFieldChoice, Event, Location, Membership, Organisation, Track
from .sessions import Session, SessionChange, new_secure_id

__all__ = [
    "ApiClient",
    "ApiRateCounter",
    "CustomField",
    "CustomFieldChoice",
    "Event",
    "Location",
    "Membership",
    "Organisation",
    "Registrant",
    "Selection",
    "SelectionState",
    "Session",
    "SessionChange",
    "Track",
    "new_secure_id",
]
