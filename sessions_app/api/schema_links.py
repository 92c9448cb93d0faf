"""OpenAPI links and examples: how one answer leads to the next call.

A client generator shows links as "what you can do with this object"; a stateful fuzzer
follows them to reach real objects (a create's id into its get, update and delete; a list's
first item into its get). Examples give every operation a request that works on the demo
data (``manage.py seed_demo``: event 1 is the demo event, its required custom field c_1 a
dropdown whose choice 1 is "Beginner").
"""

from __future__ import annotations

import copy

FIRST = "$response.body#/items/0/id"
CREATED = "$response.body#/id"


def _each(operation_ids: tuple[str, ...], parameters: dict, description: str) -> dict:
    return {
        operation_id: {
            "operationId": operation_id,
            "parameters": dict(parameters),
            "description": description,
        }
        for operation_id in operation_ids
    }


def _body(operation_id: str, body: dict, description: str, parameters: dict | None = None):
    link = {"operationId": operation_id, "requestBody": body, "description": description}
    if parameters:
        link["parameters"] = parameters
    return {operation_id: link}


SESSION_ITEM = (
    "sessions_retrieve",
    "sessions_partial_update",
    "sessions_update",
    "sessions_update_alias",
    "sessions_destroy",
    "sessions_history",
    "sessions_registrants",
)
REGISTRANT_ITEM = (
    "registrants_retrieve",
    "registrants_partial_update",
    "registrants_update",
    "registrants_destroy",
    "registrant_sessions_list",
)
SPEAKER_ITEM = (
    "speakers_retrieve",
    "speakers_partial_update",
    "speakers_update",
    "speakers_destroy",
)
SESSION_TYPE_ITEM = (
    "session_types_retrieve",
    "session_types_partial_update",
    "session_types_update",
    "session_types_destroy",
)
WEBHOOK_ITEM = (
    "webhooks_retrieve",
    "webhooks_partial_update",
    "webhooks_update",
    "webhooks_destroy",
    "webhooks_deliveries",
)

# (source operationId, status) -> links (by target operationId).
LINKS: dict[tuple[str, str], dict] = {
    ("events_list", "200"): {
        **_each(("events_retrieve",), {"path.id": FIRST}, "The first event."),
        **_each(("sessions_list",), {"query.event_id": FIRST}, "The first event's sessions."),
        **{
            target: {
                "operationId": target,
                "requestBody": {"event_id": FIRST},
                "description": "Create one in the first event.",
            }
            for target in (
                "sessions_create",
                "speakers_create",
                "registrants_create",
                "session_types_create",
            )
        },
    },
    ("sessions_list", "200"): _each(SESSION_ITEM, {"path.id": FIRST}, "The first session."),
    ("sessions_create", "201"): {
        **_each(SESSION_ITEM, {"path.id": CREATED}, "The session just created."),
        "sessions_partial_update": {
            "operationId": "sessions_partial_update",
            "parameters": {"path.id": CREATED, "header.If-Match": "$response.header.ETag"},
            "description": "Edit the session just created, if no one else has.",
        },
    },
    ("sessions_retrieve", "200"): {
        "sessions_partial_update": {
            "operationId": "sessions_partial_update",
            "parameters": {
                "path.id": "$request.path.id",
                "header.If-Match": "$response.header.ETag",
            },
            "description": "Edit this session if it is still the version read.",
        },
    },
    ("sessions_registrants", "200"): {
        **_each(
            ("registrants_retrieve",),
            {"path.id": "$response.body#/items/0/registrant_id"},
            "The first registrant holding this session.",
        ),
        **_each(
            ("registrant_sessions_destroy",),
            {
                "path.id": "$response.body#/items/0/registrant_id",
                "path.session_id": "$request.path.id",
            },
            "Give the seat up.",
        ),
        **_body(
            "registrant_sessions_create",
            {"session_id": "$request.path.id"},
            "Select it again (answered 200: already held).",
            {"path.id": "$response.body#/items/0/registrant_id"},
        ),
    },
    ("registrants_list", "200"): _each(
        REGISTRANT_ITEM, {"path.id": FIRST}, "The first registrant."
    ),
    ("registrants_create", "201"): _each(
        REGISTRANT_ITEM, {"path.id": CREATED}, "The registrant just created."
    ),
    ("registrant_sessions_list", "200"): _each(
        ("registrant_sessions_destroy",),
        {"path.id": "$request.path.id", "path.session_id": "$response.body#/items/0/session_id"},
        "Give up the first session held.",
    ),
    ("registrant_sessions_create", "201"): _each(
        ("registrant_sessions_destroy",),
        {"path.id": "$request.path.id", "path.session_id": "$response.body#/session_id"},
        "Give the seat just taken up again.",
    ),
    ("speakers_list", "200"): _each(SPEAKER_ITEM, {"path.id": FIRST}, "The first speaker."),
    ("speakers_create", "201"): _each(
        SPEAKER_ITEM, {"path.id": CREATED}, "The speaker just created."
    ),
    ("session_types_list", "200"): _each(
        SESSION_TYPE_ITEM, {"path.id": FIRST}, "The first session type."
    ),
    ("session_types_create", "201"): _each(
        SESSION_TYPE_ITEM, {"path.id": CREATED}, "The session type just created."
    ),
    ("webhooks_list", "200"): _each(WEBHOOK_ITEM, {"path.id": FIRST}, "The first webhook."),
    ("messages_list", "200"): _each(("messages_retrieve",), {"path.id": FIRST}, "The newest."),
    ("schedule_proposals_create", "202"): _each(
        ("schedule_proposals_retrieve",), {"path.id": CREATED}, "The suggestion just asked for."
    ),
    ("personal_data_erasures_create", "202"): _each(
        ("personal_data_erasures_retrieve",), {"path.id": CREATED}, "The erasure just asked for."
    ),
    ("webhooks_create", "201"): _each(
        WEBHOOK_ITEM, {"path.id": CREATED}, "The webhook just created."
    ),
    ("oauth2_token", "200"): {
        target: {
            "operationId": target,
            "requestBody": {"token": "$response.body#/access_token"},
            "description": description,
        }
        for target, description in (
            ("oauth2_introspect", "Describe the token just issued."),
            ("oauth2_revoke_token", "Revoke the token just issued."),
        )
    },
}

# Request bodies that work on the demo data, by operationId.
BODY_EXAMPLES: dict[str, dict] = {
    "sessions_create": {
        "event_id": 1,
        "name": "Keeping a schedule honest",
        "description": "Forty minutes on clashes, rooms and the people in them.",
        "capacity": 40,
        "session_status": "submitted",
        "custom_fields": {"c_1": [{"id": 1}]},
    },
    "sessions_partial_update": {"name": "Keeping a schedule honest (part 2)"},
    "sessions_update": {"name": "Keeping a schedule honest", "capacity": 60},
    "sessions_update_alias": {"name": "Keeping a schedule honest", "capacity": 60},
    "registrants_create": {
        "event_id": 1,
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace.hopper@example.com",
    },
    "registrants_partial_update": {"last_name": "Murray Hopper"},
    "registrants_update": {"first_name": "Grace", "last_name": "Murray Hopper"},
    "registrant_sessions_create": {"session_id": 1},
    "speakers_create": {
        "event_id": 1,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines Ltd",
    },
    "speakers_partial_update": {"job_title": "Programmer"},
    "speakers_update": {"first_name": "Ada", "last_name": "King"},
    "session_types_create": {"event_id": 1, "name": "Panel", "default_minutes": 45},
    "session_types_partial_update": {"default_minutes": 40},
    "session_types_update": {"name": "Talk", "default_minutes": 30},
    "webhooks_create": {
        "url": "https://hooks.example.com/sessions",
        "events": ["session.*", "selection.created"],
        "description": "CRM sync",
    },
    "webhooks_partial_update": {"active": 1},
    "schedule_proposals_create": {"move_placed": 0},
    "personal_data_erasures_create": {"email": "ada@example.org"},
    "webhooks_update": {"url": "https://hooks.example.com/sessions", "events": ["*"]},
    "oauth2_token": {"grant_type": "client_credentials", "scope": "sessions:read"},
    "oauth2_revoke_token": {"token": "an-access-token", "token_type_hint": "access_token"},
    "oauth2_introspect": {"token": "an-access-token"},
}
# Parameters' examples, by (in, name).
PARAMETER_EXAMPLES: dict[tuple[str, str], object] = {
    ("path", "id"): 1,
    ("path", "session_id"): 1,
    ("query", "event_id"): 1,
    ("query", "page"): 1,
    ("query", "per-page"): 20,
    ("query", "session_status"): "approved,live",
    ("query", "date_from"): "2027-03-01",
    ("query", "updated_since"): "2027-01-01T00:00:00Z",
    ("query", "sort"): "date,start_time",
    ("query", "fields"): "id,name,date,start_time",
    ("query", "expand"): "location",
    ("query", "search"): "keynote",
    ("query", "email"): "ada@example.org",
}

# Where one operation's example needs another object: demo session 8 is a submitted talk,
# which can be deleted (the live session 1 cannot).
OPERATION_PARAMETER_EXAMPLES: dict[tuple[str, str, str], object] = {
    ("sessions_destroy", "path", "id"): 8,
}


def add_links_and_examples(result: dict) -> None:
    """Links on each answer that leads somewhere; an example on every operation."""
    operations = {
        operation["operationId"]: operation
        for item in result["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for (source, status), links in LINKS.items():
        response = operations[source]["responses"][status]
        response["links"] = {
            _link_name(target): copy.deepcopy(link) for target, link in links.items()
        }
    for operation_id, operation in operations.items():
        for parameter in operation.get("parameters", []):
            where = (parameter["in"], parameter["name"])
            example = OPERATION_PARAMETER_EXAMPLES.get(
                (operation_id, *where), PARAMETER_EXAMPLES.get(where)
            )
            if example is not None:
                parameter["example"] = example
        body = BODY_EXAMPLES.get(operation_id)
        if body is None:
            continue
        for media_type, content in operation["requestBody"]["content"].items():
            if media_type == "application/json":
                content["example"] = body
            else:  # form: the flat fields only
                content["example"] = {
                    key: value for key, value in body.items() if not isinstance(value, list)
                }


def _link_name(operation_id: str) -> str:
    return "".join(part.capitalize() for part in operation_id.split("_"))
