"""``/api/v1/webhooks``: subscriptions and their delivery log, scope webhooks:write."""

import pytest

from sessions_app import services
from sessions_app.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from sessions_app.webhooks import outbox, sealing, subscriptions
from tests import factories as f

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/in"


@pytest.fixture
def api(make_caller, organisation):
    return make_caller(organisation, scopes=["sessions:read", "webhooks:write"])


def create(api, **body):
    return api.post("/api/v1/webhooks", {"url": URL, "events": ["session.updated"], **body})


def test_create_answers_the_secret_once(api, organisation):
    response = create(api, description="CRM sync")

    assert response.status_code == 201, response.content
    body = response.json()
    webhook = WebhookSubscription.objects.get()
    assert response["Location"] == f"http://testserver/api/v1/webhooks/{webhook.pk}"
    secret = body.pop("secret")
    assert secret.startswith("whsec_")
    assert sealing.unseal(webhook.sealed_secret) == secret
    assert body == {
        "id": webhook.pk,
        "url": URL,
        "events": ["session.updated"],
        "description": "CRM sync",
        "active": 1,
        "disabled_reason": "",
        "failing_since": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert webhook.organisation == organisation
    again = api.get(f"/api/v1/webhooks/{webhook.pk}").json()
    assert "secret" not in again
    assert again == body
    assert api.get("/api/v1/webhooks").json()["items"] == [body]


def test_a_secret_of_your_own_and_a_new_one_by_patch(api):
    response = create(api, secret="my-own-secret-0123456789")
    assert response.json()["secret"] == "my-own-secret-0123456789"
    webhook_id = response.json()["id"]

    response = api.patch(f"/api/v1/webhooks/{webhook_id}", {"secret": "rotated-secret-98765432"})

    assert response.status_code == 200
    assert response.json()["secret"] == "rotated-secret-98765432"
    stored = WebhookSubscription.objects.get().sealed_secret
    assert sealing.unseal(stored) == "rotated-secret-98765432"


def test_patch_changes_only_what_is_sent(api):
    webhook_id = create(api, description="Keep me").json()["id"]

    response = api.patch(
        f"/api/v1/webhooks/{webhook_id}", {"events": ["selection.*", "session.deleted"]}
    )

    assert response.status_code == 200
    assert response.json()["events"] == ["selection.*", "session.deleted"]
    assert response.json()["description"] == "Keep me"
    assert "secret" not in response.json()
    response = api.patch(f"/api/v1/webhooks/{webhook_id}", {"active": 0}, form=True)
    assert response.json()["active"] == 0


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"url": "not a url"}, "url", "invalid_url"),
        ({"url": "http://hooks.example.com/in"}, "url", "https_required"),
        ({"url": "https://hooks.example.com/in\x00"}, "url", "invalid_url"),
        ({"events": []}, "events", "invalid"),
        ({"events": "session.updated"}, "events", "invalid"),
        ({"events": ["session.renamed"]}, "events", "unknown_event_type"),
        ({"events": [{"x": 1}]}, "events", "unknown_event_type"),
        ({"secret": "short"}, "secret", "invalid"),
        ({"secret": 12345678901234567}, "secret", "invalid_type"),
        ({"active": "yes"}, "active", "invalid_boolean"),
        ({"colour": "red"}, "colour", "unknown_field"),
        ({"id": 999}, "id", "read_only"),
        ({"description": "x" * 201}, "description", "max_length"),
    ],
    ids=[
        "bad-url",
        "plain-http",
        "nul",
        "no-events",
        "events-not-a-list",
        "unknown-event",
        "event-not-a-string",
        "short-secret",
        "secret-not-a-string",
        "bad-flag",
        "unknown-field",
        "read-only",
        "long-description",
    ],
)
def test_invalid_input_is_422_naming_the_field_and_creates_nothing(api, body, field, code):
    response = create(api, **body)

    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert WebhookSubscription.objects.count() == 0


def test_url_and_events_are_required(api):
    response = api.post("/api/v1/webhooks", {})

    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["events", "url"]


def test_a_form_cannot_send_events(api):
    response = api.post("/api/v1/webhooks", {"url": URL, "events": "*"}, form=True)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "events"


def test_a_token_without_the_scope_is_403(make_caller, organisation):
    caller = make_caller(organisation, scopes=["sessions:read", "sessions:write"])
    subscriptions.webhook_create(
        organisation_id=organisation.pk, data={"url": URL, "events": ["*"]}
    )

    for response in (
        caller.get("/api/v1/webhooks"),
        caller.post("/api/v1/webhooks", {"url": URL, "events": ["*"]}),
    ):
        assert response.status_code == 403
        assert "webhooks:write" in response.json()["detail"]
    assert WebhookSubscription.objects.count() == 1


def test_another_organisations_webhook_is_404(api):
    other = f.organisation()
    theirs, _ = subscriptions.webhook_create(
        organisation_id=other.pk, data={"url": URL, "events": ["*"]}
    )
    path = f"/api/v1/webhooks/{theirs.pk}"

    assert api.get("/api/v1/webhooks").json()["items"] == []
    assert api.get(path).status_code == 404
    assert api.patch(path, {"active": 0}).status_code == 404
    assert api.delete(path).status_code == 404
    assert api.get(f"{path}/deliveries").status_code == 404
    theirs.refresh_from_db()
    assert theirs.active


def test_delete_removes_the_subscription_and_its_log(api, organisation):
    webhook_id = create(api).json()["id"]
    event = f.event(organisation=organisation)
    session = f.scheduled(event=event)
    services.session_update(session_id=session.pk, data={"name": "x"}, actor=services.SYSTEM)
    outbox.fan_out()
    assert WebhookDelivery.objects.count() == 1

    assert api.delete(f"/api/v1/webhooks/{webhook_id}").status_code == 204
    assert WebhookSubscription.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0


def _deliveries(organisation, count):
    subscription, _ = subscriptions.webhook_create(
        organisation_id=organisation.pk, data={"url": URL, "events": ["*"]}
    )
    event = f.event(organisation=organisation)
    session = f.scheduled(event=event)
    for n in range(count):
        services.session_update(
            session_id=session.pk, data={"name": f"Name {n}"}, actor=services.SYSTEM
        )
    outbox.fan_out()
    for delivery in WebhookDelivery.objects.all():
        WebhookAttempt.objects.create(
            delivery=delivery, number=1, status_code=500, error="HTTP 500"
        )
        WebhookAttempt.objects.create(delivery=delivery, number=2, status_code=200)
    return subscription


def test_the_delivery_log_shows_each_attempt(api, organisation):
    subscription = _deliveries(organisation, 1)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.update(
        state="delivered", attempt_count=2, last_status_code=200, last_duration_ms=12
    )

    response = api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries")

    assert response.status_code == 200
    (item,) = response.json()["items"]
    assert item["id"] == delivery.pk
    assert item["webhook_id"] == subscription.pk
    assert item["message_id"] == delivery.change_id
    assert (item["type"], item["state"]) == ("session.updated", "delivered")
    assert item["attempt_count"] == 2
    assert (item["response_code"], item["duration_ms"]) == (200, 12)
    assert [(a["number"], a["response_code"], a["error"]) for a in item["attempts"]] == [
        (1, 500, "HTTP 500"),
        (2, 200, ""),
    ]


def test_the_delivery_log_filters_by_state(api, organisation):
    subscription = _deliveries(organisation, 2)
    WebhookDelivery.objects.filter(pk=WebhookDelivery.objects.order_by("id")[0].pk).update(
        state="failed"
    )
    path = f"/api/v1/webhooks/{subscription.pk}/deliveries"

    assert len(api.get(path, {"state": "failed"}).json()["items"]) == 1
    assert len(api.get(path, {"state": "pending"}).json()["items"]) == 1
    response = api.get(path, {"state": "lost"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "state"


@pytest.mark.parametrize("count", [1, 50])
def test_delivery_log_query_count_does_not_grow(
    api, organisation, count, django_assert_num_queries, database_rate_limit
):
    subscription = _deliveries(organisation, count)

    # token, rate limit, the webhook, page, attempts (a page that is not full needs no count)
    with django_assert_num_queries(5):
        response = api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries", {"per-page": 200})

    assert len(response.json()["items"]) == count
    assert all(len(item["attempts"]) == 2 for item in response.json()["items"])
