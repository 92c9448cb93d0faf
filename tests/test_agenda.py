import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions_app import services
from sessions_app.models import SessionSpeaker, Speaker
from tests import factories as f

pytestmark = pytest.mark.django_db


def agenda_url(event):
    return reverse("agenda:event", args=[event.organisation.slug, event.slug])


def test_agenda_shows_only_live_sessions(client):
    event = f.event()
    live = f.scheduled(event=event, name="Published talk", session_status="live")
    f.scheduled(
        event=event, name="Approved talk", session_status="approved", start="12:00", end="13:00"
    )
    f.session(event=event, name="Proposal")
    response = client.get(agenda_url(event))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-session-id="{live.pk}"' in html
    assert "Published talk" in html
    assert "Approved talk" not in html and "Proposal" not in html
    # Times in the event's zone (Europe/Berlin), not UTC.
    assert "10:00\u201311:00" in html


def test_agenda_shows_a_change_to_a_live_session_at_once(client):
    event = f.event()
    live = f.scheduled(event=event, name="Old title", session_status="live")
    client.get(agenda_url(event))
    services.session_update(session_id=live.pk, data={"name": "New title"}, actor=services.SYSTEM)
    html = client.get(agenda_url(event)).content.decode()
    assert "New title" in html and "Old title" not in html


def test_agenda_unpublished_session_disappears(client):
    event = f.event()
    live = f.scheduled(event=event, name="Soon gone", session_status="live")
    services.session_set_status(session_id=live.pk, status="approved", actor=services.SYSTEM)
    assert "Soon gone" not in client.get(agenda_url(event)).content.decode()


def test_agenda_unknown_event_is_404(client):
    event = f.event()
    response = client.get(reverse("agenda:event", args=[event.organisation.slug, "nope"]))
    assert response.status_code == 404


@pytest.mark.parametrize("count", [1, 50])
def test_agenda_query_count_does_not_grow(client, count):
    event = f.event()
    room, track = f.location(event=event), f.track(event=event)
    for i in range(count):
        session = f.scheduled(
            event=event,
            session_status="live",
            location=room,
            track=track,
            day=i % 3,
            start=f"{8 + i // 6:02d}:{(i % 6) * 10:02d}",
            end=f"{8 + i // 6:02d}:{(i % 6) * 10 + 9:02d}",
        )
        speaker = Speaker.objects.create(event=event, first_name=f"Speaker{i}")
        SessionSpeaker.objects.create(session=session, speaker=speaker)
    # The event with its agenda version; then, built: where the live stream starts (the
    # event's last change, and the changes that may still be committing), its live sessions
    # (with rooms and tracks), their speakers, the tracks for the filter. The cache's own
    # queries, where it is the database's, are left out: with Redis there are none.
    with CaptureQueriesContext(connection) as built:
        response = client.get(agenda_url(event))
    html = response.content.decode()
    assert html.count('class="session"') == count
    assert html.count('class="speaker"') == count
    assert len(not_the_cache(built)) == 6
    with CaptureQueriesContext(connection) as kept:
        assert client.get(agenda_url(event)).content == response.content
    assert len(kept) == 1  # the event and its version: the body is in this process's memory


def not_the_cache(queries) -> list[str]:
    """The SQL of ``queries`` but the database cache's (its table, its savepoints)."""
    return [
        query["sql"]
        for query in queries
        if "agenda_cache" not in query["sql"] and "SAVEPOINT" not in query["sql"]
    ]


def test_home_links_to_the_three_doors(client):
    html = client.get("/").content.decode()
    assert all(link in html for link in ['href="/admin/"', 'href="/agenda/"', 'href="/api/docs/"'])


def test_agenda_shows_seats_left_or_the_sold_out_message_and_follows_selections(client):
    event = f.event()
    roomy = f.live(event=event, name="Roomy", capacity=2, start="09:00", end="10:00")
    full = f.live(event=event, name="Full", capacity=0, sold_out_message="See the recording")
    unlimited = f.live(event=event, name="Open", start="12:00", end="13:00")
    html = client.get(agenda_url(event)).content.decode()

    assert "2 seats left" in html
    assert "See the recording" in html
    assert html.count('class="seats') == 2  # nothing for an unlimited session
    assert unlimited.name in html and full.name in html

    ada = f.registrant(event=event)
    services.selection_add(
        registrant_id=ada.pk, session_id=roomy.pk, actor=services.Actor(registrant=ada)
    )
    assert "1 seat left" in client.get(agenda_url(event)).content.decode()
