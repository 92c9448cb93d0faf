"""Failed admin logins lock that username and address out for a while (django-axes)."""

import pytest
from django.test import Client

from tests import factories

PASSWORD = "right-pass-word-9"


def login(http: Client, username: str, password: str):
    return http.post("/accounts/login/?next=/admin/", {"login": username, "password": password})


@pytest.fixture
def people(db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    organisation = factories.organisation()
    return (
        factories.user(organisation=organisation, password=PASSWORD),
        factories.user(organisation=organisation, password=PASSWORD),
    )


def test_wrong_passwords_lock_the_username_at_this_address(people):
    alice, _ = people
    http = Client(REMOTE_ADDR="198.51.100.20")

    failures = [login(http, alice.username, "guess").status_code for _ in range(2)]
    third = login(http, alice.username, "guess")
    right_but_locked = login(http, alice.username, PASSWORD)

    assert failures == [200, 200]  # the form again, with its error
    assert third.status_code == 429
    assert right_but_locked.status_code == 429
    assert "Too many failed logins" in right_but_locked.content.decode()
    assert int(right_but_locked["Retry-After"]) == 15 * 60
    assert "_auth_user_id" not in http.session


def test_the_lock_holds_only_that_username_and_address(people):
    alice, bob = people
    attacker = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(3):
        login(attacker, alice.username, "guess")

    assert login(attacker, alice.username, PASSWORD).status_code == 429
    # Another user at the same address, and the same user elsewhere, still log in.
    assert login(attacker, bob.username, PASSWORD).status_code == 302
    assert login(Client(REMOTE_ADDR="203.0.113.5"), alice.username, PASSWORD).status_code == 302


def test_behind_a_proxy_the_lock_follows_the_forwarded_address(people, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    alice, _ = people
    balancer = "10.0.0.2"
    attacker = Client(REMOTE_ADDR=balancer, HTTP_X_FORWARDED_FOR="198.51.100.20")
    for _ in range(3):
        login(attacker, alice.username, "guess")

    colleague = Client(REMOTE_ADDR=balancer, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert login(attacker, alice.username, PASSWORD).status_code == 429
    assert login(colleague, alice.username, PASSWORD).status_code == 302


def test_a_successful_login_forgets_earlier_failures(people):
    alice, _ = people
    http = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(2):
        login(http, alice.username, "guess")
    assert login(http, alice.username, PASSWORD).status_code == 302
    http.logout()
    for _ in range(2):
        login(http, alice.username, "guess")
    assert login(http, alice.username, PASSWORD).status_code == 302
