"""The OpenAPI document, the docs page, and a property-based run against the schema."""

import base64
import json
import re
import unicodedata
from collections import defaultdict
from contextlib import contextmanager

import pytest
import schemathesis
import yaml
from django.apps import apps
from django.contrib.staticfiles import finders
from django.core import signals
from django.core.management.color import no_style
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection, transaction
from django.test import Client
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, Phase, given, settings, strategies
from jsonschema import Draft202012Validator
from schemathesis import GenerationMode

# Not exported: the strategies of the examples an operation's schema gives.
from schemathesis.specs.openapi.examples import get_strategies_from_examples

from sessions_app import services
from sessions_app.enums import WEBHOOK_EVENT_TYPES, CustomFieldType, webhook_event_type
from sessions_app.models import ScheduleProposal, SessionChange
from sessions_app.notices import compose as notices
from sessions_app.services.clients import known_scopes
from sessions_app.webhooks import outbox, subscriptions
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
    ("/api/v1/sessions/{id}/reviews", "get"),
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
    ("/api/v1/personal-data", "get"),
    ("/api/v1/personal-data/erasures", "post"),
    ("/api/v1/personal-data/erasures/{id}", "get"),
    ("/api/v1/session-types", "get"),
    ("/api/v1/session-types", "post"),
    ("/api/v1/session-types/{id}", "get"),
    ("/api/v1/session-types/{id}", "patch"),
    ("/api/v1/session-types/{id}", "put"),
    ("/api/v1/session-types/{id}", "delete"),
    ("/api/v1/webhooks", "get"),
    ("/api/v1/webhooks", "post"),
    ("/api/v1/webhooks/{id}", "get"),
    ("/api/v1/webhooks/{id}", "patch"),
    ("/api/v1/webhooks/{id}", "put"),
    ("/api/v1/webhooks/{id}", "delete"),
    ("/api/v1/webhooks/{id}/deliveries", "get"),
    ("/api/v1/messages", "get"),
    ("/api/v1/events/{id}/schedule-proposals", "post"),
    ("/api/v1/schedule-proposals/{id}", "get"),
    ("/api/v1/messages/{id}", "get"),
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
                    "messages:read": (
                        "Read the messages sent to speakers and registrants, and their delivery"
                    ),
                    "schedule:write": "Ask for schedule suggestions and read them",
                    "reviews:read": "Read the reviews of sessions and their summary",
                    "personal-data": (
                        "Export everything held about a person, and erase it on request"
                    ),
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
    for path in ("/api/v1/messages", "/api/v1/messages/{id}"):
        assert operations[path]["get"]["security"] == [{"oauth2": ["messages:read"]}]


def test_schema_documents_problem_errors_for_every_api_operation(openapi):
    for path, item in openapi["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in item.items():
            responses = operation["responses"]
            expected = {"401", "403", "429"} | ({"404"} if "{id}" in path else set())
            if method in {"post", "put", "patch"}:
                expected |= {"400", "411", "413", "415", "422"}
                # Registrant, speaker, session type and webhook edits, and asking for a
                # suggestion or an erasure, refuse nothing with a 409; other writes can.
                if path not in (
                    "/api/v1/registrants/{id}",
                    "/api/v1/events/{id}/schedule-proposals",
                    "/api/v1/personal-data/erasures",
                ) and not path.startswith(
                    ("/api/v1/webhooks", "/api/v1/speakers", "/api/v1/session-types")
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
        "capacity", "location_id", "track_id", "session_type_id", "duration_minutes",
        "webinar_url", "sold_out_message", "secure_id",
        "session_status", "locked_when_saved", "selection_control", "selected_by_default",
        "prevent_session_conflicts", "pinned", "custom_fields", "times_with_timezone",
        "direct_link", "seats_taken", "waitlist_count", "interest_count", "speaker_ids",
        "speaker_confirmations",
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


def _ids_from_one():
    """The schema's examples name the demo's objects by id (event 1, session 1, ...): the
    fixture's objects get those ids. SQLite's counters go back with the test's rolled-back
    transaction; PostgreSQL's sequences do not, so they are set back here, for this app's
    tables, which are empty at the start of a test."""
    if connection.vendor != "postgresql":
        return
    tables = {model._meta.db_table for model in apps.get_app_config("sessions_app").get_models()}
    sequences = [
        sequence
        for sequence in connection.introspection.sequence_list()
        if sequence["table"] in tables
    ]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_by_name_sql(no_style(), sequences):
            cursor.execute(statement)


@pytest.fixture
def api_schema(db, settings, make_caller):
    settings.API_RATE_LIMIT = {"REQUESTS": 10**9, "WINDOW_SECONDS": 600, "LIST_COST": 10}
    _ids_from_one()
    organisation = factories.organisation()
    event = factories.event(organisation=organisation)
    room = factories.location(event=event, capacity=100)
    track = factories.track(event=event)
    factories.custom_field(event=event, field_type=CustomFieldType.DROPDOWN, choices=["a", "b"])
    # As in the demo: sessions 1 and 2 live, 8 a submitted talk (deletable), one unscheduled.
    statuses = ("live", "live", "approved", "submitted", "submitted", "approved", "live")
    for hour, status in enumerate(statuses):
        factories.scheduled(
            event=event,
            start=f"{9 + hour:02}:00",
            end=f"{9 + hour:02}:30",
            location=room,
            track=track,
            session_status=status,
        )
    submitted = factories.session(event=event)
    registrant = factories.registrant(event=event)
    services.selection_add(registrant_id=registrant.pk, session_id=1, actor=services.SYSTEM)
    services.speaker_create(event_id=event.pk, data={"first_name": "Ada"})
    services.session_type_create(event_id=event.pk, data={"name": "Talk", "default_minutes": 30})
    notices.welcome(registrant)  # message 1, as the demo's welcome to Ada
    ScheduleProposal.objects.create(event=event)  # suggestion 1
    subscriptions.webhook_create(
        organisation_id=organisation.pk,
        data={"url": "https://hooks.example.com/in", "events": ["*"]},
    )
    assert (event.pk, registrant.pk, submitted.pk) == (1, 1, 8)
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


@contextmanager
def _undone():
    """What the calls inside write is rolled back after: each operation, and each stateful
    scenario, starts from the fixture's objects (and Hypothesis sees the same API each time
    it replays a case)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# Valid input (with the stateful phase) on the SQLite run, whose run is the shorter one: what
# valid input may break is the same on either database. Invalid input on both: PostgreSQL
# refuses what SQLite keeps (a NUL character in text), and that must be a 4xx there too.
MODES = [
    pytest.param(GenerationMode.POSITIVE, marks=pytest.mark.sqlite, id="positive"),
    pytest.param(GenerationMode.NEGATIVE, id="negative"),
]
EXAMPLES_PER_OPERATION = 10
STATEFUL_SCENARIOS = 100


def _headers_for(case_or_operation, bearer, basic):
    operation = getattr(case_or_operation, "operation", case_or_operation)
    return basic if operation.path.startswith("/oauth2/") else bearer


def _property(operation, mode, headers, seen, strategy=None, max_examples=EXAMPLES_PER_OPERATION):
    @given(case=strategy if strategy is not None else operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case):
        response = case.call(headers=headers)
        seen[operation.label].add(response.status_code)
        case.validate_response(response, additional_checks=[refusals_name_a_rule], headers=headers)

    return run


def _stateful(schema, bearer, basic, seen, failures):
    """The stateful phase: chains of calls along the schema's links (and what schemathesis
    infers beside them), each answer checked as in the run above."""

    # Valid input only: an invalid step ends its chain (the negative run covers refusals).
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])

    class Machine(schema.as_state_machine()):
        def setup(self):
            super().setup()
            self.undo = _undone()
            self.undo.__enter__()

        def teardown(self):
            self.undo.__exit__(None, None, None)
            super().teardown()

        def get_call_kwargs(self, case):
            return {"headers": _headers_for(case, bearer, basic)}

        def after_call(self, response, case):
            seen[case.operation.label].add(response.status_code)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response, additional_checks=[refusals_name_a_rule], headers=kwargs["headers"]
            )

    try:
        Machine.run(
            settings=settings(
                max_examples=STATEFUL_SCENARIOS,
                stateful_step_count=20,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
        )
    except (Exception, BaseExceptionGroup) as exc:
        failures.append(f"stateful: {exc}")


@pytest.mark.schema
@pytest.mark.parametrize("mode", MODES)
def test_api_conforms_to_its_schema(api_schema, mode):
    """Every operation, with generated valid and invalid input, under every check schemathesis
    has (as ``schemathesis.toml`` sets them) and ours (``tests/fuzz_checks.py``): no 500, no
    answer off the schema, no valid input refused for its form, no invalid input accepted,
    405 with a true ``Allow`` for the methods not documented. The valid-input run goes on
    with the stateful phase, and between them every operation answers a 2xx at least once.

    A loop over operations rather than ``schemathesis.pytest``: its lazy-fixture runner
    relies on pytest internals this pytest no longer has.
    """
    schema, bearer, basic = api_schema
    failures = []
    seen = defaultdict(set)
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        headers = _headers_for(operation, bearer, basic)
        inputs = [operation.path_parameters, operation.query, operation.headers, operation.body]
        if mode == GenerationMode.NEGATIVE and not any(len(group) for group in inputs):
            continue  # /healthz, /readyz: no input to get wrong

        runs = [_property(operation, mode, headers, seen)]
        examples = get_strategies_from_examples(operation)
        if mode == GenerationMode.POSITIVE and examples:
            # The schema's examples first, each on the fixture's objects (they use the demo's
            # ids). Hypothesis's explicit phase would take them only now and then.
            runs.insert(
                0,
                _property(
                    operation,
                    mode,
                    headers,
                    seen,
                    strategy=strategies.one_of(examples),
                    max_examples=3 * len(examples),
                ),
            )
        try:
            for run in runs:
                with _undone():
                    run()
        # Collect every operation's failure, then report them all (schemathesis raises a
        # BaseExceptionGroup of them).
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
    if mode == GenerationMode.POSITIVE:
        _stateful(schema, bearer, basic, seen, failures)
        never = sorted(
            f"{operation.label}: {sorted(seen[operation.label])}"
            for operation in operations
            if not any(200 <= status < 300 for status in seen[operation.label])
        )
        assert not never, "operations never answered 2xx:\n" + "\n".join(never + failures)
    assert not failures, "\n\n".join(failures)


def test_the_schema_is_published_at_versioned_addresses(openapi, db):
    http = Client()
    as_json = http.get("/api/v1/openapi.json")
    as_yaml = http.get("/api/v1/openapi.yaml")

    assert as_json.status_code == as_yaml.status_code == 200
    assert as_json.json() == openapi
    assert yaml.safe_load(as_yaml.content) == openapi
    assert openapi["openapi"] == "3.1.0"
    assert openapi["info"]["version"] == "1.6.0"


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


def test_the_schema_is_valid_openapi_31(openapi):
    validate_schema(openapi)  # drf-spectacular's copy of the OpenAPI 3.1 meta-schema


def test_every_operation_has_examples_and_objects_link_to_their_operations(openapi):
    operations = {
        operation["operationId"]: operation
        for item in openapi["paths"].values()
        for operation in item.values()
    }
    for operation_id, operation in operations.items():
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert "example" in parameter, (operation_id, parameter["name"])
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            assert "example" in content, (operation_id, media_type)
    created = operations["sessions_create"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in created.values()} >= {
        "sessions_retrieve",
        "sessions_partial_update",
        "sessions_update",
        "sessions_destroy",
    }
    assert created["SessionsRetrieve"]["parameters"] == {"path.id": "$response.body#/id"}
    listed = operations["sessions_list"]["responses"]["200"]["links"]
    assert listed["SessionsRetrieve"]["parameters"] == {"path.id": "$response.body#/items/0/id"}
    for source, target in (
        ("registrants_create", "registrants_destroy"),
        ("speakers_create", "speakers_destroy"),
        ("webhooks_create", "webhooks_destroy"),
        ("registrants_list", "registrants_retrieve"),
        ("speakers_list", "speakers_retrieve"),
        ("webhooks_list", "webhooks_retrieve"),
    ):
        responses = operations[source]["responses"]
        links = responses["201" if "201" in responses else "200"]["links"]
        assert target in {link["operationId"] for link in links.values()}, (source, target)
    # Every link names an operation of the schema.
    for operation in operations.values():
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in operations


def test_webhook_bodies_are_what_the_schema_documents(openapi, db):
    """Each kind of event the outbox builds validates against its entry under ``webhooks``."""
    event = factories.event()
    session = factories.create_via_service(event=event, name="Draft")
    services.session_update(session_id=session.pk, data={"name": "Again"}, actor=services.SYSTEM)
    live = factories.live(event=event, start="14:00", end="15:00")
    registrant = factories.registrant(event=event)
    services.selection_add(registrant_id=registrant.pk, session_id=live.pk, actor=services.SYSTEM)
    services.selection_remove(
        registrant_id=registrant.pk, session_id=live.pk, actor=services.SYSTEM
    )
    services.session_set_status(session_id=session.pk, status="approved", actor=services.SYSTEM)
    services.session_delete(session_id=session.pk, actor=services.SYSTEM)

    seen = set()
    for change in SessionChange.objects.order_by("id"):
        event_type = webhook_event_type(change.action)
        if event_type is None:
            continue
        body = json.loads(outbox.event_body(change, event_type, None))
        entry = openapi["webhooks"][event_type]["post"]
        schema = entry["requestBody"]["content"]["application/json"]["schema"]
        # "#/components/..." resolves against the document the schema sits in.
        Draft202012Validator({**schema, "components": openapi["components"]}).validate(body)
        seen.add(event_type)
    assert seen >= {
        "session.created",
        "session.updated",
        "session.status.approved",
        "session.deleted",
        "selection.created",
        "selection.deleted",
    }
    assert set(openapi["webhooks"]) == set(WEBHOOK_EVENT_TYPES)


def test_a_speakers_first_name_pattern_is_what_strip_leaves(openapi):
    """The server strips a speaker's first name and then requires it, on one line: the
    schema's pattern refuses exactly the names that strip to nothing or keep a control
    character (models.fields.one_line)."""
    schemas = openapi["components"]["schemas"]
    pattern = schemas["SpeakerBodyRequest"]["properties"]["first_name"]["pattern"]
    for name in (
        "SpeakerJsonBodyRequest",
        "SpeakerUpdateBodyRequest",
        "SpeakerJsonUpdateBodyRequest",
        "PatchedSpeakerUpdateBodyRequest",
        "PatchedSpeakerJsonUpdateBodyRequest",
    ):  # a JSON body's first name is stripped and required as a form body's is
        assert schemas[name]["properties"]["first_name"]["pattern"] == pattern, name
    for code in range(0x3001):
        text = f" {chr(code)} "
        if code:
            left = text.strip()
            one_line = not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in left)
            assert bool(re.fullmatch(pattern, text)) == bool(left and one_line), hex(code)
    assert re.fullmatch(pattern, "\ufeff")  # not space to Python, nor to the server
    assert not re.fullmatch(pattern, "Ada\x00")
