"""Every error is application/problem+json with the contract's status; nothing is a 500."""

import io
import json

import pytest
from django.test import Client

from sessions_app.models import Session, SessionChange
from tests import factories

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def session(event):
    return factories.scheduled(event=event, name="Stable")


def assert_problem(response, status: int, slug: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"https://sessions.example/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def assert_untouched(session):
    session.refresh_from_db()
    assert (session.name, session.version) == ("Stable", 1)
    assert not SessionChange.objects.exists()


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{"name": "x",', "application/json"),
        ("{'name': 'single quotes'}", "application/json"),
        ('{"capacity": NaN}', "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),
        (b'{"name": "\xff\xfe"}', "application/json"),
        ('{"capacity": ' + "9" * 5000 + "}", "application/json"),
    ],
    ids=["truncated", "single_quotes", "nan", "deep_nesting", "bad_utf8", "5000_digits"],
)
def test_malformed_json_is_400(api, session, content, content_type):
    response = api.patch(f"/api/v1/sessions/{session.pk}", content, content_type=content_type)

    assert_problem(response, 400, "bad-request")
    assert_untouched(session)


@pytest.mark.parametrize(
    "content",
    ['[{"name": "x"}]', '"name"', "42", "null"],
    ids=["array", "string", "number", "null"],
)
def test_json_body_that_is_not_an_object_is_400(api, session, content):
    response = api.patch(f"/api/v1/sessions/{session.pk}", content)

    body = assert_problem(response, 400, "bad-request")
    assert body["detail"] == "The body must be a JSON object."
    assert_untouched(session)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"]
)
def test_body_in_another_content_type_is_415(api, session, content_type):
    response = api.patch(f"/api/v1/sessions/{session.pk}", "name=x", content_type=content_type)

    assert_problem(response, 415, "unsupported-media-type")
    assert_untouched(session)


def test_body_of_2_mib_is_413(api, session):
    big = '{"description": "' + "x" * (2 * 1024 * 1024) + '"}'

    response = api.patch(f"/api/v1/sessions/{session.pk}", big)

    assert_problem(response, 413, "payload-too-large")
    assert "X-Rate-Limit-Remaining" in response
    assert_untouched(session)


def test_token_endpoint_body_of_2_mib_is_413(db):
    response = Client().post(
        "/oauth2/token",
        "grant_type=client_credentials&x=" + "y" * (2 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )

    assert_problem(response, 413, "payload-too-large")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"capacity": 10**40}, "capacity", "out_of_range"),
        ({"location_id": 10**40}, "location_id", "does_not_exist"),
        ({"track_id": -(10**40)}, "track_id", "does_not_exist"),
        ({"name": "nul\x00byte"}, "name", "null_characters_not_allowed"),
        ({"description": "\x00"}, "description", "null_characters_not_allowed"),
        ({"timezone": "Europe/\x00Berlin"}, "timezone", "invalid_timezone"),
        ({"date": "2025-02-30"}, "date", "invalid_date"),
        ({"date": "\x00"}, "date", "invalid_date"),
        ({"start_time": "25:00"}, "start_time", "invalid_time"),
        ({"end_time": "24:00:00"}, "end_time", "invalid_time"),
        ({"custom_fields": {"c_\x00": "x"}}, "custom_fields.c_\x00", "unknown_field"),
        ({"\x00": 1}, "\x00", "unknown_field"),
    ],
    ids=[
        "huge_capacity", "huge_location", "huge_negative_track", "nul_name",
        "nul_description", "nul_timezone", "feb_30", "nul_date", "hour_25", "hour_24",
        "nul_custom_key", "nul_field_name",
    ],
)  # fmt: skip
def test_hostile_values_are_422_never_500(api, session, body, field, code):
    if field == "timezone":
        Session.objects.filter(pk=session.pk).update(use_event_timezone=False)
        session.refresh_from_db()

    response = api.patch(f"/api/v1/sessions/{session.pk}", body)

    errors = assert_problem(response, 422, "validation")["errors"]
    assert field in {e["field"] for e in errors}
    assert code in {e["code"] for e in errors if e["field"] == field}
    assert_untouched(session)


def test_number_too_large_for_a_float_is_422(api, session):
    response = api.patch(f"/api/v1/sessions/{session.pk}", '{"capacity": 1e400}')

    errors = assert_problem(response, 422, "validation")["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("capacity", "invalid_type")]
    assert_untouched(session)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sessions/99999999999999999999999999",
        "/api/v1/sessions/00000000000000000000000000001x",
        "/api/v1/nothing-here",
        "/api/v1/sessions/1/nope",
        "/api/v1/events/99999999999999999999",
    ],
)
def test_unknown_address_is_404_problem(api, path):
    response = api.get(path)

    assert_problem(response, 404, "not-found")
    assert "X-Rate-Limit-Remaining" in response


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/sessions"),
        ("post", "/api/v1/sessions/{id}"),
        ("get", "/api/v1/sessions/update/{id}"),
        ("patch", "/api/v1/events"),
        ("put", "/oauth2/token"),
    ],
)
def test_method_not_allowed_is_405_problem_with_allow(api, session, method, path):
    response = getattr(api.http, method)(
        path.format(id=session.pk), HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )

    assert_problem(response, 405, "method-not-allowed")
    assert response["Allow"]
    assert_untouched(session)


def test_post_without_trailing_slash_is_not_redirected(api, event):
    response = api.post("/api/v1/sessions", {"event_id": event.pk, "name": "No slash"})
    again = api.post("/api/v1/sessions/", {"event_id": event.pk, "name": "Slash"})

    assert (response.status_code, again.status_code) == (201, 201)


def test_accept_html_still_answers_json(api, session):
    response = api.get(f"/api/v1/sessions/{session.pk}", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_query_string_format_is_not_a_parameter(api, session):
    """The answer is JSON whatever is asked; ``format`` is unknown like any misspelling."""
    response = api.get(f"/api/v1/sessions/{session.pk}", {"format": "xml"})

    body = assert_problem(response, 400, "bad-request")
    assert body["errors"][0]["field"] == "format"
    assert body["errors"][0]["code"] == "unknown_parameter"


def test_bad_validate_only_value_is_400(api, session):
    response = api.patch(f"/api/v1/sessions/{session.pk}?validate_only=perhaps", {"name": "x"})

    body = assert_problem(response, 400, "bad-request")
    assert body["errors"][0]["field"] == "validate_only"
    assert_untouched(session)


def test_rate_limit_is_429_with_retry_after(api, one_rate_window, event, settings):
    settings.API_RATE_LIMIT = {"REQUESTS": 11, "WINDOW_SECONDS": 600, "LIST_COST": 10}

    first = api.get(f"/api/v1/events/{event.pk}")
    listing = api.get("/api/v1/sessions")
    refused = api.get(f"/api/v1/events/{event.pk}")

    assert (first["X-Rate-Limit-Limit"], first["X-Rate-Limit-Remaining"]) == ("11", "10")
    assert (listing.status_code, listing["X-Rate-Limit-Remaining"]) == (200, "0")
    assert_problem(refused, 429, "rate-limited")
    assert refused["X-Rate-Limit-Remaining"] == "0"
    assert 1 <= int(refused["Retry-After"]) <= 600
    assert 0 <= int(refused["X-Rate-Limit-Reset"]) <= 600


def test_rate_limit_is_per_client(api, one_rate_window, make_caller, event, settings):
    settings.API_RATE_LIMIT = {"REQUESTS": 1, "WINDOW_SECONDS": 600, "LIST_COST": 10}
    other = make_caller(event.organisation)

    assert api.get(f"/api/v1/events/{event.pk}").status_code == 200
    assert api.get(f"/api/v1/events/{event.pk}").status_code == 429
    assert other.get(f"/api/v1/events/{event.pk}").status_code == 200


def test_rate_limit_window_starts_again(api, event, settings):
    from sessions_app.ops import ratelimit

    settings.API_RATE_LIMIT = {"REQUESTS": 5, "WINDOW_SECONDS": 60, "LIST_COST": 10}
    key = ratelimit.client_key(api.api_client.pk)

    assert ratelimit.charge(key, 4, now=120.0).used == 4
    assert ratelimit.charge(key, 1, now=179.0).used == 5
    assert ratelimit.charge(key, 1, now=179.0).exceeded
    fresh = ratelimit.charge(key, 1, now=180.0)
    assert (fresh.used, fresh.reset) == (1, 60)


def test_unauthenticated_answers_carry_rate_limit_headers(db):
    response = Client().get("/api/v1/sessions")

    assert response.status_code == 401
    assert response["X-Rate-Limit-Limit"] == "2000"


@pytest.mark.parametrize(
    "content",
    [
        '{"name": "\\ud800"}',
        '{"name": "ok", "custom_fields": {"c_1": ["\\udfff"]}}',
        '{"\\udc00": 1}',
    ],
    ids=["lone_high_surrogate", "nested_lone_low_surrogate", "in_a_key"],
)
def test_json_with_a_lone_surrogate_is_400_not_500(api, session, content):
    response = api.patch(f"/api/v1/sessions/{session.pk}" + "?validate_only=1", content)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert_untouched(session)


def test_json_with_a_surrogate_pair_is_text(api, session):
    response = api.patch(f"/api/v1/sessions/{session.pk}", '{"name": "Stable \\ud83d\\ude00"}')

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Stable \N{GRINNING FACE}"


def _chunked(api, path, body: bytes, **extra):
    """A request whose body has no Content-Length, as a chunked request reaches Django."""
    return api.http.generic(
        "PATCH",
        path,
        CONTENT_TYPE="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(body), **extra},
    )


def test_chunked_body_over_1_mib_is_413(api, session):
    body = json.dumps({"description": "x" * (2 * 1024 * 1024)}).encode()

    response = _chunked(
        api, f"/api/v1/sessions/{session.pk}", body, **{"wsgi.input_terminated": True}
    )

    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert_untouched(session)


def test_chunked_body_is_read_not_dropped(api, session):
    body = json.dumps({"name": "Chunked"}).encode()

    response = _chunked(
        api, f"/api/v1/sessions/{session.pk}", body, **{"wsgi.input_terminated": True}
    )

    assert response.status_code == 200, response.content
    assert Session.objects.get(pk=session.pk).name == "Chunked"


def test_chunked_body_the_server_cannot_delimit_is_411_not_silently_empty(api, session):
    # wsgiref (runserver) does not decode chunked bodies: Django would see an empty body
    # and answer 200 without writing what was sent.
    response = _chunked(api, f"/api/v1/sessions/{session.pk}", b'{"name": "Lost"}')

    assert response.status_code == 411
    assert response["Content-Type"] == PROBLEM
    assert_untouched(session)
