"""The webhook deliveries in the schema (OpenAPI 3.1 ``webhooks``): one entry per event type.

The bodies are the ones ``webhooks.outbox.event_body`` builds; the headers the ones
``webhooks.delivery`` sends.
"""

from __future__ import annotations

from sessions_app.enums import WEBHOOK_EVENT_TYPES

_ID = {"type": "integer", "minimum": 1}
_OLD_NEW = {
    "type": "object",
    "properties": {"old": {}, "new": {}},
    "required": ["old", "new"],
    "additionalProperties": False,
}
_COMMON_DATA = {
    "session_id": {**_ID, "description": "The session the change is about."},
    "event_id": _ID,
    "actor": {"type": "string", "description": "Who made the change, as the history says."},
    "note": {"type": "string"},
    "changes": {
        "type": "object",
        "description": "Each changed field: its value before and after.",
        "additionalProperties": _OLD_NEW,
    },
}
COMPONENTS = {
    "SessionEventData": {
        "type": "object",
        "properties": {
            **_COMMON_DATA,
            "version": {
                "type": "integer",
                "minimum": 1,
                "description": "The session's version after this change.",
            },
            "session": {
                "description": "The session as the API answered it right after this change "
                "(its version is data.version); null for session.deleted.",
                "oneOf": [{"$ref": "#/components/schemas/Session"}, {"type": "null"}],
            },
        },
        "required": [*_COMMON_DATA, "version", "session"],
        "additionalProperties": False,
    },
    "SelectionEventData": {
        "type": "object",
        "properties": {
            **_COMMON_DATA,
            "registrants": {
                "type": "array",
                "description": "The registrants whose selection changed.",
                "items": {
                    "type": "object",
                    "properties": {
                        "registrant_id": _ID,
                        "old": {"type": ["string", "null"]},
                        "new": {"type": ["string", "null"]},
                    },
                    "required": ["registrant_id", "old", "new"],
                    "additionalProperties": False,
                },
            },
            "seats_taken": {"type": "integer", "minimum": 0},
            "waitlist_count": {"type": "integer", "minimum": 0},
            "interest_count": {"type": "integer", "minimum": 0},
        },
        "required": [*_COMMON_DATA, "registrants"],
        "additionalProperties": False,
    },
    "RegistrantEventData": {
        "type": "object",
        "description": "A registrant's personal data was erased on request: only ids, never "
        "the person's name or address. Erase what you hold about this registrant too.",
        "properties": {
            "registrant_id": _ID,
            "event_id": _ID,
            "actor": {"type": "string", "description": "Who asked for the erasure."},
        },
        "required": ["registrant_id", "event_id", "actor"],
        "additionalProperties": False,
    },
}

HEADERS = (
    ("X-Webhook-Id", "The event's id, the same in every attempt: drop an id already seen."),
    ("X-Webhook-Event", "The event type."),
    ("X-Webhook-Attempt", "1 for the first attempt, then 2, 3, ..."),
    (
        "X-Webhook-Signature",
        "sha256=<hex HMAC-SHA256 of the raw body keyed with the subscription's secret>.",
    ),
)


def _delivery(event_type: str) -> dict:
    data = (
        "SelectionEventData"
        if event_type.startswith("selection.")
        else "RegistrantEventData"
        if event_type.startswith("registrant.")
        else "SessionEventData"
    )
    return {
        "post": {
            "operationId": "webhook_" + event_type.replace(".", "_"),
            "summary": f"{event_type}: sent to each subscription that lists it",
            "tags": ["webhooks"],
            "parameters": [
                {
                    "name": name,
                    "in": "header",
                    "required": True,
                    "description": text,
                    "schema": {"type": "string"},
                }
                for name, text in HEADERS
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "id": _ID,
                                "type": {"type": "string", "const": event_type},
                                "created_at": {"type": "string", "format": "date-time"},
                                "data": {"$ref": f"#/components/schemas/{data}"},
                            },
                            "required": ["id", "type", "created_at", "data"],
                            "additionalProperties": False,
                        }
                    }
                },
            },
            "responses": {
                "2XX": {"description": "Received."},
                "default": {
                    "description": "Anything else, a redirect or no answer within 5 s: tried "
                    "again later, for 24 hours."
                },
            },
        }
    }


def add_webhooks(result: dict) -> None:
    result["components"]["schemas"].update(COMPONENTS)
    result["webhooks"] = {event_type: _delivery(event_type) for event_type in WEBHOOK_EVENT_TYPES}
