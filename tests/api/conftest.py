"""API fixtures: clients with REAL tokens from the real ``/oauth2/token`` endpoint."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from sessions_app.models import ApiClient
from sessions_app.services.clients import api_client_create
from tests import factories

ALL_SCOPES = ["sessions:read", "sessions:write"]


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def request_token(http: Client, client_id: str, secret: str, *, scope: str | None = None):
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return http.post("/oauth2/token", data=data, HTTP_AUTHORIZATION=basic_auth(client_id, secret))


@dataclass
class Caller:
    """A Django test client that sends one API client's bearer token."""

    http: Client
    api_client: ApiClient
    secret: str
    token: str

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **(headers or {})}

    def get(self, path: str, params: dict | None = None, **headers):
        return self.http.get(path, params or {}, **self._headers(headers))

    def send(self, method: str, path: str, body: Any = None, *, form: bool = False, **headers):
        if form:
            from urllib.parse import urlencode

            content, content_type = urlencode(body or {}), "application/x-www-form-urlencoded"
        elif isinstance(body, bytes | str):
            content, content_type = body, headers.pop("content_type", "application/json")
        else:
            content, content_type = json.dumps(body), "application/json"
        return getattr(self.http, method)(
            path, content, content_type=content_type, **self._headers(headers)
        )

    def post(self, path, body=None, **kw):
        return self.send("post", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.send("patch", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.send("put", path, body, **kw)

    def delete(self, path, **headers):
        return self.http.delete(path, **self._headers(headers))


@pytest.fixture
def one_rate_window(monkeypatch):
    """The rate limiter's clock held in the middle of the hour's first minute, so that a
    test's requests all fall in one window of up to 30 s either way, however long they take
    (a fixed window that ended between two requests would start the count again)."""
    import time

    from sessions_app.ops import ratelimit

    held = (int(time.time()) // 3600) * 3600 + 30.0
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: held))
    return held


@pytest.fixture
def organisation():
    return factories.organisation()


@pytest.fixture
def event(organisation):
    return factories.event(organisation=organisation)


@pytest.fixture
def make_caller(db):
    def make(organisation, *, scopes=ALL_SCOPES, scope: str | None = None) -> Caller:
        api_client, secret = api_client_create(
            organisation=organisation, name="Test client", scopes=list(scopes)
        )
        http = Client()
        response = request_token(http, api_client.client_id, secret, scope=scope)
        assert response.status_code == 200, response.content
        return Caller(http, api_client, secret, response.json()["access_token"])

    return make


@pytest.fixture
def api(make_caller, organisation) -> Caller:
    """A caller with both scopes in ``organisation``."""
    return make_caller(organisation)


@pytest.fixture
def reader(make_caller, organisation) -> Caller:
    return make_caller(organisation, scopes=["sessions:read"])


@pytest.fixture
def database_rate_limit(settings):
    """Count the rate limit in the database even on the Redis run: pinned query counts
    include its one upsert, as a server without REDIS_URL sends it."""
    settings.REDIS_URL = ""
