"""Every write goes through here, whichever door it comes from.

One module per concern: ``sessions`` (sessions and events), ``attendance`` (registrants
and their seats), ``speakers``, ``proposals``, ``reviews``, ``session_types``, ``clients``
(API clients); webhook subscriptions are written by ``sessions_app.webhooks.subscriptions``.
Each service runs in one transaction: lock what its rule depends on, apply, validate the
merged object, save, write one history entry, and announce only on commit. A refused write
raises and changes nothing.
"""

from sessions_app.services.actors import SYSTEM, Actor
from sessions_app.services.attendance import (
    REGISTRANT_WRITABLE_FIELDS,
    PageOutcome,
    SelectionResult,
    registrant_create,
    registrant_delete,
    registrant_reset_link,
    registrant_save_page,
    registrant_update,
    registrants_create_many,
    selection_add,
    selection_remove,
)
from sessions_app.services.proposals import (
    proposal_edit,
    proposal_submit,
    proposal_withdraw,
    proposals_of,
    speaker_answer,
    speaker_profile_update,
)
from sessions_app.services.reviews import (
    abstain,
    assign_new_proposal,
    assign_reviewers,
    comparison_save,
    next_pair,
    reassign,
    review_save,
)
from sessions_app.services.session_types import (
    SESSION_TYPE_WRITABLE_FIELDS,
    session_type_create,
    session_type_delete,
    session_type_update,
)
from sessions_app.services.sessions import (
    EVENT_WRITABLE_FIELDS,
    SESSION_WRITABLE_FIELDS,
    event_refresh_custom_field_schema,
    event_update,
    merge_custom_values,
    session_create,
    session_delete,
    session_set_status,
    session_update,
)
from sessions_app.services.speakers import (
    SPEAKER_WRITABLE_FIELDS,
    speaker_create,
    speaker_delete,
    speaker_update,
)

__all__ = [
    "EVENT_WRITABLE_FIELDS",
    "REGISTRANT_WRITABLE_FIELDS",
    "SESSION_TYPE_WRITABLE_FIELDS",
    "SESSION_WRITABLE_FIELDS",
    "SPEAKER_WRITABLE_FIELDS",
    "SYSTEM",
    "Actor",
    "PageOutcome",
    "SelectionResult",
    "abstain",
    "assign_new_proposal",
    "assign_reviewers",
    "comparison_save",
    "event_refresh_custom_field_schema",
    "event_update",
    "merge_custom_values",
    "next_pair",
    "proposal_edit",
    "proposal_submit",
    "proposal_withdraw",
    "proposals_of",
    "reassign",
    "registrant_create",
    "registrant_delete",
    "registrant_reset_link",
    "registrant_save_page",
    "registrant_update",
    "registrants_create_many",
    "review_save",
    "selection_add",
    "selection_remove",
    "session_create",
    "session_delete",
    "session_set_status",
    "session_type_create",
    "session_type_delete",
    "session_type_update",
    "session_update",
    "speaker_answer",
    "speaker_create",
    "speaker_delete",
    "speaker_profile_update",
    "speaker_update",
]
