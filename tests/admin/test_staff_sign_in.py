"""*Staff sign-in*: an organiser says how their organisation's staff sign in; the client
secret is sealed when saved and never shown again; what single sign-on needs is checked."""

import pytest
from django.test import Client

from sessions_app.models import StaffSignIn
from sessions_app.webhooks.sealing import unseal
from tests.admin.conftest import make_org

ADD = "/admin/sessions_app/staffsignin/add/"


@pytest.fixture
def acme(db):
    return make_org("Acme")


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(organisation, **fields):
    return {
        "organisation": organisation.pk,
        "require_second_factor": "on",
        "password_sign_in": "on",
        "single_sign_on": "on",
        "issuer": "https://id.acme.example/realms/staff",
        "client_id": "sessions-manager",
        "client_secret": "s3cret-from-the-provider",
        "email_domains": "acme.example, acme-events.example",
        "default_role": "reviewer",
        "role_claim": "",
        **fields,
    }


def test_an_organiser_sets_up_single_sign_on_and_the_secret_is_sealed(acme):
    organisation = acme.event.organisation
    http = as_user(acme.organiser)

    response = http.post(ADD, form(organisation))

    assert response.status_code == 302
    saved = StaffSignIn.objects.get(organisation=organisation)
    assert saved.require_second_factor and saved.single_sign_on
    assert saved.client_secret_sealed != "s3cret-from-the-provider"
    assert unseal(saved.client_secret_sealed) == "s3cret-from-the-provider"
    assert saved.domain_list() == ["acme.example", "acme-events.example"]

    page = http.get(f"/admin/sessions_app/staffsignin/{saved.pk}/change/").content.decode()
    assert "s3cret-from-the-provider" not in page and saved.client_secret_sealed not in page
    assert "/accounts/oidc/org-acme-org/login/callback/" in page

    # Saved again without a secret: the sealed one stays.
    again = http.post(
        f"/admin/sessions_app/staffsignin/{saved.pk}/change/",
        {k: v for k, v in form(organisation, client_secret="").items() if k != "organisation"},
    )
    assert again.status_code == 302
    saved.refresh_from_db()
    assert unseal(saved.client_secret_sealed) == "s3cret-from-the-provider"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email_domains": ""}, "email_domains", "at least one email domain"),
        ({"email_domains": "acme"}, "email_domains", "such as acme.example"),
        ({"issuer": "http://id.acme.example"}, "issuer", "https://"),
        ({"client_id": ""}, "client_id", "Needed for single sign-on"),
        ({"client_secret": ""}, "client_secret", "Needed for single sign-on"),
        ({"single_sign_on": "", "password_sign_in": ""}, "password_sign_in", "need their password"),
    ],
)
def test_what_single_sign_on_needs_is_asked_for(acme, fields, field, message):
    organisation = acme.event.organisation
    response = as_user(acme.organiser).post(ADD, form(organisation, **fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert not StaffSignIn.objects.exists()


def test_another_organisation_cannot_be_chosen(acme, db):
    globex = make_org("Globex")
    response = as_user(acme.organiser).post(ADD, form(globex.event.organisation))
    assert response.status_code == 200
    assert "organisation" in response.context["adminform"].form.errors
    assert not StaffSignIn.objects.exists()
