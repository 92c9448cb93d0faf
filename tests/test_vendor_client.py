"""A client written only to the vendor's conventions lists an event's sessions over HTTP.

``VendorClient`` imports nothing of ours: it posts to ``/api/v1/oauth2/token.json``, reads
``.json`` paths, and pages by following ``_links.next.href`` until the key is absent, as
the vendor's published client library does.
"""

import json
import urllib.parse
import urllib.request

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


class VendorClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token = None

    def _token(self) -> str:
        if self.access_token is None:
            form = urllib.parse.urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                }
            ).encode()
            request = urllib.request.Request(f"{self.base_url}/api/v1/oauth2/token.json", data=form)
            with urllib.request.urlopen(request, timeout=10) as answer:
                self.access_token = json.load(answer)["access_token"]
        return self.access_token

    def _get(self, url: str) -> dict:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self._token()}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)

    def list_sessions(self, event_id: int, per_page: int = 5):
        url = f"{self.base_url}/api/v1/sessions.json?event_id={event_id}&per-page={per_page}"
        pages = 0
        while True:
            page = self._get(url)
            pages += 1
            yield from page["items"]
            if "next" not in page["_links"]:
                break
            url = page["_links"]["next"]["href"]
        self.pages_read = pages


def test_a_vendor_client_lists_every_session_of_an_event_across_pages(live_server):
    from sessions_app.services.clients import api_client_create
    from tests import factories

    organisation = factories.organisation()
    event = factories.event(organisation=organisation)
    expected = [factories.session(event=event).pk for _ in range(12)]
    factories.session(event=factories.event(organisation=organisation))  # another event
    api_client, secret = api_client_create(
        organisation=organisation, name="Vendor library", scopes=["sessions:read"]
    )

    client = VendorClient(live_server.url, api_client.client_id, secret)
    listed = [session["id"] for session in client.list_sessions(event.pk)]

    assert sorted(listed) == sorted(expected)
    assert client.pages_read == 3
