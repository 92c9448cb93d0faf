"""Malformed query strings and POSTs get an answer a person can act on, never a 500.

NUL characters only fail on PostgreSQL (its text cannot hold them); non-ASCII digits such as
"²" pass ``str.isdigit()`` but not ``int()``.
"""

import json

import pytest
from django.contrib.messages import get_messages

from sessions_app.enums import SessionStatus
from sessions_app.models import Session, SessionChange
from tests.admin.conftest import change_url


@pytest.mark.parametrize(
    "url",
    [
        "/admin/sessions_app/session/?session_status__exact=%00",
        "/admin/sessions_app/session/review/?q=x%00",
        "/admin/sessions_app/customfield/?field_type__exact=%00",
        "/admin/sessions_app/track/?name=%00",
    ],
    ids=["status_filter", "review_search", "field_type_filter", "raw_lookup"],
)
def test_changelist_nul_in_query_is_an_invalid_lookup(client, acme, url):
    client.force_login(acme.organiser)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_autocomplete_nul_in_term_finds_nothing(client, acme):
    client.force_login(acme.organiser)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "sessions_app", "model_name": "session", "field_name": "track", "term": "\0"},
    )
    assert response.status_code == 200
    assert json.loads(response.content)["results"] == []


def test_session_add_with_non_ascii_digit_event_is_not_found(client, acme):
    client.force_login(acme.organiser)
    assert client.get("/admin/sessions_app/session/add/", {"event": "²"}).status_code == 404


@pytest.mark.parametrize(
    "post",
    [
        {"status": "approved", "version": "²"},
        {"status": "approved", "version": "1", "note": "a\0b"},
        {"status": "approved", "version": "1", "note": "x" * 2001},
    ],
    ids=["non_ascii_version", "nul_in_note", "note_too_long"],
)
def test_status_move_malformed_post_is_refused_with_message(client, acme, post):
    client.force_login(acme.reviewer)
    response = client.post(f"/admin/sessions_app/session/{acme.proposal.pk}/status/", post)
    assert response.status_code == 302
    assert response["Location"] == change_url(acme.proposal)
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "error"
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.SUBMITTED
    assert not SessionChange.objects.exists()
