"""A staff member sets up a second factor in Chromium and signs in with it: an authenticator
app (TOTP, its secret read off the page) and a passkey (Chromium's virtual authenticator)."""

import pytest
from axes.models import AccessFailureLog
from playwright.sync_api import expect

from sessions_app.enums import MemberRole
from sessions_app.models import StaffSignIn
from tests import factories
from tests.accounts.helpers import totp_code, wrong_code
from tests.browser.conftest import PASSWORD, member, role_groups


@pytest.fixture
def organiser(transactional_db):
    role_groups()
    organisation = factories.organisation(name="Acme", slug="acme")
    StaffSignIn.objects.create(organisation=organisation, require_second_factor=True)
    return member(organisation, "ada", MemberRole.ORGANISER)


def password_step(page, username="ada") -> None:
    page.goto("/accounts/login/?next=/admin/")
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form input[type=submit]")


def reauthenticate_if_asked(page) -> None:
    if "/accounts/reauthenticate/" in page.url:
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Confirm").click()


def sign_out(page) -> None:
    page.goto("/accounts/logout/")
    page.get_by_role("button", name="Sign Out").click()
    page.wait_for_url("**/accounts/login/")


def test_totp_set_up_then_required_at_sign_in_a_wrong_code_refused_and_counted(
    new_page, organiser, settings
):
    # The code that activated the app is spent; signing in uses the next window's.
    settings.MFA_TOTP_TOLERANCE = 1
    page = new_page()
    password_step(page)
    # The organisation requires a second factor: nothing else before it is set up.
    page.wait_for_url("**/accounts/2fa/")
    expect(page.locator(".messagelist")).to_contain_text("needs a second factor")
    page.goto("/admin/sessions_app/session/")
    page.wait_for_url("**/accounts/2fa/")

    page.get_by_role("link", name="Activate").first.click()
    reauthenticate_if_asked(page)
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    secret = page.input_value("#authenticator_secret")
    page.fill("#id_code", totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.goto("/admin/")
    expect(page.locator("#user-tools")).to_contain_text("Sign-in security")

    sign_out(page)
    password_step(page)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("#id_code", wrong_code(secret))
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator(".errorlist")).to_contain_text("Incorrect code")
    assert (
        AccessFailureLog.objects.filter(
            username="ada", path_info="/accounts/2fa/authenticate/"
        ).count()
        == 1
    )

    page.fill("#id_code", totp_code(secret, offset=1))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/admin/")
    expect(page.locator("#user-tools")).to_contain_text("ada")


def test_a_passkey_made_by_the_virtual_authenticator_signs_in_alone(new_page, organiser):
    page = new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]
    password_step(page)
    page.wait_for_url("**/accounts/2fa/")
    page.goto("/accounts/2fa/webauthn/add/")
    reauthenticate_if_asked(page)
    page.wait_for_url("**/accounts/2fa/webauthn/add/")
    page.check("#id_passwordless")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    made = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(made["credentials"]) == 1 and made["credentials"][0]["isResidentCredential"]
    page.goto("/admin/")
    expect(page.locator("#user-tools")).to_contain_text("Sign-in security")

    sign_out(page)
    page.goto("/accounts/login/?next=/admin/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url("**/admin/")
    expect(page.locator("#user-tools")).to_contain_text("ada")
