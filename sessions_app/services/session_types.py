"""An event's session types (talk, workshop, ...) and their usual lengths.

A session's own length is its ``duration_minutes``, written with the session; a type's
length is what a new session of that type starts with (``session_create``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sessions_app.models import Event, Session, SessionType

SESSION_TYPE_WRITABLE_FIELDS = frozenset({"name", "default_minutes"})


def _name_taken(name: str) -> ValidationError:
    return ValidationError(
        {
            "name": ValidationError(
                f"The event already has a session type named “{name[:100]}”.", code="duplicate"
            )
        }
    )


def _save(session_type: SessionType, data: Mapping[str, Any]) -> SessionType:
    unknown = set(data) - SESSION_TYPE_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not writable session type fields: {', '.join(sorted(unknown))}")
    for name, value in data.items():
        setattr(session_type, name, value.strip() if isinstance(value, str) else value)
    session_type.full_clean(exclude=["event"], validate_unique=False, validate_constraints=False)
    taken = SessionType.objects.filter(
        event_id=session_type.event_id, name=session_type.name
    ).exclude(pk=session_type.pk)
    if taken.exists():
        raise _name_taken(session_type.name)
    try:
        with transaction.atomic():
            session_type.save()
    except IntegrityError as exc:  # the same name, added by a concurrent write
        raise _name_taken(session_type.name) from exc
    return session_type


def session_type_create(*, event_id: int, data: Mapping[str, Any]) -> SessionType:
    """A session type of the event; the name is unique in it (``duplicate``)."""
    with transaction.atomic():
        return _save(SessionType(event=Event.objects.get(pk=event_id)), data)


def session_type_update(
    *, session_type_id: int, data: Mapping[str, Any], organisation_id: int | None = None
) -> SessionType:
    """Change its name or usual length; sessions keep the lengths they have."""
    with transaction.atomic():
        types = SessionType.objects.select_for_update(no_key=True)
        if organisation_id is not None:
            types = types.filter(event__organisation_id=organisation_id)
        return _save(types.get(pk=session_type_id), data)


def session_type_delete(*, session_type_id: int, organisation_id: int | None = None) -> None:
    """Delete a type no session has; one in use is refused (``type_in_use``)."""
    with transaction.atomic():
        types = SessionType.objects.select_for_update()
        if organisation_id is not None:
            types = types.filter(event__organisation_id=organisation_id)
        session_type = types.get(pk=session_type_id)
        used = list(
            Session.objects.filter(session_type=session_type)
            .order_by("pk")
            .values_list("pk", flat=True)[:11]
        )
        if used:
            shown = ", ".join(f"#{pk}" for pk in used[:10])
            raise ValidationError(
                {
                    "session_ids": ValidationError(
                        f"Sessions {shown}{' and more' if len(used) > 10 else ''} are of this "
                        "type; give them another type first.",
                        code="type_in_use",
                        params={"session_ids": used[:10]},
                    )
                }
            )
        session_type.delete()
