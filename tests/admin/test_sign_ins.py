"""*Staff sign-ins*: the sign-ins and refused attempts of an organisation's staff, through
the real login form (django-axes records them), for its organisers only; kept
``ACCESS_LOG["KEEP_DAYS"]`` by housekeeping."""

from __future__ import annotations

import datetime as dt

from axes.models import AccessFailureLog, AccessLog
from django.test import Client
from django.utils import timezone

from sessions_app.ops import housekeeping

PAGE = "/admin/sessions_app/privacyrequest/sign-ins/"


def sign_in(username: str, password: str) -> Client:
    client = Client(HTTP_USER_AGENT="Test browser 1.0")
    client.post("/accounts/login/", {"login": username, "password": password})
    return client


def test_organisers_see_their_staff_sign_ins_and_refusals_only(acme, globex):
    organiser = sign_in("acme-organiser", "pass-word-123")
    sign_in("acme-reviewer", "not the password")
    sign_in("globex-organiser", "pass-word-123")
    assert AccessLog.objects.count() == 2 and AccessFailureLog.objects.count() == 1

    page = organiser.get(PAGE)
    assert page.status_code == 200
    signed, refused = page.context["sign_ins"], page.context["refused"]
    assert [e.username for e in signed] == ["acme-organiser"]
    assert [e.username for e in refused] == ["acme-reviewer"]
    assert "Test browser 1.0" in page.content.decode()

    theirs = sign_in("globex-organiser", "pass-word-123").get(PAGE)
    assert [e.username for e in theirs.context["sign_ins"]] == ["globex-organiser"] * 2
    assert list(theirs.context["refused"]) == []
    assert sign_in("acme-reviewer", "pass-word-123").get(PAGE).status_code == 403


def test_housekeeping_keeps_the_sign_ins_of_the_last_days(acme, settings):
    settings.ACCESS_LOG = {**settings.ACCESS_LOG, "KEEP_DAYS": 10}
    sign_in("acme-organiser", "pass-word-123")
    sign_in("acme-organiser", "wrong")
    long_ago = timezone.now() - dt.timedelta(days=11)
    for log in (AccessLog, AccessFailureLog):  # attempt_time is set on insert: moved back
        old = log.objects.create(username="acme-organiser")
        log.objects.filter(pk=old.pk).update(attempt_time=long_ago)
    assert housekeeping.run()["sign-in records"] == 2
    assert AccessLog.objects.count() == AccessFailureLog.objects.count() == 1


def test_a_refused_second_factor_is_listed_with_its_step(acme):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model

    from tests.accounts.helpers import wrong_code

    secret = generate_totp_secret()
    TOTP.activate(get_user_model().objects.get(username="acme-reviewer"), secret)
    reviewer = sign_in("acme-reviewer", "pass-word-123")  # the right password...
    reviewer.post("/accounts/2fa/authenticate/", {"code": wrong_code(secret)})  # ...wrong code
    sign_in("acme-reviewer", "a wrong password")

    page = sign_in("acme-organiser", "pass-word-123").get(PAGE)
    rows = page.content.decode().split('<table id="refused">')[1]
    assert rows.count("<td>acme-reviewer</td><td>second factor</td>") == 1
    assert rows.count("<td>acme-reviewer</td><td>password</td>") == 1
