"""Getting credentials: create_api_client, seed_demo's demo client, and the admin."""

import json
import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from oauth2_provider.models import AccessToken

from sessions_app.enums import MemberRole
from sessions_app.management.commands.seed_demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from sessions_app.models import ApiClient, Organisation
from sessions_app.services.clients import api_client_create
from tests import factories
from tests.api.conftest import basic_auth, request_token

pytestmark = pytest.mark.django_db


def run_create(*args) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_client", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def test_create_api_client_prints_one_json_object_and_creates_the_organisation():
    printed, err = run_create("--organisation", "acme", "--name", "CRM sync")

    client = ApiClient.objects.get()
    assert printed == {
        "client_id": client.client_id,
        "client_secret": printed["client_secret"],
        "organisation": "acme",
        "scopes": ["sessions:read", "sessions:write"],
        "reviewer": None,
    }
    assert Organisation.objects.get(slug="acme") == client.organisation
    assert "Created organisation 'acme'" in err
    assert client.client_secret != printed["client_secret"]  # stored hashed
    token = request_token(Client(), printed["client_id"], printed["client_secret"])
    assert token.status_code == 200


def test_create_api_client_bound_to_a_reviewer_of_the_organisation():
    organisation = factories.organisation(slug="acme")
    factories.user(username="rita", organisation=organisation, roles=["reviewer"])
    factories.user(username="olga", organisation=organisation, roles=["organiser"])

    printed, _err = run_create("--organisation", "acme", "--name", "R", "--reviewer", "rita")

    assert printed["reviewer"] == "rita"
    assert ApiClient.objects.get().reviewer.username == "rita"
    with pytest.raises(CommandError):
        run_create("--organisation", "acme", "--name", "O", "--reviewer", "olga")
    assert ApiClient.objects.count() == 1


def test_create_api_client_with_read_scope_in_existing_organisation():
    organisation = factories.organisation(slug="existing")

    printed, err = run_create(
        "--organisation", "existing", "--name", "Reader", "--scopes", "sessions:read"
    )

    assert printed["scopes"] == ["sessions:read"]
    assert ApiClient.objects.get().organisation == organisation
    assert err == ""
    token = request_token(Client(), printed["client_id"], printed["client_secret"])
    assert token.json()["scope"] == "sessions:read"


@pytest.mark.parametrize(
    "args",
    [
        ["--organisation", "acme", "--name", "x", "--scopes", "sessions:read admin"],
        ["--organisation", "not a slug", "--name", "x"],
        ["--organisation", "acme", "--name", "  "],
    ],
    ids=["unknown_scope", "bad_slug", "blank_name"],
)
def test_create_api_client_refuses_bad_arguments(args):
    with pytest.raises(CommandError):
        call_command("create_api_client", *args, stdout=StringIO(), stderr=StringIO())

    assert not ApiClient.objects.exists()
    assert not Organisation.objects.exists()


def test_seed_demo_prints_working_demo_credentials_every_run():
    for _ in range(2):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        text = out.getvalue()
        assert DEMO_CLIENT_ID in text and DEMO_CLIENT_SECRET in text
        assert f"curl -s -u {DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}" in text

        response = request_token(Client(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        assert response.status_code == 200
        assert (
            response.json()["scope"]
            == "sessions:read sessions:write registrants:read registrants:write webhooks:write "
            "messages:read schedule:write reviews:read personal-data"
        )
    client = ApiClient.objects.get(client_id=DEMO_CLIENT_ID)
    assert client.organisation.slug == "demo"
    http = Client()
    token = request_token(http, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET).json()["access_token"]
    listing = http.get("/api/v1/sessions", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert listing.json()["_meta"]["totalCount"] == 37  # 34, and 3 proposals from the call


# --- Admin ---------------------------------------------------------------------------------


@pytest.fixture
def organiser(organisation):
    user = factories.user(organisation=organisation, roles=[MemberRole.ORGANISER])
    user.groups.add(Group.objects.get(name="Organisers"))
    return user


def admin_client(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def test_admin_create_shows_the_secret_once_and_stores_it_hashed(organiser, organisation):
    http = admin_client(organiser)

    response = http.post(
        "/admin/sessions_app/apiclient/add/",
        {"organisation": organisation.pk, "name": "Website", "scope_list": ["sessions:read"]},
    )

    assert response.status_code == 200, response.content[:2000]
    client = ApiClient.objects.get()
    html = response.content.decode()
    secret = re.search(r"<th>client_secret</th><td><code>([^<]+)</code>", html)[1]
    assert client.client_id in html
    assert "no-store" in response["Cache-Control"]
    assert (client.organisation, client.scopes) == (organisation, "sessions:read")
    assert client.client_secret != secret
    assert (
        secret
        not in http.get(f"/admin/sessions_app/apiclient/{client.pk}/change/").content.decode()
    )
    token = request_token(Client(), client.client_id, secret)
    assert token.json()["scope"] == "sessions:read"


def test_admin_organiser_sees_only_their_organisations_clients(organiser, organisation):
    mine, _ = api_client_create(organisation=organisation, name="Mine", scopes=["sessions:read"])
    theirs, _ = api_client_create(
        organisation=factories.organisation(), name="Theirs", scopes=["sessions:read"]
    )
    http = admin_client(organiser)

    listing = http.get("/admin/sessions_app/apiclient/").content.decode()

    assert mine.client_id in listing and theirs.client_id not in listing
    assert theirs.organisation.name not in listing  # not even in the filter's choices
    assert http.get(f"/admin/sessions_app/apiclient/{theirs.pk}/change/").status_code in (302, 404)
    other_org = factories.organisation()
    refused = http.post(
        "/admin/sessions_app/apiclient/add/",
        {"organisation": other_org.pk, "name": "Sneaky", "scope_list": ["sessions:read"]},
    )
    assert refused.status_code == 200  # the form again, with an error
    assert not ApiClient.objects.filter(organisation=other_org).exists()


def test_admin_reviewer_cannot_see_api_clients(organisation):
    reviewer = factories.user(organisation=organisation, roles=[MemberRole.REVIEWER])
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    api_client_create(organisation=organisation, name="Hidden", scopes=["sessions:read"])

    response = admin_client(reviewer).get("/admin/sessions_app/apiclient/")

    assert response.status_code == 403


def _action(http, action, clients):
    return http.post(
        "/admin/sessions_app/apiclient/",
        {"action": action, "_selected_action": [c.pk for c in clients]},
    )


def test_admin_revoke_tokens_makes_live_tokens_401(organiser, api):
    response = _action(admin_client(organiser), "revoke_tokens", [api.api_client])

    assert response.status_code == 302
    assert not AccessToken.objects.filter(application=api.api_client).exists()
    assert api.get("/api/v1/events").status_code == 401
    assert request_token(Client(), api.api_client.client_id, api.secret).status_code == 200


def test_admin_disable_revokes_tokens_and_the_secret(organiser, api):
    response = _action(admin_client(organiser), "disable_clients", [api.api_client])

    assert response.status_code == 302
    assert api.get("/api/v1/events").status_code == 401
    assert request_token(Client(), api.api_client.client_id, api.secret).status_code == 401


def test_admin_issue_new_secret_shows_it_once_and_the_old_one_stops_working(organiser, api):
    response = _action(admin_client(organiser), "issue_new_secret", [api.api_client])

    assert response.status_code == 200
    secret = re.search(
        r"<th>client_secret</th><td><code>([^<]+)</code>", response.content.decode()
    )[1]
    assert request_token(Client(), api.api_client.client_id, api.secret).status_code == 401
    new = Client().post(
        "/oauth2/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(api.api_client.client_id, secret),
    )
    assert new.status_code == 200
