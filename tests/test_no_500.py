"""No 500 by construction: generated text, numbers, dates and Unicode digits sent to every
staff form and custom view and to every public page and form (Hypothesis).

Each target is one admin URL of the permission matrix (``tests.admin.test_permission_matrix``
names them all) or one public path; its parameters are the fields of its form as the page
renders it, and the names its view reads. The answer may be anything a person can act on
(200, a redirect, 400, 403, 404, 405, 413, 422), never a 500.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions_app.models import CallForProposals, Event, SessionType
from tests.admin.test_permission_matrix import URL_NAMES, World, request_for, stock_name
from tests.admin.test_permission_matrix import world as world

# What a person can type, and the shapes that broke views before (review #45).
AWKWARD = [
    "²",
    "\u0661\u0662",
    "1_000",
    " 7 ",
    "-1",
    "0",
    "99999999999999999999",
    "1e400",
    "NaN",
    "inf",
    "9999-12-31",
    "0001-01-01",
    "2030-02-30",
    "9999-12-31T23:59:59+14:00",
    "25:61",
    "\x00",
    "a\nb",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%",
    "",
]
VALUES = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(str),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.characters(categories=["Nd", "No"]).map(lambda digit: digit * 3),
)
# The names custom views and filters read from a query string or a form.
QUERY_NAMES = [
    "event",
    "day",
    "proposal",
    "q",
    "track",
    "location",
    "p",
    "o",
    "term",
    "page",
    "e",
    "session_status__exact",
    "event__id__exact",
    "status",
    "version",
    "note",
    "move_placed",
    "action",
    "session",
    "email",
    "waitlist",
    "override_capacity",
    "remove",
    "override_lock",
    "resume",
    "app_label",
    "model_name",
    "field_name",
]
OK_STATUSES = {200, 204, 301, 302, 303, 304, 400, 403, 404, 405, 409, 412, 413, 422, 429}
PROPERTY = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is found again
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def form_fields(client: Client, path: str) -> list[str]:
    """The names of the fields the page's form has (its admin form and inline forms)."""
    page = client.get(path)
    context = getattr(page, "context", None)
    if page.status_code != 200 or context is None:
        return []
    names = []
    adminform = context.get("adminform")
    if adminform is not None:
        names += list(adminform.form.fields)
    for formset in context.get("inline_admin_formsets", []) or []:
        prefix = formset.formset.prefix
        names += [f"{prefix}-TOTAL_FORMS", f"{prefix}-INITIAL_FORMS"]
        names += [f"{prefix}-0-{name}" for name in formset.formset.empty_form.fields]
    return names


def answer(client: Client, method: str, path: str, data) -> int:
    if method == "GET":
        return client.get(path, data).status_code
    if isinstance(data, str):
        return client.post(path, data, content_type="application/json").status_code
    return client.post(path, data).status_code


@pytest.mark.django_db
@pytest.mark.parametrize("name", URL_NAMES)
def test_no_staff_view_answers_500(world: World, name):
    client = Client(raise_request_exception=False)
    client.force_login(world.users["organiser"])
    method, path, data, _content_type = request_for(world, name)
    stock = stock_name(name)
    fields = QUERY_NAMES
    if stock is not None and stock[2] in ("add", "change"):
        method, fields = "POST", form_fields(client, path) or QUERY_NAMES

    @PROPERTY
    @given(values=st.lists(VALUES, min_size=len(fields), max_size=len(fields)))
    def check(values):
        if name == "sessions_app_session_schedule_move":
            keys = ["id", "version", "date", "start_time", "end_time", "location_id"]
            keys += ["pinned", "unschedule"]
            body = json.dumps(dict(zip(keys, values[: len(keys)], strict=True)))
            status = answer(client, "POST", path, body)
        else:
            sent = dict(zip(fields, values, strict=True))
            if isinstance(data, dict):
                sent = {**data, **sent} if method == "GET" else {**sent, **data}
            status = answer(client, method, path, sent)
        assert status in OK_STATUSES, (name, status)

    check()


def public_targets(world: World) -> list[tuple[str, str, list[str]]]:
    event = world.acme.event
    base = f"/agenda/{event.organisation.slug}/{event.slug}"
    from tests import factories

    registrant = factories.registrant(event=event)
    # The proposed programme shown, with interest: its page and the page's section answer.
    Event.objects.filter(pk=event.pk).update(proposed_programme="interest")
    page = registrant.get_selection_path()
    call = CallForProposals.objects.filter(event=event).first() or CallForProposals(event=event)
    call.opens_at = timezone.now() - dt.timedelta(days=1)
    call.closes_at = timezone.now() + dt.timedelta(days=1)
    call.save()
    call.session_types.set([SessionType.objects.create(event=event, name="T", default_minutes=5)])
    call.tracks.set(event.tracks.all())
    call.fields.set(event.custom_fields.all())
    proposal = [
        "email", "first_name", "last_name", "bio", "name", "description",
        "session_type", "track", "co_speakers",
        *(f"cf_{pk}" for pk in event.custom_fields.values_list("pk", flat=True)),
    ]  # fmt: skip
    return [
        ("POST", f"/cfp/{event.organisation.slug}/{event.slug}/", proposal),
        ("POST", "/speaker/sign-in/", ["email"]),
        ("POST", "/speaker/sign-in/link/", ["sesame"]),
        ("GET", "/", ["q"]),
        ("GET", "/agenda/", ["q", "page"]),
        ("GET", f"{base}/", ["day", "track", "q"]),
        ("GET", f"{base}.ics", ["day", "track"]),
        ("GET", f"{base}/schedule.json", ["day", "since"]),
        ("GET", f"{base}/stream", ["last_id"]),
        ("GET", f"{base}/sessions/{world.ids['session']}/", ["day"]),
        ("GET", f"{base}/proposed/", ["track", "q"]),
        ("POST", page, ["session", "shown", "waitlist", "leave", "save"]),
        ("POST", f"{page}notices/", ["notices"]),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("index", range(12))
def test_no_public_page_answers_500(world: World, index, settings):
    # Past the robot checks and the budgets, to the forms' own validation.
    settings.CFP_LIMITS = {
        **settings.CFP_LIMITS,
        **{key: 10**6 for key in settings.CFP_LIMITS if key.endswith(("ADDRESS", "EMAIL"))},
        "MIN_FORM_SECONDS": 0.0,
    }
    method, path, fields = public_targets(world)[index]
    client = Client(raise_request_exception=False)
    stamp = {"stamp": signing.dumps(0.0, salt="sessions_app.cfp.form-stamp")}

    @PROPERTY
    @given(
        values=st.lists(VALUES, min_size=len(fields), max_size=len(fields)),
        cursor=VALUES,
    )
    def check(values, cursor):
        headers = {"HTTP_LAST_EVENT_ID": cursor.replace("\n", " ")} if "stream" in path else {}
        data = dict(zip(fields, values, strict=True))
        if path.startswith(("/cfp/", "/speaker/sign-in/")):
            data |= stamp
        response = client.get(path, data, **headers) if method == "GET" else client.post(path, data)
        assert response.status_code in OK_STATUSES, (path, response.status_code)

    check()
