"""OAuth2 client credentials, scopes, and organisation isolation."""

import datetime as dt
import hashlib

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from sessions_app.models import Session, SessionChange
from sessions_app.services.clients import api_client_create
from tests import factories
from tests.api.conftest import basic_auth, request_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def credentials(organisation):
    client, secret = api_client_create(
        organisation=organisation, name="Sync", scopes=["sessions:read", "sessions:write"]
    )
    return client, secret


def test_token_right_secret_with_basic_auth_issues_bearer_token(credentials):
    client, secret = credentials

    response = request_token(Client(), client.client_id, secret)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        1800,
        "sessions:read sessions:write",
    )
    stored = AccessToken.objects.get(application=client)
    # Stored as a checksum only, never the token itself.
    assert stored.token == ""
    assert stored.token_checksum == hashlib.sha256(body["access_token"].encode()).hexdigest()


def test_token_right_secret_in_form_fields_issues_token(credentials):
    client, secret = credentials

    response = Client().post(
        "/oauth2/token",
        {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret,
        },
    )

    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_token_with_trailing_slash_is_answered_not_redirected(credentials):
    client, secret = credentials

    response = Client().post(
        "/oauth2/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )

    assert response.status_code == 200


def test_client_secret_is_stored_hashed(credentials):
    client, secret = credentials
    client.refresh_from_db()

    assert client.client_secret != secret
    assert identify_hasher(client.client_secret)  # a Django password hash


@pytest.mark.parametrize(
    ("client_id", "secret_suffix"),
    [("right", "-wrong"), ("unknown-client", "")],
    ids=["wrong_secret", "unknown_client"],
)
def test_token_bad_credentials_is_401_problem(credentials, client_id, secret_suffix):
    client, secret = credentials
    client_id = client.client_id if client_id == "right" else client_id

    response = request_token(Client(), client_id, secret + secret_suffix)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://sessions.example/problems/unauthorized",
        "title": "Authentication required",
        "status": 401,
        "detail": "OAuth2 error: invalid_client.",
        "error": "invalid_client",
    }
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    ("scopes", "asked"),
    [
        (["sessions:read", "sessions:write"], "sessions:admin"),
        (["sessions:read"], "sessions:write"),
        (["sessions:read"], "sessions:read sessions:write"),
    ],
    ids=["unknown_scope", "scope_not_on_record", "one_scope_not_on_record"],
)
def test_token_scope_not_allowed_is_400_invalid_scope(organisation, scopes, asked):
    client, secret = api_client_create(organisation=organisation, name="x", scopes=scopes)

    response = request_token(Client(), client.client_id, secret, scope=asked)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["error"] == "invalid_scope"
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    ("scopes", "asked", "granted"),
    [
        (["sessions:read"], None, "sessions:read"),
        (["sessions:read", "sessions:write"], None, "sessions:read sessions:write"),
        (["sessions:read", "sessions:write"], "sessions:read", "sessions:read"),
    ],
    ids=["none_asked_read_client", "none_asked_full_client", "narrower_than_record"],
)
def test_token_scope_defaults_to_client_record(organisation, scopes, asked, granted):
    client, secret = api_client_create(organisation=organisation, name="x", scopes=scopes)

    response = request_token(Client(), client.client_id, secret, scope=asked)

    assert response.status_code == 200
    assert response.json()["scope"] == granted


def test_token_endpoint_get_is_405_problem():
    response = Client().get("/oauth2/token")

    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 405


def _assert_bearer_401(response, *, error: str | None):
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    if error:
        assert f'error="{error}"' in challenge
    assert response.json()["status"] == 401


def test_api_without_token_is_401_with_bearer_challenge(db):
    response = Client().get("/api/v1/sessions")

    _assert_bearer_401(response, error=None)


def test_api_unknown_token_is_401(db):
    response = Client().get("/api/v1/sessions", HTTP_AUTHORIZATION="Bearer not-a-real-token")

    _assert_bearer_401(response, error="invalid_token")


def test_api_expired_token_is_401(api, event):
    AccessToken.objects.filter(application=api.api_client).update(
        expires=timezone.now() - dt.timedelta(seconds=1)
    )

    response = api.get("/api/v1/sessions")

    _assert_bearer_401(response, error="invalid_token")


def test_api_token_revoked_at_revoke_endpoint_is_401(api):
    assert api.get("/api/v1/events").status_code == 200

    revoke = api.http.post(
        "/oauth2/revoke_token",
        {"token": api.token},
        HTTP_AUTHORIZATION=basic_auth(api.api_client.client_id, api.secret),
    )

    assert revoke.status_code == 200
    _assert_bearer_401(api.get("/api/v1/events"), error="invalid_token")


def test_introspect_answers_own_token_active(api):
    response = api.http.post(
        "/oauth2/introspect",
        {"token": api.token},
        HTTP_AUTHORIZATION=basic_auth(api.api_client.client_id, api.secret),
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["active"], body["client_id"], body["scope"]) == (
        True,
        api.api_client.client_id,
        "sessions:read sessions:write",
    )


def test_introspect_another_clients_token_is_inactive(api, make_caller):
    other = make_caller(factories.organisation())

    response = api.http.post(
        "/oauth2/introspect",
        {"token": other.token},
        HTTP_AUTHORIZATION=basic_auth(api.api_client.client_id, api.secret),
    )

    assert response.status_code == 200
    assert response.json() == {"active": False}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/sessions", {"name": "x"}),
        ("patch", "/api/v1/sessions/{id}", {"name": "Changed"}),
        ("put", "/api/v1/sessions/{id}", {"name": "Changed"}),
        ("put", "/api/v1/sessions/update/{id}", {"name": "Changed"}),
        ("delete", "/api/v1/sessions/{id}", None),
    ],
    ids=["create", "patch", "put", "put_alias", "delete"],
)
def test_read_only_token_writing_is_403_and_changes_nothing(reader, event, method, path, body):
    session = factories.scheduled(event=event, name="Original")
    path = path.format(id=session.pk)
    if body is not None and method == "post":
        body["event_id"] = event.pk

    response = reader.delete(path) if method == "delete" else getattr(reader, method)(path, body)

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert response.json()["detail"] == (
        "This token does not have the sessions:write scope that this request needs."
    )
    session.refresh_from_db()
    assert (session.name, session.version) == ("Original", 1)
    assert Session.objects.count() == 1
    assert not SessionChange.objects.exists()


def test_read_only_token_can_read(reader, event):
    session = factories.session(event=event)

    assert reader.get(f"/api/v1/sessions/{session.pk}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/sessions/{id}"),
        ("get", "/api/v1/sessions/{id}/history"),
        ("patch", "/api/v1/sessions/{id}"),
        ("put", "/api/v1/sessions/{id}"),
        ("put", "/api/v1/sessions/update/{id}"),
        ("delete", "/api/v1/sessions/{id}"),
        ("get", "/api/v1/events/{event_id}"),
    ],
    ids=["read", "history", "patch", "put", "put_alias", "delete", "event"],
)
def test_other_organisations_object_is_404_exactly_as_missing(api, method, path):
    foreign_event = factories.event()
    foreign = factories.scheduled(event=foreign_event, name="Theirs")
    path = path.format(id=foreign.pk, event_id=foreign_event.pk)

    def call():
        if method == "get":
            return api.get(path)
        if method == "delete":
            return api.delete(path)
        return getattr(api, method)(path, {"name": "Mine now"})

    response = call()

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    foreign.refresh_from_db()
    assert (foreign.name, foreign.version) == ("Theirs", 1)
    assert not SessionChange.objects.exists()
    # The same answer once the object really does not exist.
    foreign_body = response.json()
    Session.objects.all().delete()
    foreign_event.delete()
    assert call().json() == foreign_body


def test_other_organisations_sessions_are_not_listed(api, event):
    mine = factories.session(event=event)
    factories.session(event=factories.event())

    response = api.get("/api/v1/sessions")

    assert [item["id"] for item in response.json()["items"]] == [mine.pk]


def test_create_in_other_organisations_event_is_422_and_creates_nothing(api):
    foreign_event = factories.event()

    response = api.post("/api/v1/sessions", {"event_id": foreign_event.pk, "name": "Sneaky"})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "event_id",
            "code": "does_not_exist",
            "message": "There is no event with this id.",
        }
    ]
    assert not Session.objects.exists()


def test_unknown_token_401_says_the_token_is_not_valid(db):
    response = Client().get("/api/v1/sessions", HTTP_AUTHORIZATION="Bearer not-a-real-token")

    assert response.status_code == 401
    assert response.json()["detail"] == "The access token is unknown, expired or revoked."


def test_missing_token_401_says_send_one(db):
    response = Client().get("/api/v1/sessions")

    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
