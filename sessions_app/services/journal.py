"""The history entry every write leaves, and the announcement sent once it is committed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from sessions_app.enums import HistoryAction, webhook_event_type
from sessions_app.models import Session, SessionChange
from sessions_app.services.actors import Actor
from sessions_app.services.signals import session_changed

# The session's representation on the wire, for ``SessionChange.state``. The wire format
# sits above the services (the import contracts), so it hands its function in when the app
# is ready (``SessionsAppConfig.ready``) rather than being imported here.
_represent: Callable[[Session], dict[str, Any]] | None = None


def represent_sessions_with(function: Callable[[Session], dict[str, Any]]) -> None:
    global _represent
    _represent = function


def state_after(session: Session, action: str) -> dict[str, Any] | None:
    """What ``session`` is right after a change of ``action``, for that change's webhook.

    Only a change whose webhook carries the session has one: not a selection (its webhook
    carries the seat counts) and not a deletion.
    """
    event_type = webhook_event_type(action) or ""
    if action == HistoryAction.DELETE or not event_type.startswith("session."):
        return None
    if _represent is None:
        return None
    return _represent(session)


def record(
    session: Session, *, actor: Actor, action: str, changes: dict, note: str = ""
) -> SessionChange:
    """One history row for ``session`` in the current transaction."""
    return SessionChange.objects.create(
        session_id=session.pk,
        event_id=session.event_id,
        action=action,
        changes=changes,
        note=note,
        version=session.version,
        state=state_after(session, action),
        **actor.history_fields(),
    )


def record_many(session: Session, *, actor: Actor, action: str, changes: list[dict]) -> None:
    """One history row per item of ``changes``, in one insert."""
    now = timezone.now()
    SessionChange.objects.bulk_create(
        SessionChange(
            session_id=session.pk,
            event_id=session.event_id,
            action=action,
            changes=change,
            version=session.version,
            created_at=now,
            **actor.history_fields(),
        )
        for change in changes
    )


def announce(session: Session, action: str) -> None:
    """Send ``session_changed`` after the commit (never for a rolled-back write)."""
    payload = {
        "session_id": session.pk,
        "event_id": session.event_id,
        "action": action,
        "status": session.session_status,
    }
    transaction.on_commit(lambda: session_changed.send(sender=Session, **payload))
