"""The history entry every write leaves, and the announcement sent once it is committed."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from sessions_app.models import Session, SessionChange
from sessions_app.services.actors import Actor
from sessions_app.services.signals import session_changed


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
