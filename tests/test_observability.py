"""One JSON line per request with its id, and errors with their traceback under the same id."""

import io
import json
import logging

import pytest
from django.test import Client

from sessions_app.ops.request_log import JsonFormatter, RequestIdFilter
from sessions_app.services.clients import api_client_create
from tests import factories
from tests.api.conftest import request_token


@pytest.fixture
def log_lines():
    """The root logger's output as production formats it (JSON, with the request id)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


def _request_lines(lines):
    return [line for line in lines if line["logger"] == "sessions_app.request"]


@pytest.mark.django_db
def test_a_request_gets_an_id_and_one_json_line(log_lines):
    response = Client().get("/agenda/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    [line] = _request_lines(log_lines())
    assert line["request_id"] == request_id
    assert (line["method"], line["path"], line["status"]) == ("GET", "/agenda/", 200)
    assert line["level"] == "INFO" and line["message"] == "GET /agenda/ 200"
    assert isinstance(line["duration_ms"], float)
    assert "user" not in line and "client" not in line


@pytest.mark.django_db
def test_the_balancers_request_id_is_kept_and_a_strange_one_replaced(log_lines):
    http = Client()
    assert http.get("/healthz", HTTP_X_REQUEST_ID="lb-42.a_b")["X-Request-ID"] == "lb-42.a_b"
    replaced = http.get("/healthz", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]
    assert replaced != "<script>" and len(replaced) == 32
    assert [line["request_id"] for line in _request_lines(log_lines())] == ["lb-42.a_b", replaced]


@pytest.mark.django_db
def test_the_line_names_the_user_or_the_api_client(log_lines, admin_user):
    http = Client()
    http.force_login(admin_user)
    http.get("/admin/")
    api_client, secret = api_client_create(
        organisation=factories.organisation(), name="Logger", scopes=["sessions:read"]
    )
    token = request_token(Client(), api_client.client_id, secret).json()["access_token"]
    Client().get("/api/v1/events", HTTP_AUTHORIZATION=f"Bearer {token}")
    lines = _request_lines(log_lines())
    assert lines[0]["user"] == admin_user.username
    assert lines[-1]["client"] == api_client.client_id
    assert lines[-1]["path"] == "/api/v1/events"


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_errors")
@pytest.mark.parametrize("path", ["/test-only/boom/", "/api/v1/test-only/boom"])
def test_an_error_is_logged_with_its_traceback_under_the_request_id(log_lines, path):
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 500
    request_id = response["X-Request-ID"]
    lines = [line for line in log_lines() if line["request_id"] == request_id]
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert errors, lines
    assert "RuntimeError: boom for the test" in errors[0]["exception"]
    assert "Traceback (most recent call last)" in errors[0]["exception"]
    [request_line] = _request_lines(lines)
    assert request_line["status"] == 500


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_errors")
def test_a_lost_database_is_503_with_retry_after_not_500(log_lines):
    http = Client(raise_request_exception=False)
    api = http.get("/api/v1/test-only/database-gone")
    assert (api.status_code, api["Content-Type"]) == (503, "application/problem+json")
    assert api.json()["status"] == 503
    assert int(api["Retry-After"]) > 0
    page = http.get("/test-only/database-gone/")
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")
    assert "try again" in page.content.decode()
    assert int(page["Retry-After"]) > 0
    statuses = [line["status"] for line in _request_lines(log_lines())]
    assert statuses == [503, 503]


@pytest.fixture
def plain_lines():
    """The root logger's output as make run formats it (plain), coloured or not."""
    from sessions_app.ops.request_log import PlainFormatter

    streams = []

    def attach(*, colour: bool):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(PlainFormatter(colour=colour))
        logging.getLogger().addHandler(handler)
        streams.append((handler, stream))
        return lambda: stream.getvalue().splitlines()

    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.INFO)
    yield attach
    for handler, _ in streams:
        root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.django_db
def test_the_plain_line_is_short_and_names_the_client(plain_lines):
    lines = plain_lines(colour=False)
    client, secret = api_client_create(
        organisation=factories.organisation(), name="Plain", scopes=["sessions:read"]
    )
    token = request_token(Client(), client.client_id, secret).json()["access_token"]
    Client().get("/api/v1/sessions", HTTP_AUTHORIZATION=f"Bearer {token}")
    [line] = [line for line in lines() if " /api/v1/sessions " in line]
    clock, method, path, status, duration, unit, who = line.split(" ")
    assert (method, path, status, unit, who) == (
        "GET",
        "/api/v1/sessions",
        "200",
        "ms",
        f"client={client.client_id}",
    )
    assert len(clock) == 8 and clock.count(":") == 2
    float(duration)
    assert "\x1b[" not in line


@pytest.mark.django_db
def test_the_plain_line_is_coloured_by_status_on_a_terminal(plain_lines):
    lines = plain_lines(colour=True)
    http = Client()
    http.get("/agenda/")
    http.get("/agenda/no-such-organisation/no-such-event/")
    ok, missing = [line for line in lines() if "GET /agenda/" in line]
    assert "\x1b[32mGET /agenda/ 200 " in ok
    assert "\x1b[33mGET /agenda/no-such-organisation/no-such-event/ 404 " in missing


@pytest.mark.django_db
def test_a_registrants_page_key_never_reaches_the_log(log_lines):
    """The key in a registrant's link opens and changes their page: whoever reads the logs
    must not get it, from the request line or from Django's own warnings."""
    registrant = factories.registrant(event=factories.event())
    path = registrant.selection_url().split("://", 1)[-1].partition("/")[2]
    key = path.strip("/").split("/")[2]
    http = Client()
    assert http.get("/" + path).status_code == 200
    assert http.get(f"/attend/{registrant.pk}/{key}x/").status_code == 404
    assert http.get("/agenda/?token=secret-in-a-query").status_code == 200
    logged = json.dumps(log_lines())
    assert key not in logged and "secret-in-a-query" not in logged
    paths = [line["path"] for line in _request_lines(log_lines())]
    assert paths == [
        f"/attend/{registrant.pk}/[redacted]/",
        f"/attend/{registrant.pk}/[redacted]/",
        "/agenda/",
    ]


def test_the_servers_access_lines_are_redacted_too():
    """uvicorn's access line (``make serve`` with GUNICORN_ACCESS_LOG) names the path and
    query as it was sent; the worker's filter redacts it as the app's own line."""
    import config.asgi_worker  # noqa: F401  (adds the filter)

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    old_level = access.level
    access.setLevel(logging.INFO)
    try:
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/attend/7/s3cr3t-key/?token=abc",
            "1.1",
            200,
        )
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    line = stream.getvalue()
    assert "s3cr3t-key" not in line and "abc" not in line
    assert "/attend/7/[redacted]/?token=[redacted]" in line
