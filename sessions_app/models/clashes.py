"""When two sessions meet: the half-open overlap rule and how a clashing session is named.

Plain helpers with no model import, shared by the models' own clash checks
(``models.sessions``) and the selectors.
"""

import datetime as dt
from typing import Any

from django.db.models import Q

# A session lies within its date (the end time after the start time), so it lasts less
# than a day: 26 hours even across a daylight saving change. Anything overlapping it
# therefore starts after its start minus this, which bounds the clash queries on both
# sides so that the (location, starts_at) index reads about one day, not the whole room.
MAX_SESSION_LENGTH = dt.timedelta(hours=26)


def overlap_condition(*, starts_at: dt.datetime, ends_at: dt.datetime, prefix: str = "") -> Q:
    """Sessions whose half-open interval meets [starts_at, ends_at): ``start < ends_at`` and
    ``end > starts_at``, bounded below by the longest session so an index on the start reads
    about a day. ``prefix`` reaches the session from another model (``"session__"``)."""
    return Q(
        **{
            f"{prefix}starts_at__lt": ends_at,
            f"{prefix}starts_at__gt": starts_at - MAX_SESSION_LENGTH,
            f"{prefix}ends_at__gt": starts_at,
        }
    )


def overlap(first: Any, second: Any) -> bool:
    """Two scheduled sessions (in memory) meet, half-open as everywhere else."""
    if None in (first.starts_at, first.ends_at, second.starts_at, second.ends_at):
        return False
    return first.starts_at < second.ends_at and first.ends_at > second.starts_at


def conflict_summary(session: Any) -> dict[str, Any]:
    """How a clashing session is named in errors (API ``conflicts``, admin messages).

    Instants carry the offset of that session's effective zone, as the session object does.
    """
    starts_at = session.in_effective_zone(session.starts_at)
    ends_at = session.in_effective_zone(session.ends_at)
    return {
        "id": session.pk,
        "name": session.name,
        "starts_at": starts_at.isoformat() if starts_at else None,
        "ends_at": ends_at.isoformat() if ends_at else None,
        "location_id": session.location_id,
    }


# What conflict_summary() reads of a session.
SUMMARY_FIELDS = (
    "id",
    "name",
    "starts_at",
    "ends_at",
    "location_id",
    "use_event_timezone",
    "timezone",
    "event__timezone",
)
