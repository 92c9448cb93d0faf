"""A schemathesis check of our own, for the schema run and for ``make fuzz``.

Loaded by ``tests/api/test_schema.py`` and, for the command line, by
``SCHEMATHESIS_HOOKS=tests.fuzz_checks``.
"""

from __future__ import annotations

import json
import os

import django
import schemathesis
from django.apps import apps

if not apps.ready:  # loaded by the schemathesis command line, outside Django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()

from sessions_app.api.schema import FORM_ONLY_JSON
from sessions_app.validators import CONFLICT_CODES

# The 422 codes of rules the schema cannot state: references to objects that may not exist
# (or not in that event), rules across fields or against stored state, and the guard on
# webhook addresses. Every other code is about a value's type, form or name, which the
# schema states.
RULE_CODES = (
    frozenset(
        {
            "does_not_exist",
            "wrong_event",
            "event_change",
            "email_taken",
            "speaker_in_sessions",
            "sessions_outside_event",
            "invalid_date_range",
            "incomplete_schedule",
            "invalid_time_range",
            "outside_event",
            "out_of_range",
            "invalid_timezone",
            "above_location_capacity",
            "below_seats_taken",
            "below_session_capacity",
            "live_requires_schedule",
            "address_not_allowed",
            "https_required",
            "read_only",
            "immutable",
            "duplicate",
            "duration_mismatch",
        }
    )
    | CONFLICT_CODES
)  # a status move, a clash, a seat: against what is stored


# Rules with a code that also names a form: a time zone is required when the event's is not
# used (a rule across two fields).
RULE_FIELD_CODES = frozenset({("timezone", "required")})
# Schemathesis's coverage phase may send a JSON body's fields form-encoded; the form body's
# schema has no such field, so the refusal is the schema's own rule.
JSON_ONLY_FIELDS = frozenset(FORM_ONLY_JSON)


def _is_rule(error: dict, *, form: bool) -> bool:
    field = str(error.get("field", ""))
    return (
        error.get("code") in RULE_CODES
        or (field, error.get("code")) in RULE_FIELD_CODES
        or field == "custom_fields"  # an empty key: no field of this event
        or field.startswith("custom_fields.")
        or (form and field in JSON_ONLY_FIELDS)
    )


class FormRefused(AssertionError):
    pass


@schemathesis.check
def refusals_name_a_rule(ctx, response, case):
    """A request the schema allows is refused (422) only for a rule the schema cannot state.

    Custom fields are the event's own (their keys, types and choices), so a refusal of one
    is always such a rule.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        errors = json.loads(response.content).get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    form = "form-urlencoded" in str(case.media_type or "")
    others = [error for error in errors if not _is_rule(error, form=form)]
    if not errors or others:
        raise FormRefused(
            "A request the schema allows was refused for a value's type, form or name, "
            f"which the schema should have stated: {others or 'no errors listed'}"
        )
    return None
