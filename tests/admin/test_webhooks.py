"""Webhook subscriptions and the delivery log in the admin."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from sessions_app import services
from sessions_app.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from sessions_app.webhooks import outbox, sealing, subscriptions

pytestmark = pytest.mark.django_db

ADD = "/admin/sessions_app/webhooksubscription/add/"
LIST = "/admin/sessions_app/webhooksubscription/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def subscribe(org, url="https://hooks.example.com/in", events=("*",)):
    return subscriptions.webhook_create(
        organisation_id=org.event.organisation_id, data={"url": url, "events": list(events)}
    )[0]


def test_an_organiser_subscribes_and_sees_the_secret_once(acme):
    http = logged_in(acme.organiser)

    response = http.post(
        ADD,
        {
            "organisation": acme.event.organisation_id,
            "url": "https://crm.example.com/hooks",
            "event_types": ["session.updated", "selection.*"],
            "description": "CRM",
            "active": "on",
        },
    )

    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    subscription = WebhookSubscription.objects.get()
    secret = re.search(r"<code[^>]*>(whsec_[^<]+)</code>", response.content.decode()).group(1)
    assert sealing.unseal(subscription.sealed_secret) == secret
    assert subscription.events == ["session.updated", "selection.*"]
    assert subscription.organisation_id == acme.event.organisation_id
    page = http.get(f"{LIST}{subscription.pk}/change/").content.decode()
    assert secret not in page


def test_the_services_rules_show_on_the_form(acme):
    response = logged_in(acme.organiser).post(
        ADD,
        {
            "organisation": acme.event.organisation_id,
            "url": "http://crm.example.com/hooks",
            "event_types": ["*"],
            "active": "on",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == [
        "Use https; plain http is only for a receiver on loopback or an internal network."
    ]
    assert WebhookSubscription.objects.count() == 0


def test_a_switched_off_subscription_says_why(acme):
    subscription = subscribe(acme)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        active=False,
        disabled_at=timezone.now(),
        disabled_reason="Switched off: every delivery failed since 2030-06-09 10:00 UTC. "
        "Last error: HTTP 500",
    )
    http = logged_in(acme.organiser)

    for page in (LIST, f"{LIST}{subscription.pk}/change/", "/admin/"):
        html = http.get(page).content.decode()
        assert "every delivery failed since 2030-06-09 10:00 UTC" in html, page

    response = http.post(
        f"{LIST}{subscription.pk}/change/",
        {"url": subscription.url, "event_types": ["*"], "description": "", "active": "on"},
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.active and subscription.disabled_reason == ""


def test_another_organisations_subscriptions_and_deliveries_stay_hidden(acme, globex):
    theirs = subscribe(globex)
    services.session_update(session_id=globex.held.pk, data={"name": "x"}, actor=services.SYSTEM)
    outbox.fan_out()
    delivery = WebhookDelivery.objects.get()
    http = logged_in(acme.organiser)

    assert http.get(f"{LIST}{theirs.pk}/change/").status_code == 302  # "does not exist"
    assert theirs.url not in http.get(LIST).content.decode()
    deliveries = "/admin/sessions_app/webhookdelivery/"
    assert http.get(f"{deliveries}{delivery.pk}/change/").status_code == 302
    assert "session.updated" not in http.get(deliveries).content.decode()


def test_reviewers_do_not_see_webhooks(acme):
    subscribe(acme)
    http = logged_in(acme.reviewer)

    assert http.get(LIST).status_code == 403
    assert http.get("/admin/sessions_app/webhookdelivery/").status_code == 403


def test_the_delivery_log_shows_attempts_and_sends_a_failed_one_again(acme):
    subscription = subscribe(acme)
    services.session_update(session_id=acme.held.pk, data={"name": "x"}, actor=services.SYSTEM)
    outbox.fan_out()
    delivery = WebhookDelivery.objects.get()
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        finished_at=timezone.now(),
        status_code=500,
        duration_ms=31,
        error="HTTP 500",
    )
    WebhookDelivery.objects.update(
        state="failed", attempt_count=1, last_status_code=500, next_attempt_at=None
    )
    http = logged_in(acme.organiser)

    page = http.get(f"/admin/sessions_app/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "HTTP 500" in page and "31" in page
    summary = http.get(f"{LIST}{subscription.pk}/change/").content.decode()
    assert "session.updated" in summary

    response = http.post(
        "/admin/sessions_app/webhookdelivery/",
        {"action": "send_again", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "1 delivery(ies) queued again." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert delivery.next_attempt_at <= timezone.now() + dt.timedelta(seconds=1)


def test_delivery_log_query_count_does_not_grow(acme, django_assert_max_num_queries):
    subscribe(acme)
    for n in range(30):
        services.session_update(
            session_id=acme.held.pk, data={"name": f"n{n}"}, actor=services.SYSTEM
        )
    outbox.fan_out()
    http = logged_in(acme.organiser)
    http.get("/admin/sessions_app/webhookdelivery/")  # warm the session

    with django_assert_max_num_queries(12):
        response = http.get("/admin/sessions_app/webhookdelivery/")
    assert response.content.decode().count("session.updated") >= 30
