"""/healthz and /readyz, as a load balancer probes them."""

import pytest
from django.core.cache import caches
from django.test import Client


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_checks_the_database_and_the_cache():
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_a_balancer_that_sends_its_own_host_over_http(settings, path):
    """Neither the host check (400) nor the HTTPS redirect (301) stands in a probe's way."""
    settings.ALLOWED_HOSTS = ["sessions.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get(path, HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    # The same request anywhere else is refused by the host check.
    assert Client().get("/agenda/", HTTP_HOST="10.0.3.7:8000").status_code == 400


@pytest.mark.django_db
def test_probes_are_never_rate_limited(settings):
    settings.API_RATE_LIMIT = {"REQUESTS": 1, "WINDOW_SECONDS": 600, "LIST_COST": 10}
    http = Client()
    assert [http.get("/readyz").status_code for _ in range(5)] == [200] * 5
    assert "X-Rate-Limit-Limit" not in http.get("/readyz")


@pytest.mark.django_db
def test_readyz_is_503_when_the_cache_does_not_answer(settings, unreachable_redis):
    """A Redis that is not there (a socket nobody listens on) makes the server not ready."""
    settings.CACHES = {**settings.CACHES, "default": unreachable_redis}
    try:
        response = Client().get("/readyz")
    finally:
        caches["default"].close()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("ConnectionError")
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/healthz/"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "trace"])
def test_probes_refuse_other_methods_with_405_and_allow(path, method, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().generic(method.upper(), path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 405


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_options_with_what_they_allow(path):
    response = Client().options(path)
    assert (response.status_code, response["Allow"], response.content) == (
        204,
        "GET, HEAD, OPTIONS",
        b"",
    )


@pytest.mark.django_db
def test_probes_answer_head_like_get():
    assert Client().head("/healthz").status_code == 200
    assert Client().head("/readyz").status_code == 200
