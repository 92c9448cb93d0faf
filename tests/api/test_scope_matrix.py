"""Every API operation against every caller: no token, a token of each single scope, and a
client of another organisation. The expected answers are one table (``REQUIRED``), the same
as the integrators' scope table; an operation in the schema without a row fails here, so a
new endpoint cannot ship without saying who may call it.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from sessions_app import services
from sessions_app.models import PrivacyRequest, ScheduleProposal, Speaker
from sessions_app.webhooks import subscriptions
from tests import factories

# operationId -> the scope it needs (None: no token needed).
REQUIRED: dict[str, str | None] = {
    "events_list": "sessions:read",
    "events_retrieve": "sessions:read",
    "locations_list": "sessions:read",
    "tracks_list": "sessions:read",
    "session_fields_list": "sessions:read",
    "sessions_list": "sessions:read",
    "sessions_retrieve": "sessions:read",
    "sessions_history": "sessions:read",
    "sessions_create": "sessions:write",
    "sessions_update": "sessions:write",
    "sessions_partial_update": "sessions:write",
    "sessions_update_alias": "sessions:write",
    "sessions_destroy": "sessions:write",
    "sessions_reviews": "reviews:read",
    "session_types_list": "sessions:read",
    "session_types_retrieve": "sessions:read",
    "session_types_create": "sessions:write",
    "session_types_update": "sessions:write",
    "session_types_partial_update": "sessions:write",
    "session_types_destroy": "sessions:write",
    "speakers_list": "sessions:read",
    "speakers_retrieve": "sessions:read",
    "speakers_create": "sessions:write",
    "speakers_update": "sessions:write",
    "speakers_partial_update": "sessions:write",
    "speakers_destroy": "sessions:write",
    "sessions_registrants": "registrants:read",
    "registrants_list": "registrants:read",
    "registrants_retrieve": "registrants:read",
    "registrant_sessions_list": "registrants:read",
    "registrants_create": "registrants:write",
    "registrants_update": "registrants:write",
    "registrants_partial_update": "registrants:write",
    "registrants_destroy": "registrants:write",
    "registrant_sessions_create": "registrants:write",
    "registrant_sessions_destroy": "registrants:write",
    "webhooks_list": "webhooks:write",
    "webhooks_create": "webhooks:write",
    "webhooks_retrieve": "webhooks:write",
    "webhooks_update": "webhooks:write",
    "webhooks_partial_update": "webhooks:write",
    "webhooks_destroy": "webhooks:write",
    "webhooks_deliveries": "webhooks:write",
    # A message to a registrant also needs registrants:read (test below).
    "messages_list": "messages:read",
    "messages_retrieve": "messages:read",
    "schedule_proposals_create": "schedule:write",
    "schedule_proposals_retrieve": "schedule:write",
    "personal_data_retrieve": "personal-data",
    "personal_data_erasures_create": "personal-data",
    "personal_data_erasures_retrieve": "personal-data",
    "oauth2_token": None,
    "oauth2_revoke_token": None,
    "oauth2_introspect": None,
    "healthz": None,
    "readyz": None,
}
SCOPES = list(settings.OAUTH2_PROVIDER["SCOPES"])


def operations() -> list[tuple[str, str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (op["operationId"], method.upper(), path)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    )


OPERATIONS = operations()


def test_every_operation_has_a_row():
    assert sorted(REQUIRED) == sorted(op for op, _method, _path in OPERATIONS)


def test_the_schema_declares_the_scope_of_each_row():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    declared = {}
    for ops in schema["paths"].values():
        for op in ops.values():
            scopes = [s for entry in op.get("security", []) for s in entry.values()]
            declared[op["operationId"]] = scopes[0][0] if scopes and scopes[0] else None
    assert declared == REQUIRED


class World:
    """One organisation with one of everything an operation can name, and a caller per
    single scope (tokens from the real token endpoint)."""

    def __init__(self, organisation):
        self.organisation = organisation
        self.event = factories.event(organisation=organisation)
        self.session = factories.live(event=self.event, capacity=10)
        self.speaker = Speaker.objects.create(event=self.event, first_name="Grace")
        self.registrant = factories.registrant(event=self.event)
        services.selection_add(
            registrant_id=self.registrant.pk, session_id=self.session.pk, actor=services.SYSTEM
        )
        self.webhook, _secret = subscriptions.webhook_create(
            organisation_id=organisation.pk,
            data={"url": "https://hooks.example.com/in", "events": ["*"]},
        )
        self.message = factories.message(event=self.event, speaker=self.speaker)
        self.proposal = ScheduleProposal.objects.create(event=self.event)
        self.session_type = services.session_type_create(
            event_id=self.event.pk, data={"name": "Talk", "default_minutes": 30}
        )
        self.erasure = PrivacyRequest.objects.create(
            organisation=organisation, kind=PrivacyRequest.Kind.ERASURE, requested_by="x"
        )

    def path(self, template: str) -> str:
        first = {
            "/api/v1/events/{id}": self.event.pk,
            "/api/v1/sessions/": self.session.pk,
            "/api/v1/speakers/": self.speaker.pk,
            "/api/v1/registrants/": self.registrant.pk,
            "/api/v1/webhooks/": self.webhook.pk,
            "/api/v1/messages/": self.message.pk,
            "/api/v1/schedule-proposals/": self.proposal.pk,
            "/api/v1/session-types/": self.session_type.pk,
            "/api/v1/personal-data/erasures/": self.erasure.pk,
        }
        for prefix, pk in first.items():
            if template.startswith(prefix.split("{")[0]):
                template = template.replace("{id}", str(pk), 1)
                break
        return template.replace("{session_id}", str(self.session.pk))


def token_for(organisation, scopes: list[str]) -> str:
    from sessions_app.services.clients import api_client_create
    from tests.api.conftest import request_token

    api_client, secret = api_client_create(organisation=organisation, name="c", scopes=scopes)
    response = request_token(Client(), api_client.client_id, secret)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def call(method: str, path: str, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().generic(method, path, b"{}", content_type="application/json", **headers)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("operation", "method", "template"),
    [op for op in OPERATIONS if REQUIRED.get(op[0])],
    ids=[op[0] for op in OPERATIONS if REQUIRED.get(op[0])],
)
def test_each_caller_gets_what_the_table_says(operation, method, template):
    ours = World(factories.organisation(name="Ours", slug="ours"))
    theirs = factories.organisation(name="Theirs", slug="theirs")
    required = REQUIRED[operation]
    path = ours.path(template)
    answers = {"anonymous": call(method, path, None).status_code}
    for scope in SCOPES:
        if scope != required:  # refused before anything is read or written
            answers[scope] = call(method, path, token_for(ours.organisation, [scope])).status_code
    answers["other organisation"] = call(method, path, token_for(theirs, [required])).status_code
    allowed = call(method, path, token_for(ours.organisation, [required])).status_code

    expected = {scope: 403 for scope in SCOPES if scope != required}
    expected["anonymous"] = 401
    # Another organisation's objects answer as missing ones; its lists do not hold ours,
    # and a write through an item path never reaches ours.
    expected["other organisation"] = 404 if "{" in template else answers["other organisation"]
    assert answers == expected
    assert allowed not in (401, 403, 404, 500), allowed


@pytest.mark.django_db
def test_messages_to_registrants_need_the_registrant_scope_too():
    ours = World(factories.organisation(name="Ours", slug="ours"))
    to_registrant = factories.message(event=ours.event, registrant=ours.registrant)
    messages_only = token_for(ours.organisation, ["messages:read"])
    both = token_for(ours.organisation, ["messages:read", "registrants:read"])

    listed = call("GET", "/api/v1/messages", messages_only).json()
    assert [item["id"] for item in listed["items"]] == [ours.message.pk]
    assert ours.registrant.email not in str(listed)
    assert call("GET", f"/api/v1/messages/{to_registrant.pk}", messages_only).status_code == 403
    filtered = call("GET", f"/api/v1/messages?registrant_id={ours.registrant.pk}", messages_only)
    assert filtered.status_code == 403
    assert filtered["WWW-Authenticate"].endswith('scope="registrants:read"')

    listed = call("GET", "/api/v1/messages", both).json()
    assert sorted(item["id"] for item in listed["items"]) == sorted(
        [ours.message.pk, to_registrant.pk]
    )
    assert call("GET", f"/api/v1/messages/{to_registrant.pk}", both).status_code == 200
