"""OpenAPI pieces the views share, and the hook that completes the generated document.

The hook adds what drf-spectacular cannot see: the django-oauth-toolkit endpoints, the
rate-limit headers every answer carries, and the ETag/Location headers.
"""

from __future__ import annotations

import copy

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from sessions_app.api import listing
from sessions_app.api.schema_links import add_links_and_examples
from sessions_app.api.schema_webhooks import add_webhooks
from sessions_app.api.serializers import ProblemSerializer
from sessions_app.enums import SessionStatus
from sessions_app.validators import HTTP_URL_FORM
from sessions_app.wire.session_input import FORM_NULLABLE, MAX_ID

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_DESCRIPTIONS = {
    400: "The body is not valid JSON or not an object, or a query parameter has the wrong form.",
    401: "No token, or an unknown, expired or revoked one (WWW-Authenticate: Bearer).",
    403: "The token lacks the scope.",
    404: "No such object in your organisation.",
    405: "Method not allowed.",
    409: "Scheduling clash (conflicts), status move not allowed (allowed), or deleting a "
    "live session.",
    411: "A chunked body on a server that cannot read one; send Content-Length.",
    412: "If-Match does not match the current ETag; nothing was written.",
    413: "The body is over 1 MiB.",
    415: "The body is neither JSON nor form-encoded.",
    422: "A field's value breaks a rule; errors names each field.",
    429: "Rate limit used up; see Retry-After.",
    503: "The database is briefly unreachable; try again after Retry-After seconds.",
}


def problems(*statuses: int) -> dict:
    return {
        (status, PROBLEM_MEDIA_TYPE): OpenApiResponse(
            ProblemSerializer, description=PROBLEM_DESCRIPTIONS[status]
        )
        for status in statuses
    }


ID_PARAMETER = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The id.")
VALIDATE_ONLY_PARAMETER = OpenApiParameter(
    "validate_only",
    str,
    enum=listing.FLAG_VALUES,
    description="1: run every check and answer the result, writing nothing.",
)
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description=(
        "Write only if the session is still at the version of this ETag (else 412). Seats "
        "taken or given up since do not count: attendance is not an edit of the session."
    ),
)
IF_NONE_MATCH_PARAMETER = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="304 Not Modified when the session's ETag is still this one.",
)
SHAPE_PARAMETERS = [
    OpenApiParameter(
        "fields",
        str,
        description=(
            "Comma list of the fields to answer, e.g. id,name,date. A name the object does "
            "not have is left out, as the vendor's framework does."
        ),
    ),
    OpenApiParameter(
        "expand",
        str,
        description=(
            "Comma list of related objects to embed beside their ids: event, track, location, "
            "speakers (sessions); sessions (speakers). A name that cannot be expanded here is "
            "left out."
        ),
    ),
]
IDS_PARAMETER = OpenApiParameter(
    "ids",
    str,
    description="Comma list of at most 100 ids: only these (more is 400).",
    pattern=r"^[0-9]{1,18}(,[0-9]{1,18}){0,99}$",
)
LIST_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number from 1 (default 1)."),
    OpenApiParameter("per-page", int, description="Items per page, 1-200 (default 20)."),
    *SHAPE_PARAMETERS,
    IDS_PARAMETER,
]
# Objects that ``fields`` can cut down: their answers document no required property.
SHAPED_COMPONENTS = (
    "Session",
    "Event",
    "Track",
    "Location",
    "SessionType",
    "CustomField",
    "SessionChange",
    "Registrant",
    "Selection",
    "SessionAttendee",
    "Webhook",
    "WebhookDelivery",
    "Speaker",
    "Message",
    "Proposal",
)
SESSION_LIST_PARAMETERS = [
    OpenApiParameter("event_id", int, description="Only this event's sessions."),
    OpenApiParameter("track_id", int),
    OpenApiParameter("location_id", int),
    OpenApiParameter(
        "session_status",
        str,
        description="Comma list of: " + ", ".join(SessionStatus.values),
        examples=[],
    ),
    OpenApiParameter("date", OpenApiTypes.DATE, description="Sessions on this day."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="On or after this day."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="On or before this day."),
    OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description="Changed at or after this instant (ISO 8601; no offset means UTC).",
    ),
    OpenApiParameter(
        "search", str, description="In name, admin short name, badge name and description."
    ),
    OpenApiParameter(
        "sort",
        str,
        description=(
            "Comma list of name, date, start_time, created_at, updated_at, id; prefix - for "
            "descending. Default id. Empty values sort last."
        ),
    ),
    *LIST_PARAMETERS,
]

RATE_HEADERS = {
    "X-Rate-Limit-Limit": "Requests allowed per window.",
    "X-Rate-Limit-Remaining": "Requests left in this window (a list request counts 10).",
    "X-Rate-Limit-Reset": "Seconds until the window starts again.",
}


class ClientTokenScheme(DjangoOAuthToolkitScheme):
    target_class = "sessions_app.api.authentication.ClientTokenAuthentication"
    name = "oauth2"


def _header(description: str, schema_type: str = "string") -> dict:
    return {"description": description, "schema": {"type": schema_type}}


def _problem_ref(description: str) -> dict:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _oauth_form(properties: dict, required: list[str]) -> dict:
    properties = copy.deepcopy(properties)
    for schema in properties.values():
        _no_nul(schema)  # oauthlib refuses a NUL in any parameter (400 invalid_request)
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    # Other parameters are ignored (RFC 6749 3.1), a NUL in one is not.
                    "additionalProperties": {"type": "string", **NO_NUL},
                }
            }
        },
    }


CLIENT_CREDENTIALS_PROPERTIES = {
    "client_id": {"type": "string", "description": "Unless sent with HTTP Basic."},
    "client_secret": {"type": "string", "description": "Unless sent with HTTP Basic."},
}


def oauth_paths() -> dict:
    security = [{"clientBasic": []}, {}]
    return {
        "/oauth2/token": {
            "post": {
                "operationId": "oauth2_token",
                "summary": "Get an access token (client credentials)",
                "tags": ["oauth2"],
                "description": (
                    "Authenticate the client with HTTP Basic (client_id:client_secret) or with "
                    "client_id and client_secret form fields. Without scope the token gets "
                    "every scope the client's record allows. Tokens last 1800 seconds."
                ),
                "security": security,
                "requestBody": _oauth_form(
                    {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "scope": {
                            "type": "string",
                            "example": "sessions:read sessions:write",
                            "description": "Space-separated; optional.",
                        },
                        **CLIENT_CREDENTIALS_PROPERTIES,
                    },
                    ["grant_type"],
                ),
                "responses": {
                    "200": {
                        "description": "An access token (RFC 6749 §5.1).",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "access_token": {"type": "string"},
                                        "token_type": {"type": "string", "enum": ["Bearer"]},
                                        "expires_in": {"type": "integer", "example": 1800},
                                        "scope": {"type": "string"},
                                    },
                                    "required": ["access_token", "token_type", "expires_in"],
                                }
                            }
                        },
                    },
                    "400": _problem_ref("invalid_request, invalid_scope, unsupported_grant_type."),
                    "401": _problem_ref("invalid_client: unknown client or wrong secret."),
                    "405": _problem_ref("Only POST."),
                    "411": _problem_ref(PROBLEM_DESCRIPTIONS[411]),
                    "413": _problem_ref("The body is over 1 MiB."),
                    "429": _problem_ref(
                        "Too many token requests for this client id or from this address "
                        "(TOKEN_RATE_LIMIT); see Retry-After."
                    ),
                },
            }
        },
        "/oauth2/revoke_token": {
            "post": {
                "operationId": "oauth2_revoke_token",
                "summary": "Revoke one of your tokens (RFC 7009)",
                "tags": ["oauth2"],
                "security": security,
                "requestBody": _oauth_form(
                    {
                        "token": {"type": "string", "minLength": 1},
                        "token_type_hint": {
                            "type": "string",
                            "examples": ["access_token", "refresh_token"],
                            "description": "access_token or refresh_token; another hint is "
                            "ignored (RFC 7009 §2.1).",
                        },
                        **CLIENT_CREDENTIALS_PROPERTIES,
                    },
                    ["token"],
                ),
                "responses": {
                    "200": {"description": "Revoked, or it was not a token of yours."},
                    "400": _problem_ref("invalid_request."),
                    "401": _problem_ref("invalid_client."),
                    "405": _problem_ref("Only POST."),
                    "411": _problem_ref(PROBLEM_DESCRIPTIONS[411]),
                    "413": _problem_ref("The body is over 1 MiB."),
                },
            }
        },
        "/oauth2/introspect": {
            "post": {
                "operationId": "oauth2_introspect",
                "summary": "Describe one of your tokens (RFC 7662)",
                "tags": ["oauth2"],
                "security": security,
                "requestBody": _oauth_form(
                    {"token": {"type": "string"}, **CLIENT_CREDENTIALS_PROPERTIES},
                    ["token"],
                ),
                "responses": {
                    "200": {
                        "description": "active is false for unknown, expired, revoked tokens "
                        "and for other clients' tokens.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "active": {"type": "boolean"},
                                        "scope": {"type": "string"},
                                        "exp": {"type": "integer"},
                                        "client_id": {"type": "string"},
                                    },
                                    "required": ["active"],
                                }
                            }
                        },
                    },
                    "400": _problem_ref("The token parameter is missing."),
                    "403": _problem_ref("The client did not authenticate."),
                    "405": _problem_ref("POST only."),
                    "411": _problem_ref(PROBLEM_DESCRIPTIONS[411]),
                    "413": _problem_ref("The body is over 1 MiB."),
                },
            }
        },
    }


def health_paths() -> dict:
    checks = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "checks": {
                "type": "object",
                "properties": {"database": {"type": "string"}, "cache": {"type": "string"}},
            },
        },
        "required": ["status"],
    }

    def probe(operation_id: str, summary: str, responses: dict) -> dict:
        return {
            "get": {
                "operationId": operation_id,
                "summary": summary,
                "tags": ["health"],
                "security": [{}],
                "responses": responses,
            }
        }

    body = {"application/json": {"schema": checks}}
    return {
        "/healthz": probe(
            "healthz",
            "Liveness: the process answers (for load balancers; no auth, no rate limit)",
            {"200": {"description": "Alive.", "content": body}},
        ),
        "/readyz": probe(
            "readyz",
            "Readiness: the database and the cache answer within short timeouts",
            {
                "200": {"description": "Ready.", "content": body},
                "503": {
                    "description": "The database or the cache does not answer; checks says which.",
                    "content": body,
                    "headers": {"Retry-After": _header("Seconds to wait.", "integer")},
                },
            },
        ),
    }


def _anchored(form: str) -> str:
    return f"^{form}$"


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": listing.MAX_ID}
TEXT_SCHEMA = {"type": "string", "pattern": _anchored(listing.TEXT_FORM)}
DATE_SCHEMA = {"type": "string", "format": "date"}
FLAG_SCHEMA = {"type": "string", "enum": listing.FLAG_VALUES}


# Each parameter's schema by where and name, as ``api.listing`` reads it: the same forms
# and bounds.
PARAMETER_SCHEMAS: dict[tuple[str, str], dict] = {
    ("path", "id"): ID_SCHEMA,
    ("path", "session_id"): ID_SCHEMA,
    ("query", "page"): {"type": "integer", "minimum": 1, "maximum": listing.MAX_PAGE},
    ("query", "per-page"): {
        "type": "integer",
        "minimum": 1,
        "maximum": listing.MAX_PER_PAGE,
    },
    ("query", "event_id"): ID_SCHEMA,
    ("query", "track_id"): ID_SCHEMA,
    ("query", "registrant_id"): ID_SCHEMA,
    ("query", "speaker_id"): ID_SCHEMA,
    ("query", "location_id"): ID_SCHEMA,
    ("query", "ids"): {"type": "string", "pattern": _anchored(listing.IDS_FORM)},
    ("query", "session_status"): {
        "type": "string",
        "pattern": _anchored(listing.STATUSES_FORM),
    },
    ("query", "date"): DATE_SCHEMA,
    ("query", "date_from"): DATE_SCHEMA,
    ("query", "date_to"): DATE_SCHEMA,
    ("query", "updated_since"): {"type": "string", "format": "date-time"},
    ("query", "search"): TEXT_SCHEMA,
    ("query", "fields"): TEXT_SCHEMA,
    ("query", "expand"): TEXT_SCHEMA,
    ("query", "sort"): {
        "type": "string",
        "pattern": f"^({listing.sort_form(listing.SESSION_SORTS)})?$",
    },
    ("query", "validate_only"): FLAG_SCHEMA,
    ("query", "override_capacity"): FLAG_SCHEMA,
    ("query", "override_lock"): FLAG_SCHEMA,
    ("query", "notify"): FLAG_SCHEMA,
}


def _exact_parameters(operation: dict) -> None:
    for parameter in operation.get("parameters", []):
        schema = PARAMETER_SCHEMAS.get((parameter["in"], parameter["name"]))
        if schema is not None:
            parameter["schema"] = {**copy.deepcopy(schema), **_kept(parameter["schema"])}
        if parameter["in"] == "query" and not parameter.get("required"):
            parameter["allowEmptyValue"] = True  # an empty value is no value (api.listing)


def _kept(schema: dict) -> dict:
    """What a generated parameter schema says beyond its form: its enum, its description."""
    return {key: schema[key] for key in ("enum", "description") if key in schema}


# In a form body each value is text: what the JSON body's property becomes there.
FORM_ONLY_JSON = ("custom_fields", "speaker_ids", "session_ids", "events")


def _form_property(schema: dict, *, nullable_as_empty: bool) -> dict:
    schema = copy.deepcopy(schema)
    types = schema.get("type")
    if isinstance(types, list) and "null" in types:
        schema["type"] = next(t for t in types if t != "null")
        if nullable_as_empty:
            return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    if "oneOf" in schema and any(part.get("type") == "boolean" for part in schema["oneOf"]):
        # A flag: in a form, one of the four words.
        return {"type": "string", "enum": listing.FLAG_VALUES, **_kept(schema)}
    return schema


def _form_component(components: dict, name: str) -> str:
    """``<name>Form``: the JSON body's flat fields, as a form body carries them."""
    form_name = f"{name}Form"
    if form_name in components:
        return form_name
    body = copy.deepcopy(components[name])
    nullable = set(FORM_NULLABLE)
    body["properties"] = {
        field: _form_property(schema, nullable_as_empty=field in nullable)
        for field, schema in body["properties"].items()
        if field not in FORM_ONLY_JSON
    }
    if "required" in body:
        body["required"] = [field for field in body["required"] if field in body["properties"]]
    body["description"] = (
        body.get("description", "") + " As a form body: the flat fields only; custom fields "
        "and lists are sent in JSON."
    ).strip()
    components[form_name] = body
    return form_name


NO_NUL = {"pattern": _anchored(listing.TEXT_FORM)}
URL_FORMS = {
    "url": _anchored(HTTP_URL_FORM),
    "webinar_url": f"^({HTTP_URL_FORM})?$",
}

# What str.strip() takes away (str.isspace): a speaker's first name is stripped before it is
# checked, so one made only of these is blank (422).
PYTHON_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = {"pattern": rf"^[^\x00]*[^\x00{PYTHON_SPACE}][^\x00]*$"}
# A person's names and the like are one line (models.fields.one_line): no control
# character, no line or paragraph separator. A speaker's are stripped first (what str.strip
# takes away may stand at either end); a registrant's are taken as sent.
CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
ONE_LINE_FIELDS = ("first_name", "last_name", "company", "job_title")
ONE_LINE = {"pattern": rf"^[^{CONTROL}]*$"}
ONE_LINE_STRIPPED = {
    "pattern": rf"^[{PYTHON_SPACE}]*([^{CONTROL}]*[^{CONTROL}{PYTHON_SPACE}])?[{PYTHON_SPACE}]*$"
}
ONE_LINE_NOT_BLANK = {
    "pattern": rf"^[{PYTHON_SPACE}]*[^{CONTROL}]*[^{CONTROL}{PYTHON_SPACE}][{PYTHON_SPACE}]*$"
}
# Fields stripped before the required check, by the components that carry them.
STRIPPED_REQUIRED = {
    (f"{patched}Speaker{json}{update}BodyRequest", "first_name")
    for patched, update in (("", ""), ("", "Update"), ("Patched", "Update"))
    for json in ("", "Json")
}
# A session type's name: one line, stripped, not blank (services.session_types).
STRIPPED_ONE_LINE = {
    (f"{patched}SessionType{update}BodyRequest", "name")
    for patched, update in (("", ""), ("", "Update"), ("Patched", "Update"))
}
# Ids of other objects in a body: a whole number the server looks up (wire.session_input).
REFERENCES = ("event_id", "location_id", "track_id", "session_type_id", "session_id")
REFERENCE_LISTS = ("speaker_ids", "session_ids")
REFERENCE_BOUNDS = {"minimum": 1, "maximum": MAX_ID}
# Lists whose items the server takes once each (validators.validate_speaker_ids).
UNIQUE_LISTS = ("speaker_ids",)


def _openapi_31(node) -> None:
    """``nullable`` (OpenAPI 3.0), left by hand-written field schemas, as 3.1 says it."""
    if isinstance(node, list):
        for item in node:
            _openapi_31(item)
        return
    if not isinstance(node, dict):
        return
    if node.pop("nullable", False):
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        elif "oneOf" in node or "anyOf" in node:
            node["oneOf" if "oneOf" in node else "anyOf"].append({"type": "null"})
    for value in node.values():
        _openapi_31(value)


def _no_nul(schema: dict) -> None:
    """Text the server refuses with a NUL in it (PostgreSQL cannot store one) says so."""
    types = schema.get("type")
    is_text = types == "string" or (isinstance(types, list) and "string" in types)
    if is_text and not {"pattern", "enum", "format"} & set(schema):
        schema.update(NO_NUL)


def _exact_bodies(result: dict) -> None:
    """Request bodies refuse what they do not name; a form body has its own component."""
    components = result["components"]["schemas"]
    for name, component in list(components.items()):
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
            for field, schema in component.get("properties", {}).items():
                if (name, field) in STRIPPED_ONE_LINE:
                    schema.update(ONE_LINE_NOT_BLANK)
                elif field in ONE_LINE_FIELDS:
                    if (name, field) in STRIPPED_REQUIRED:
                        schema.update(ONE_LINE_NOT_BLANK)
                    else:
                        schema.update(ONE_LINE_STRIPPED if "Speaker" in name else ONE_LINE)
                elif (name, field) in STRIPPED_REQUIRED:
                    schema.update(NOT_BLANK)
                if field in UNIQUE_LISTS:
                    schema["uniqueItems"] = True
                if field in REFERENCES:
                    schema.update(REFERENCE_BOUNDS)
                elif field in REFERENCE_LISTS:
                    schema["items"].update(REFERENCE_BOUNDS)
                if field in URL_FORMS:
                    schema.pop("format", None)
                    schema["pattern"] = URL_FORMS[field]
                elif field != "custom_fields":
                    _no_nul(schema)
    for item in result["paths"].values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {})
            form = content.get("application/x-www-form-urlencoded")
            if form and "$ref" in form["schema"]:
                name = form["schema"]["$ref"].rsplit("/", 1)[1]
                form["schema"] = {
                    "$ref": f"#/components/schemas/{_form_component(components, name)}"
                }


SESSION_ITEM_PATHS = ("/api/v1/sessions/{id}", "/api/v1/sessions/update/{id}")


def complete_schema(result, generator, request, public):
    """drf-spectacular postprocessing hook (runs after the enum hook)."""
    # The patterns take an optional trailing slash; document the canonical form without it.
    result["paths"] = {path.rstrip("/"): item for path, item in result["paths"].items()}
    _openapi_31(result)
    _exact_bodies(result)
    for path, item in result["paths"].items():
        for method, operation in item.items():
            _exact_parameters(operation)
            for status, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                for name, description in RATE_HEADERS.items():
                    headers[name] = _header(description, "integer")
                if status == "401":
                    headers["WWW-Authenticate"] = _header("Bearer challenge (RFC 6750).")
                if status == "429":
                    headers["Retry-After"] = _header("Seconds to wait.", "integer")
                if path in SESSION_ITEM_PATHS and status in ("200", "304"):
                    headers["ETag"] = _header("The session's version tag for If-Match.")
                if method == "post" and status == "201" and "{id}" not in path:
                    headers["Location"] = _header("URL of the new object.")
                    if path == "/api/v1/sessions":
                        headers["ETag"] = _header("The session's version tag for If-Match.")
    result["paths"].update(oauth_paths())
    for item in result["paths"].values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            responses["503"] = _problem_ref(PROBLEM_DESCRIPTIONS[503])
            responses["503"]["headers"] = {"Retry-After": _header("Seconds to wait.", "integer")}
            if "429" in responses:
                responses["429"].setdefault("headers", {})["Retry-After"] = _header(
                    "Seconds to wait.", "integer"
                )
    result["paths"].update(health_paths())
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["clientBasic"] = {
        "type": "http",
        "scheme": "basic",
        "description": "client_id and client_secret, for the /oauth2/ endpoints.",
    }
    for name in SHAPED_COMPONENTS:
        component = result["components"]["schemas"].get(name)
        if component is not None:
            component.pop("required", None)
            component["description"] = (
                component.get("description", "") + " With fields=, only the fields asked for."
            ).strip()
    result["components"]["schemas"]["Problem"]["description"] = (
        "RFC 9457 problem details, served as application/problem+json."
    )
    add_links_and_examples(result)
    add_webhooks(result)
    return result
