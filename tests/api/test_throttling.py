"""The token endpoint's throttle, the client address behind a proxy, and the shared budget."""

import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sessions_app.models import ApiRateCounter
from sessions_app.ops import ratelimit
from sessions_app.services.clients import api_client_create
from tests.api.conftest import basic_auth, request_token


def _client(organisation, name="Throttled"):
    return api_client_create(organisation=organisation, name=name, scopes=["sessions:read"])


def test_token_requests_are_limited_per_client_id(db, one_rate_window, organisation, settings):
    settings.TOKEN_RATE_LIMIT = {"PER_CLIENT": 3, "PER_ADDRESS": 100, "WINDOW_SECONDS": 60}
    (first, first_secret), (second, second_secret) = _client(organisation), _client(organisation)
    http = Client()

    # Wrong secrets count too: that is what a guesser sends.
    statuses = [request_token(http, first.client_id, "wrong").status_code for _ in range(3)]
    refused = request_token(http, first.client_id, first_secret)

    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["status"] == 429
    assert "client id" in refused.json()["detail"]
    # A throttled client id does not block another one from the same address.
    assert request_token(http, second.client_id, second_secret).status_code == 200


def test_token_requests_are_limited_per_address(db, one_rate_window, organisation, settings):
    settings.TOKEN_RATE_LIMIT = {"PER_CLIENT": 100, "PER_ADDRESS": 4, "WINDOW_SECONDS": 60}
    clients = [_client(organisation, f"c{i}") for i in range(6)]
    http = Client()

    statuses = [request_token(http, c.client_id, s).status_code for c, s in clients[:5]]
    elsewhere = Client(REMOTE_ADDR="192.0.2.77")
    last, last_secret = clients[5]

    assert statuses == [200, 200, 200, 200, 429]
    assert (
        elsewhere.post(
            "/oauth2/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic_auth(last.client_id, last_secret),
        ).status_code
        == 200
    )


def test_token_throttle_reads_a_client_id_sent_in_the_form(
    db, one_rate_window, organisation, settings
):
    settings.TOKEN_RATE_LIMIT = {"PER_CLIENT": 1, "PER_ADDRESS": 100, "WINDOW_SECONDS": 60}
    api_client, secret = _client(organisation)
    form = {"grant_type": "client_credentials", "client_id": api_client.client_id}
    http = Client()

    assert http.post("/oauth2/token", {**form, "client_secret": "nope"}).status_code == 401
    assert http.post("/oauth2/token", {**form, "client_secret": secret}).status_code == 429


@pytest.mark.parametrize(
    ("header", "value", "counted_as"),
    [
        ("", "203.0.113.9", "ip:127.0.0.1"),  # no trusted header: the proxy's own address
        ("X-Forwarded-For", "203.0.113.9", "ip:203.0.113.9"),
        # A client-made entry left of ours is not believed.
        ("X-Forwarded-For", "10.9.9.9, 203.0.113.9", "ip:203.0.113.9"),
        ("X-Forwarded-For", "not-an-address", "ip:127.0.0.1"),
    ],
    ids=["untrusted", "trusted", "spoofed_prefix", "malformed"],
)
def test_anonymous_budget_follows_the_trusted_proxy_header(
    db, one_rate_window, settings, header, value, counted_as
):
    settings.TRUSTED_PROXY_HEADER = header
    settings.API_RATE_LIMIT = {"REQUESTS": 1, "WINDOW_SECONDS": 600, "LIST_COST": 1}
    http = Client()

    http.get("/api/v1/sessions", HTTP_X_FORWARDED_FOR=value)
    second = http.get("/api/v1/sessions", HTTP_X_FORWARDED_FOR=value)
    neighbour = http.get("/api/v1/sessions", HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert ratelimit.charge(counted_as, 0).used == 2 + (header == "")
    assert second.status_code == 429
    # Behind a trusted proxy, someone else's requests do not use up this address's budget.
    assert neighbour.status_code == (429 if header == "" else 401)


STORES = [
    pytest.param("database", id="database"),
    pytest.param("redis", id="redis", marks=pytest.mark.redis),
]


@pytest.fixture
def store(request, settings):
    if request.param == "database":
        settings.REDIS_URL = ""
    return request.param


@pytest.mark.parametrize("store", STORES, indirect=True)
def test_the_budget_lives_in_the_configured_store(db, store, settings):
    key = "client:store-test"
    states = [ratelimit.charge(key, 3, limit=10, window=600) for _ in range(4)]

    assert [s.used for s in states] == [3, 6, 9, 12]
    assert [s.exceeded for s in states] == [False, False, False, True]
    rows = ApiRateCounter.objects.filter(key=key).count()
    assert rows == (1 if store == "database" else 0)
    if store == "redis":
        assert ratelimit.redis_client().keys("ratelimit:client:store-test:*")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("store", STORES, indirect=True)
def test_concurrent_requests_share_one_budget(store):
    """Twenty connections charging at once: no increment lost, each sees its own count."""
    key = f"client:race-{store}"
    seen: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def hit():
        try:
            barrier.wait()
            seen.append(ratelimit.charge(key, 1, limit=100, window=600).used)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(seen) == list(range(1, 21))


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.fixture
def durable_commits(settings):
    """The database store, on a connection whose commits wait for the disk (the test
    cluster's default is not to)."""
    settings.REDIS_URL = ""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
    yield
    connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_its_own_the_charge_commits_without_waiting_for_the_disk(durable_commits):
    with CaptureQueriesContext(connection) as statements:
        first = ratelimit.charge("client:unflushed", 2, limit=10, window=600)
        second = ratelimit.charge("client:unflushed", 3, limit=10, window=600)

    assert (first.used, second.used) == (2, 5)
    assert len(statements) == 2  # still one statement a charge
    for statement in statements:
        assert "set_config('synchronous_commit', 'off', true)" in statement["sql"]
    # For the charge's own transaction only: what the connection runs next waits again.
    assert _synchronous_commit() == "on"
    assert ApiRateCounter.objects.get(key="client:unflushed").count == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_charge_leaves_the_commit_as_it_is(durable_commits):
    """The setting would hold for the caller's own writes in that transaction too."""
    with transaction.atomic(), CaptureQueriesContext(connection) as statements:
        assert ratelimit.charge("client:in-transaction", 1, limit=10, window=600).used == 1
        assert _synchronous_commit() == "on"

    assert "synchronous_commit" not in statements[0]["sql"]
    assert ApiRateCounter.objects.get(key="client:in-transaction").count == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_autocommit_off_the_charge_leaves_the_commit_as_it_is(durable_commits):
    connection.set_autocommit(False)
    try:
        with CaptureQueriesContext(connection) as statements:
            assert ratelimit.charge("client:no-autocommit", 1, limit=10, window=600).used == 1
        assert _synchronous_commit() == "on"
        connection.commit()
    finally:
        connection.set_autocommit(True)

    assert "synchronous_commit" not in statements[0]["sql"]


@pytest.fixture
def sqlite_log_synced(settings):
    """The database store on SQLite, its connection syncing the log at every commit as a
    database file's does (the test settings turn ``synchronous`` off); yields the SQL the
    driver runs, pragmas included."""
    settings.REDIS_URL = ""
    connection.ensure_connection()
    driver = connection.connection
    driver.execute("PRAGMA synchronous = FULL")
    ran: list[str] = []
    driver.set_trace_callback(ran.append)
    yield ran
    driver.set_trace_callback(None)
    connection.close()


def _pragmas_and_writes(ran: list[str]) -> list[str]:
    """The pragmas in full and the writes by their first word (not the SELECT QUOTE() with
    which Django's SQLite backend spells out a captured query)."""
    return [
        sql if sql.startswith("PRAGMA") else "INSERT"
        for sql in ran
        if sql.startswith(("PRAGMA", "INSERT"))
    ]


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_the_charge_alone_commits_without_syncing_the_log(sqlite_log_synced):
    with CaptureQueriesContext(connection) as statements:
        first = ratelimit.charge("client:unsynced", 2, limit=10, window=600)
        second = ratelimit.charge("client:unsynced", 3, limit=10, window=600)

    assert (first.used, second.used) == (2, 5)
    assert len(statements) == 2  # still one statement a charge
    charge = [
        "PRAGMA synchronous",
        "PRAGMA synchronous = NORMAL",
        "INSERT",
        "PRAGMA synchronous = 2",
    ]
    assert _pragmas_and_writes(sqlite_log_synced) == charge * 2
    # What the connection commits next syncs again.
    assert connection.connection.execute("PRAGMA synchronous").fetchone() == (2,)
    assert ApiRateCounter.objects.get(key="client:unsynced").count == 5


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_inside_a_transaction_the_charge_leaves_the_sync_as_it_is(sqlite_log_synced):
    with transaction.atomic():
        assert ratelimit.charge("client:in-transaction", 1, limit=10, window=600).used == 1

    assert "PRAGMA synchronous = NORMAL" not in sqlite_log_synced
    assert ApiRateCounter.objects.get(key="client:in-transaction").count == 1
