"""The OpenAPI document, the docs page, and a property-based run against the schema."""

import base64
import re

import pytest
import schemathesis
import yaml
from django.contrib.staticfiles import finders
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from sessions_app import services
from sessions_app.enums import CustomFieldType
from sessions_app.services.clients import known_scopes
from sessions_app.webhooks import subscriptions
from tests import factories
from tests.fuzz_checks import refusals_name_a_rule

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/v1/sessions", "get"),
    ("/api/v1/sessions", "post"),
    ("/api/v1/sessions/{id}", "get"),
    ("/api/v1/sessions/{id}", "patch"),
    ("/api/v1/sessions/{id}", "put"),
    ("/api/v1/sessions/{id}", "delete"),
    ("/api/v1/sessions/update/{id}", "put"),
    ("/api/v1/sessions/{id}/history", "get"),
    ("/api/v1/sessions/fields", "get"),
    ("/api/v1/events", "get"),
    ("/api/v1/events/{id}", "get"),
    ("/api/v1/tracks", "get"),
    ("/api/v1/locations", "get"),
    ("/api/v1/registrants", "get"),
    ("/api/v1/registrants", "post"),
    ("/api/v1/registrants/{id}", "get"),
    ("/api/v1/registrants/{id}", "patch"),
    ("/api/v1/registrants/{id}", "put"),
    ("/api/v1/registrants/{id}", "delete"),
    ("/api/v1/registrants/{id}/sessions", "get"),
    ("/api/v1/registrants/{id}/sessions", "post"),
    ("/api/v1/registrants/{id}/sessions/{session_id}", "delete"),
    ("/api/v1/sessions/{id}/registrants", "get"),
    ("/api/v1/speakers", "get"),
    ("/api/v1/speakers", "post"),
    ("/api/v1/speakers/{id}", "get"),
    ("/api/v1/speakers/{id}", "patch"),
    ("/api/v1/speakers/{id}", "put"),
    ("/api/v1/speakers/{id}", "delete"),
    ("/api/v1/webhooks", "get"),
    ("/api/v1/webhooks", "post"),
    ("/api/v1/webhooks/{id}", "get"),
    ("/api/v1/webhooks/{id}", "patch"),
    ("/api/v1/webhooks/{id}", "put"),
    ("/api/v1/webhooks/{id}", "delete"),
    ("/api/v1/webhooks/{id}/deliveries", "get"),
    ("/oauth2/token", "post"),
    ("/oauth2/revoke_token", "post"),
    ("/oauth2/introspect", "post"),
    ("/healthz", "get"),
    ("/readyz", "get"),
}


@pytest.fixture
def openapi(db):
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    return response.json()


def test_schema_documents_every_endpoint(openapi):
    documented = {
        (path, method)
        for path, item in openapi["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }

    assert documented == OPERATIONS


def test_schema_has_the_client_credentials_flow(openapi):
    scheme = openapi["components"]["securitySchemes"]["oauth2"]

    assert scheme == {
        "type": "oauth2",
        "flows": {
            "clientCredentials": {
                "tokenUrl": "/oauth2/token",
                "scopes": {
                    "sessions:read": "Read sessions, events, tracks, locations and custom fields",
                    "sessions:write": "Create, update, delete sessions and change their status",
                    "registrants:read": "Read registrants and their session selections",
                    "registrants:write": (
                        "Create, update, delete registrants and select sessions for them"
                    ),
                    "webhooks:write": "Manage webhook subscriptions and read their delivery log",
                },
            }
        },
    }
    operations = openapi["paths"]
    assert operations["/api/v1/sessions"]["get"]["security"] == [{"oauth2": ["sessions:read"]}]
    assert operations["/api/v1/sessions/{id}"]["patch"]["security"] == [
        {"oauth2": ["sessions:write"]}
    ]
    assert operations["/api/v1/registrants"]["get"]["security"] == [
        {"oauth2": ["registrants:read"]}
    ]
    assert operations["/api/v1/registrants/{id}/sessions"]["post"]["security"] == [
        {"oauth2": ["registrants:write"]}
    ]
    assert operations["/api/v1/sessions/{id}/registrants"]["get"]["security"] == [
        {"oauth2": ["registrants:read"]}
    ]
    # One scope for a webhook's configuration and its log, read or written.
    for method in ("get", "post"):
        assert operations["/api/v1/webhooks"][method]["security"] == [
            {"oauth2": ["webhooks:write"]}
        ]
    assert operations["/api/v1/webhooks/{id}/deliveries"]["get"]["security"] == [
        {"oauth2": ["webhooks:write"]}
    ]


def test_schema_documents_problem_errors_for_every_api_operation(openapi):
    for path, item in openapi["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in item.items():
            responses = operation["responses"]
            expected = {"401", "403", "429"} | ({"404"} if "{id}" in path else set())
            if method in {"post", "put", "patch"}:
                expected |= {"400", "411", "413", "415", "422"}
                # Registrant, speaker and webhook edits refuse nothing with a 409; other
                # writes can.
                if path != "/api/v1/registrants/{id}" and not path.startswith(
                    ("/api/v1/webhooks", "/api/v1/speakers")
                ):
                    expected.add("409")
            assert expected <= set(responses), (method, path)
            for status in expected:
                content = responses[status]["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
            success = min(code for code in responses if code.startswith("2"))
            assert set(responses[success]["headers"]) >= {
                "X-Rate-Limit-Limit",
                "X-Rate-Limit-Remaining",
                "X-Rate-Limit-Reset",
            }


def test_schema_describes_the_session_fields(openapi):
    session = openapi["components"]["schemas"]["Session"]["properties"]

    assert set(session) == {
        "id", "event_id", "name", "admin_short_name", "badge_name", "description", "date",
        "start_time", "end_time", "use_event_timezone", "timezone", "starts_at", "ends_at",
        "capacity", "location_id", "track_id", "webinar_url", "sold_out_message", "secure_id",
        "session_status", "locked_when_saved", "selection_control", "selected_by_default",
        "prevent_session_conflicts", "custom_fields", "times_with_timezone", "direct_link",
        "seats_taken", "waitlist_count", "speaker_ids",
        "version", "created_at", "updated_at",
    }  # fmt: skip
    problem = openapi["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors", "conflicts", "allowed"} <= set(problem)


def test_docs_page_loads_no_asset_from_outside(db):
    http = Client()
    response = http.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    # No inline script (the Content-Security-Policy allows none): Swagger UI's start-up
    # script is the page's own ?script, everything else a static file.
    assert "/api/docs/?script=" in assets
    assert not re.search(r"<script>(?!\s*</script>)", html)
    for asset in assets:
        if asset == "/api/docs/?script=":
            continue
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    assert not re.search(r"https?://", html)
    script = http.get("/api/docs/?script=").content.decode()
    assert not re.search(r"https?://", script)
    assert '"validatorUrl": null' in script


# --- Property-based: the API against its own schema ---------------------------------------


@pytest.fixture
def api_schema(db, settings, make_caller):
    settings.API_RATE_LIMIT = {"REQUESTS": 10**9, "WINDOW_SECONDS": 600, "LIST_COST": 10}
    organisation = factories.organisation()
    event = factories.event(organisation=organisation)
    room = factories.location(event=event, capacity=100)
    track = factories.track(event=event)
    factories.custom_field(event=event, field_type=CustomFieldType.DROPDOWN, choices=["a", "b"])
    for hour, status in enumerate(("submitted", "approved", "live")):
        factories.scheduled(
            event=event,
            start=f"{10 + hour}:00",
            end=f"{10 + hour}:30",
            location=room,
            track=track,
            session_status=status,
        )
    factories.session(event=event)
    factories.registrant(event=event)
    services.speaker_create(event_id=event.pk, data={"first_name": "Ada"})
    subscriptions.webhook_create(
        organisation_id=organisation.pk,
        data={"url": "https://hooks.example.com/in", "events": ["*"]},
    )
    caller = make_caller(organisation, scopes=known_scopes())
    # Raw WSGI calls, unlike Django's test client, would close the test's database connection
    # after each request; keep it open as the test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # schemathesis.toml (the repository's) is found from the working directory.
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    basic = base64.b64encode(f"{caller.api_client.client_id}:{caller.secret}".encode()).decode()
    yield schema, {"Authorization": f"Bearer {caller.token}"}, {"Authorization": f"Basic {basic}"}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def _property(operation, mode, headers):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, additional_checks=[refusals_name_a_rule], headers=headers)

    return run


@pytest.mark.schema
@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.value)
def test_api_conforms_to_its_schema(api_schema, mode):
    """Every operation, with generated valid and invalid input, under every check schemathesis
    has (as ``schemathesis.toml`` sets them) and ours (``tests/fuzz_checks.py``): no 500, no
    answer off the schema, no valid input refused for its form, no invalid input accepted,
    405 with a true ``Allow`` for the methods not documented.

    A loop over operations rather than ``schemathesis.pytest``: its lazy-fixture runner
    relies on pytest internals this pytest no longer has.
    """
    schema, bearer, basic = api_schema
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = basic if operation.path.startswith("/oauth2/") else bearer
        inputs = [operation.path_parameters, operation.query, operation.headers, operation.body]
        if mode == GenerationMode.NEGATIVE and not any(len(group) for group in inputs):
            continue  # /healthz, /readyz: no input to get wrong

        run = _property(operation, mode, headers)
        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_the_schema_is_published_at_versioned_addresses(openapi, db):
    http = Client()
    as_json = http.get("/api/v1/openapi.json")
    as_yaml = http.get("/api/v1/openapi.yaml")

    assert as_json.status_code == as_yaml.status_code == 200
    assert as_json.json() == openapi
    assert yaml.safe_load(as_yaml.content) == openapi
    assert openapi["openapi"] == "3.1.0"
    assert openapi["info"]["version"] == "1.1.0"


def test_introspection_answers_post_only(db):
    response = Client().get("/oauth2/introspect", {"token": "x"})

    assert response.status_code == 405
    assert {method.strip() for method in response["Allow"].split(",")} == {"POST", "OPTIONS"}


def test_query_parameters_and_bodies_say_what_the_server_enforces(openapi):
    parameters = {
        parameter["name"]: parameter
        for parameter in openapi["paths"]["/api/v1/sessions"]["get"]["parameters"]
    }
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 10**9}
    assert parameters["per-page"]["schema"]["maximum"] == 200
    assert parameters["event_id"]["schema"]["minimum"] == 1
    assert parameters["ids"]["allowEmptyValue"] is True
    schemas = openapi["components"]["schemas"]
    for name, component in schemas.items():
        if name.endswith(("Request", "RequestForm")):
            assert component["additionalProperties"] is False, name
    form = schemas["SessionCreateBodyRequestForm"]["properties"]
    assert "custom_fields" not in form and "speaker_ids" not in form
    assert "nullable" not in str(openapi)
