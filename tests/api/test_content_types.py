"""Every operation of the schema, the OAuth ones included, with every kind of body.

The schemathesis run generates values; this one makes sure no content type, however
broken (multipart without a boundary, a truncated JSON document, bytes that are not
UTF-8), reaches a 500, and that each refusal is a problem document.
"""

import json
import re
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests import factories
from tests.api.conftest import basic_auth

BODIES = {
    "json": ("application/json", b'{"name": "x"}'),
    "json_truncated": ("application/json", b'{"name": '),
    "json_array": ("application/json", b"[1, 2]"),
    "form": ("application/x-www-form-urlencoded", b"name=x&grant_type=client_credentials"),
    "form_not_utf8": ("application/x-www-form-urlencoded", b"name=\xff\xfe"),
    "multipart": (
        "multipart/form-data; boundary=XyZ",
        b'--XyZ\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--XyZ--\r\n',
    ),
    "multipart_no_boundary": ("multipart/form-data", b"name=x"),
    "multipart_broken": ("multipart/form-data; boundary=XyZ", b"--XyZ\r\nnonsense"),
    "text": ("text/plain", b"name=x"),
    "xml": ("application/xml", b"<session><name>x</name></session>"),
    "octet_stream": ("application/octet-stream", b"\x00\x01\x02"),
    "bad_content_type": ("not a content type", b"{}"),
    "none": ("", b"name=x"),
}


def operations(http: Client):
    schema = json.loads(http.get("/api/schema/", {"format": "json"}).content)
    for path, item in schema["paths"].items():
        for method in item:
            if method in {"post", "put", "patch", "delete"}:
                yield path, method


@pytest.fixture
def world(make_caller):
    organisation = factories.organisation()
    event = factories.event(organisation=organisation)
    session = factories.session(event=event)
    caller = make_caller(organisation)
    return caller, session


def test_no_body_of_any_content_type_gives_a_server_error(world):
    caller, session = world
    http = caller.http
    seen_oauth = set()
    failures = []
    for path, method in operations(http):
        url = re.sub(r"\{[^}]+\}", str(session.pk), path)
        if path.startswith("/oauth2/"):
            seen_oauth.add(path)
        for name, (content_type, body) in BODIES.items():
            response = http.generic(
                method.upper(),
                url,
                body,
                content_type=content_type,
                HTTP_AUTHORIZATION=f"Bearer {caller.token}",
            )
            problem = response.status_code < 400 or response["Content-Type"] in (
                "application/problem+json",
            )
            if response.status_code >= 500 or not problem:
                failures.append(
                    f"{method.upper()} {url} [{name}]: {response.status_code} "
                    f"{response['Content-Type']} {response.content[:200]!r}"
                )
    assert seen_oauth == {"/oauth2/token", "/oauth2/revoke_token", "/oauth2/introspect"}
    assert failures == []


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth2/revoke_token", "/oauth2/introspect"])
def test_multipart_without_boundary_at_the_oauth_endpoints_is_400(db, path):
    response = Client().post(
        path, b"grant_type=client_credentials", content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth2/revoke_token", "/oauth2/introspect"])
@pytest.mark.parametrize("where", ["form", "basic"])
def test_a_nul_character_at_the_oauth_endpoints_is_400(db, path, where):
    """PostgreSQL refuses NUL in text: it must never reach a query (it was a 500)."""
    form = {"grant_type": "client_credentials", "token": "t"}
    headers = {}
    if where == "form":
        form["client_id"] = "abc\x00def"
    else:
        headers["HTTP_AUTHORIZATION"] = basic_auth("abc\x00def", "secret")
    response = Client().post(
        path, urlencode(form), content_type="application/x-www-form-urlencoded", **headers
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
