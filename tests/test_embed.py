"""The embeddable agenda's data and stream answer the event's listed sites alone (CORS)."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from sessions_app.models import Event
from tests import factories

pytestmark = pytest.mark.django_db

SITE = "https://www.acme.example"


@pytest.fixture
def event():
    organisation = factories.organisation(slug="acme")
    event = factories.event(organisation=organisation, slug="summit", embed_origins=SITE)
    track = factories.track(event=event, name="Web")
    factories.live(event=event, name="Keynote", track=track, capacity=10)
    factories.live(event=event, name="Day two", day=1)
    return event


URL = "/agenda/acme/summit/embed.json"


def test_a_listed_site_may_read_the_data(event):
    response = Client().get(URL, HTTP_ORIGIN=SITE)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response["Vary"]
    assert "Set-Cookie" not in response
    data = response.json()
    assert [s["name"] for day in data["days"] for s in day["sessions"]] == ["Keynote", "Day two"]
    keynote = data["days"][0]["sessions"][0]
    assert keynote["track"] == "Web" and keynote["seats"] == "10 seats left"
    assert keynote["url"].startswith("http://testserver/agenda/acme/summit/sessions/")
    assert data["stream_url"].startswith("http://testserver/agenda/acme/summit/stream?last_id=")


def test_another_site_gets_no_permission_and_the_browser_refuses(event):
    for origin in ["https://evil.example", "https://www.acme.example.evil.example", "null"]:
        response = Client().get(URL, HTTP_ORIGIN=origin)
        assert "Access-Control-Allow-Origin" not in response, origin


def test_filters_and_the_304(event):
    http = Client()
    one_day = http.get(URL, {"day": event.start_date.isoformat()}, HTTP_ORIGIN=SITE).json()
    assert [s["name"] for d in one_day["days"] for s in d["sessions"]] == ["Keynote"]
    for bad in ["2026-13-45", "yesterday", "\x00"]:
        assert http.get(URL, {"day": bad, "track": bad}).status_code == 200

    first = http.get(URL, HTTP_ORIGIN=SITE)
    again = http.get(URL, HTTP_ORIGIN=SITE, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["Access-Control-Allow-Origin"] == SITE


def test_the_stream_answers_the_listed_sites_too(event):
    listed = Client().get("/agenda/acme/summit/stream", HTTP_ORIGIN=SITE)
    other = Client().get("/agenda/acme/summit/stream", HTTP_ORIGIN="https://evil.example")
    assert listed["Access-Control-Allow-Origin"] == SITE
    assert "Access-Control-Allow-Origin" not in other
    listed.close()
    other.close()


def test_the_script_is_the_same_for_everyone():
    response = Client().get("/agenda/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert 'customElements.define("sessions-agenda"' in response.content.decode()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("https://acme.example/agenda", "invalid_origin"),
        ("acme.example", "invalid_origin"),
        ("https://acme.example:99999", "invalid_origin"),
        ("http://acme.example", "insecure_origin"),
        ("*", "invalid_origin"),
    ],
)
def test_only_origins_are_listed(event, value, code):
    event.embed_origins = value
    with pytest.raises(ValidationError) as refused:
        event.full_clean()
    assert refused.value.error_dict["embed_origins"][0].code == code


def test_origins_are_read_one_per_line_or_comma():
    event = Event(embed_origins="https://A.example/ ,\nhttp://localhost:8001\n\n")
    assert event.embed_origin_list() == ["https://a.example", "http://localhost:8001"]
    assert event.allows_embed("http://localhost:8001") and not event.allows_embed(None)


def test_the_event_page_offers_the_snippet(event, admin_client):
    page = admin_client.get(f"/admin/sessions_app/event/{event.pk}/change/").content.decode()
    assert 'id="embed-snippet"' in page
    assert "/agenda/embed.js" in page and "/agenda/acme/summit/embed.json" in page


def test_the_agenda_pages_may_be_framed_by_the_listed_sites_alone(event):
    http = Client()
    for path in [
        "/agenda/acme/summit/",
        f"/agenda/acme/summit/sessions/{event.sessions.first().pk}/",
    ]:
        policy = http.get(path)["Content-Security-Policy"]
        assert f"frame-ancestors 'self' {SITE}" in policy, policy
        assert "X-Frame-Options" not in http.get(path)

    version = event.agenda_version.version
    Event.objects.filter(pk=event.pk).update(embed_origins="")
    # A new version: pages kept by version (in front of Django) are not served again.
    event.agenda_version.refresh_from_db()
    assert event.agenda_version.version > version
    response = http.get("/agenda/acme/summit/")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
