"""Single sign-on against a real OpenID Connect provider started for these tests
(``tests.oidc_provider``: django-oauth-toolkit with OIDC on, in a process of its own): the
whole authorization-code flow over HTTP, the product fetching the provider's discovery
document, keys, tokens and userinfo itself."""

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from axes.models import AccessLog
from django.contrib.auth import get_user_model

from sessions_app.enums import MemberRole
from sessions_app.models import Membership, StaffSignIn
from sessions_app.webhooks.sealing import seal
from tests import factories
from tests.browser.conftest import role_groups

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "sessions-manager", "provider-issued-secret-0123456789"
PEOPLE = [
    {
        "username": "ada",
        "password": "ada-pass-123",
        "email": "ada@acme.example",
        "roles": ["organiser"],
    },
    {"username": "grace", "password": "grace-pass-123", "email": "grace@acme.example", "roles": []},
    {
        "username": "bob",
        "password": "bob-pass-123",
        "email": "bob@globex.example",
        "roles": ["organiser"],
    },
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def provider(live_server, tmp_path_factory):
    port = _free_port()
    spec = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{live_server.url}/accounts/oidc/org-acme/login/callback/"],
        "users": PEOPLE,
    }
    env = {
        **os.environ,
        "OIDC_PROVIDER_DB": str(tmp_path_factory.mktemp("oidc") / "provider.sqlite3"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc_provider.serve", str(port), json.dumps(spec)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    issuer = f"http://127.0.0.1:{port}/o"
    deadline = time.monotonic() + 60
    while True:
        try:
            found = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2)
            if found.status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the identity provider did not start:\n" + process.stderr.read().decode())
        time.sleep(0.1)
    yield {"issuer": issuer, "discovery": found.json()}
    process.terminate()
    process.wait(10)


@pytest.fixture
def acme(transactional_db, provider):
    role_groups()
    organisation = factories.organisation(name="Acme", slug="acme")
    StaffSignIn.objects.create(
        organisation=organisation,
        single_sign_on=True,
        issuer=provider["issuer"],
        client_id=CLIENT_ID,
        client_secret_sealed=seal(CLIENT_SECRET),
        email_domains="acme.example",
        default_role=MemberRole.REVIEWER,
        role_claim="roles",
        password_sign_in=False,
    )
    return organisation


def _csrf(session: requests.Session, page: requests.Response, cookie: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    return match.group(1) if match else session.cookies[cookie]


def sign_in_through_provider(live_url: str, typed_email: str, person: dict):
    """A browser's round trip, by hand: our form, the provider's sign-in, back to us."""
    http = requests.Session()
    form = http.get(f"{live_url}/accounts/sso/")
    start = http.post(
        f"{live_url}/accounts/sso/",
        data={"email": typed_email, "csrfmiddlewaretoken": _csrf(http, form, "csrftoken")},
        allow_redirects=False,
    )
    assert start.status_code == 302, start.text
    authorize = start.headers["Location"]
    assert "code_challenge=" in authorize and f"client_id={CLIENT_ID}" in authorize
    to_login = http.get(authorize, allow_redirects=False)
    login_url = requests.compat.urljoin(authorize, to_login.headers["Location"])
    login_page = http.get(login_url)
    back = http.post(
        login_url,
        data={
            "username": person["username"],
            "password": person["password"],
            "next": re.search(r'name="next" value="([^"]*)"', login_page.text)
            .group(1)
            .replace("&amp;", "&"),
            "csrfmiddlewaretoken": _csrf(http, login_page, "op_csrftoken"),
        },
        allow_redirects=False,
    )
    assert back.status_code == 302, back.text
    to_callback = http.get(
        requests.compat.urljoin(login_url, back.headers["Location"]), allow_redirects=False
    )
    callback = to_callback.headers["Location"]
    assert callback.startswith(f"{live_url}/accounts/oidc/org-acme/login/callback/?")
    landed = http.get(callback, allow_redirects=False)
    return http, landed


def test_a_member_of_the_domain_signs_in_and_gets_the_role_the_provider_says(
    live_server, acme, provider
):
    http, landed = sign_in_through_provider(live_server.url, "ada@acme.example", PEOPLE[0])

    assert landed.status_code == 302, landed.text
    assert landed.headers["Location"] == "/admin/"
    admin = http.get(f"{live_server.url}/admin/")
    assert admin.status_code == 200 and "Sign-in security" in admin.text  # signed in
    ada = get_user_model().objects.get(email="ada@acme.example")
    assert ada.is_staff and not ada.has_usable_password()
    assert list(Membership.objects.filter(user=ada).values_list("organisation", "role")) == [
        (acme.pk, MemberRole.ORGANISER)
    ]
    assert ada.groups.filter(name="Organisers").exists()
    assert AccessLog.objects.filter(username=ada.username).count() == 1


def test_without_a_role_claim_the_default_role(live_server, acme):
    _, landed = sign_in_through_provider(live_server.url, "grace@acme.example", PEOPLE[1])
    assert landed.status_code == 302
    grace = get_user_model().objects.get(email="grace@acme.example")
    assert list(Membership.objects.filter(user=grace).values_list("role", flat=True)) == [
        MemberRole.REVIEWER
    ]


def test_a_user_of_another_domain_gets_no_account_and_no_membership(live_server, acme):
    # Types an Acme address, then signs in at the provider as Bob of Globex.
    http, landed = sign_in_through_provider(live_server.url, "someone@acme.example", PEOPLE[2])

    assert landed.status_code == 403
    assert "not one of its staff" in landed.text
    assert not get_user_model().objects.filter(email="bob@globex.example").exists()
    assert not Membership.objects.filter(organisation=acme).exists()
    assert http.get(f"{live_server.url}/admin/", allow_redirects=False).status_code == 302


def test_a_local_password_is_refused_where_turned_off(live_server, acme):
    carol = factories.user(organisation=acme, roles=[MemberRole.ORGANISER], password="c-pass-1234")
    http = requests.Session()
    page = http.get(f"{live_server.url}/accounts/login/")
    refused = http.post(
        f"{live_server.url}/accounts/login/",
        data={
            "login": carol.username,
            "password": "c-pass-1234",
            "csrfmiddlewaretoken": _csrf(http, page, "csrftoken"),
        },
        allow_redirects=False,
    )
    assert refused.status_code == 200
    assert "identity provider" in refused.text
    assert http.get(f"{live_server.url}/admin/", allow_redirects=False).status_code == 302


def test_an_address_of_no_organisations_domain_is_told_so(live_server, acme):
    http = requests.Session()
    form = http.get(f"{live_server.url}/accounts/sso/")
    answer = http.post(
        f"{live_server.url}/accounts/sso/",
        data={"email": "x@nowhere.example", "csrfmiddlewaretoken": _csrf(http, form, "csrftoken")},
        allow_redirects=False,
    )
    assert answer.status_code == 400
    assert "no single sign-on" in answer.text


def test_where_a_second_factor_is_required_it_is_asked_for_after_the_provider(live_server, acme):
    StaffSignIn.objects.filter(organisation=acme).update(require_second_factor=True)
    http, landed = sign_in_through_provider(live_server.url, "ada@acme.example", PEOPLE[0])
    assert landed.status_code == 302
    sent = http.get(f"{live_server.url}/admin/", allow_redirects=False)
    assert sent.status_code == 302 and sent.headers["Location"] == "/accounts/2fa/"
    # Ada has no password to confirm with: right after the provider, she sets up the app.
    setup = http.get(f"{live_server.url}/accounts/2fa/totp/activate/", allow_redirects=False)
    assert setup.status_code == 200
    assert 'id="authenticator_secret"' in setup.text
