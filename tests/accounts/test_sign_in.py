"""Staff sign-in through django-allauth: the password step, a second factor where an account
has one or must have one, passwords turned off by an organisation, refused codes audited and
throttled."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from axes.models import AccessFailureLog, AccessLog
from django.test import Client

from sessions_app.enums import MemberRole
from sessions_app.models import StaffSignIn
from tests import factories
from tests.accounts.helpers import totp_code, wrong_code

PASSWORD = "right-pass-word-9"


def sign_in(http: Client, username: str, password: str = PASSWORD, next_url: str = "/admin/"):
    return http.post(f"/accounts/login/?next={next_url}", {"login": username, "password": password})


@pytest.fixture
def organiser(db):
    organisation = factories.organisation()
    return factories.user(
        organisation=organisation, roles=[MemberRole.ORGANISER], password=PASSWORD
    )


def with_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def test_the_admin_login_page_sends_staff_to_the_sign_in(db):
    response = Client().get("/admin/login/?next=/admin/sessions_app/session/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    page = Client().get(response["Location"])
    assert page.status_code == 200
    assert b"Staff sign-in" in page.content


def test_a_password_alone_signs_in_an_account_without_a_second_factor(organiser):
    http = Client()
    response = sign_in(http, organiser.username)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert http.get("/admin/").status_code == 200
    assert AccessLog.objects.filter(username=organiser.username).count() == 1


def test_a_wrong_password_is_refused_and_signs_nobody_in(organiser):
    http = Client()
    response = sign_in(http, organiser.username, "not-the-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in http.session
    assert AccessFailureLog.objects.filter(username=organiser.username).count() == 1


def test_with_totp_the_password_is_not_enough(organiser):
    secret = with_totp(organiser)
    stored = Authenticator.objects.get(user=organiser, type=Authenticator.Type.TOTP)
    assert secret not in str(stored.data)  # sealed at rest
    http = Client()

    response = sign_in(http, organiser.username)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in http.session
    assert http.get("/admin/").status_code == 302  # still not signed in

    refused = http.post("/accounts/2fa/authenticate/", {"code": wrong_code(secret)})
    assert refused.status_code == 200
    assert "_auth_user_id" not in http.session
    failure = AccessFailureLog.objects.get(username=organiser.username)
    assert failure.path_info == "/accounts/2fa/authenticate/"

    accepted = http.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert accepted.status_code == 302 and accepted["Location"] == "/admin/"
    assert http.get("/admin/").status_code == 200


def test_a_recovery_code_stands_in_for_the_authenticator_once(organiser):
    with_totp(organiser)
    codes = RecoveryCodes.activate(organiser).generate_codes()
    http = Client()
    sign_in(http, organiser.username)
    assert http.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    assert http.get("/admin/").status_code == 200

    again = Client()
    sign_in(again, organiser.username)
    assert again.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 200
    assert "_auth_user_id" not in again.session


def test_wrong_codes_are_throttled_like_wrong_passwords(organiser):
    secret = with_totp(organiser)
    http = Client(REMOTE_ADDR="198.51.100.7")
    sign_in(http, organiser.username)
    for _ in range(5):
        refused = http.post("/accounts/2fa/authenticate/", {"code": wrong_code(secret)})
        assert refused.status_code == 200
    # The sixth try is refused even with the right code.
    throttled = http.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert "_auth_user_id" not in http.session
    assert b"Too many" in throttled.content
    assert AccessFailureLog.objects.filter(username=organiser.username).count() == 5


def test_an_organisation_that_requires_a_second_factor_sends_members_to_set_one_up(organiser):
    StaffSignIn.objects.create(
        organisation=organiser.memberships.get().organisation, require_second_factor=True
    )
    http = Client()
    assert sign_in(http, organiser.username).status_code == 302
    first = http.get("/admin/")
    assert first.status_code == 302 and first["Location"] == "/accounts/2fa/"
    assert http.get("/admin/sessions_app/session/")["Location"] == "/accounts/2fa/"
    page = http.get("/accounts/2fa/")
    assert page.status_code == 200 and b"Authenticator App" in page.content

    # Setting up TOTP, as the page does: the password again (allauth asks before any change
    # to the second factors), then the secret it shows and a code from it.
    asked = http.get("/accounts/2fa/totp/activate/")
    assert asked["Location"].startswith("/accounts/reauthenticate/")
    again = http.post(asked["Location"], {"password": PASSWORD})
    assert again["Location"] == "/accounts/2fa/totp/activate/"
    setup = http.get("/accounts/2fa/totp/activate/")
    secret = setup.context["form"].secret
    done = http.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert done.status_code == 302
    assert http.get("/admin/").status_code == 200


def test_members_of_an_organisation_that_does_not_require_it_go_straight_in(organiser):
    StaffSignIn.objects.create(
        organisation=organiser.memberships.get().organisation, require_second_factor=False
    )
    http = Client()
    sign_in(http, organiser.username)
    assert http.get("/admin/").status_code == 200


def test_superusers_need_a_second_factor_where_the_setting_says(db, settings):
    settings.SUPERUSER_SECOND_FACTOR = True
    factories.user(username="root", password=PASSWORD, is_superuser=True)
    http = Client()
    sign_in(http, "root")
    assert http.get("/admin/")["Location"] == "/accounts/2fa/"

    settings.SUPERUSER_SECOND_FACTOR = False
    other = Client()
    sign_in(other, "root")
    assert other.get("/admin/").status_code == 200


def test_production_settings_always_require_it_of_superusers():
    import importlib
    import os
    from unittest import mock

    with mock.patch.dict(
        os.environ,
        {
            "DJANGO_SECRET_KEY": "s" * 60,
            "DJANGO_ALLOWED_HOSTS": "example.org",
            "DJANGO_SUPERUSER_SECOND_FACTOR": "false",
        },
    ):
        production = importlib.import_module("config.settings.production")
        production = importlib.reload(production)
    assert production.SUPERUSER_SECOND_FACTOR is True


def test_where_passwords_are_turned_off_a_right_password_is_refused(organiser):
    StaffSignIn.objects.create(
        organisation=organiser.memberships.get().organisation,
        password_sign_in=False,
        single_sign_on=True,
        issuer="https://id.example.org",
        client_id="sessions",
        email_domains="example.org",
    )
    http = Client()
    response = sign_in(http, organiser.username)
    assert response.status_code == 200
    assert b"identity provider" in response.content
    assert "_auth_user_id" not in http.session


def test_nobody_signs_up(db):
    response = Client().post(
        "/accounts/signup/", {"username": "mallory", "password1": "x-Long-pass-1234"}
    )
    assert response.status_code == 200
    assert b"closed" in response.content.lower()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="mallory").exists()


def test_a_request_without_a_session_cookie_leaves_the_session_alone(db):
    # The agenda's crowd is answered from memory only when Django did not vary on cookies.
    response = Client().get("/agenda/")
    assert "Cookie" not in response.get("Vary", "")
