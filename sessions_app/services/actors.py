"""Who makes a change, as history entries record it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from sessions_app.models import ApiClient, Registrant


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user, an API client, or the system (neither)."""

    user: AbstractBaseUser | None = None
    client: ApiClient | None = None
    registrant: Registrant | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.user, self.client, self.registrant)) > 1:
            raise ValueError("An actor is a user, an API client or a registrant, not two.")

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.client is not None:
            return f"API client {self.client.name or self.client.client_id}"
        if self.registrant is not None:
            return f"registrant {self.registrant.full_name} <{self.registrant.email}>"[:255]
        return "system"

    def history_fields(self) -> dict[str, Any]:
        return {
            "actor_user": self.user,
            "actor_client": self.client,
            "actor_registrant": self.registrant,
            "actor_label": self.label,
        }

    @property
    def is_staff(self) -> bool:
        """Organisers and API clients may override capacity and locks; registrants never."""
        return self.registrant is None


SYSTEM = Actor()
