"""The registrant's own page: the link is the key, and every change goes through the service."""

import datetime as dt
import re

import pytest
from django.test import Client

from sessions_app import services
from sessions_app.models import Registrant, Selection, Session, SessionChange
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return f.event()


def rows(response) -> dict[int, dict]:
    """Per session on the page: its state, whether its box is ticked and editable, its text."""
    html = response.content.decode()
    found = {}
    pattern = r'<li class="session" data-session-id="(\d+)" data-state="(\w+)">(.*?)</li>'
    for match in re.finditer(pattern, html, re.S):
        body = match.group(3)
        box = re.search(r'<input type="checkbox"[^>]*>', body).group(0)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
        found[int(match.group(1))] = {
            "state": match.group(2),
            "checked": " checked" in box,
            "editable": " disabled" not in box,
            "text": text,
        }
    return found


def save(client, registrant, *ticked, shown=None, **extra):
    shown = [s.pk for s in (shown if shown is not None else ticked)]
    data = {"session": [s.pk for s in ticked], "shown": shown, **extra}
    return client.post(registrant.get_selection_path(), data, follow=True)


def test_a_wrong_or_old_token_is_404_and_shows_nothing(event):
    ada = f.registrant(event=event)
    path = ada.get_selection_path()

    assert Client().get(path).status_code == 200
    last = path[-2]
    wrong = path[:-2] + ("1" if last == "0" else "0") + "/"  # one character off
    assert Client().get(wrong).status_code == 404
    other = f.registrant(event=event)
    assert Client().get(f"/attend/{other.pk}/{ada.page_token()}/").status_code == 404


def test_page_shows_live_sessions_with_seats_left_or_the_sold_out_message(event):
    roomy = f.live(event=event, capacity=10, start="09:00", end="10:00")
    full = f.live(
        event=event, capacity=0, sold_out_message="Watch online", start="11:00", end="12:00"
    )
    hidden = f.scheduled(event=event, session_status="approved")
    ada = f.registrant(event=event)

    page = rows(Client().get(ada.get_selection_path()))

    assert set(page) == {roomy.pk, full.pk}
    assert hidden.pk not in page
    assert "10 seats left" in page[roomy.pk]["text"]
    assert "Watch online" in page[full.pk]["text"]
    assert "Join the waitlist" in page[full.pk]["text"]
    assert page[full.pk]["editable"] is False


def test_ticking_and_saving_selects_with_the_registrant_as_actor(event):
    first = f.live(event=event, start="09:00", end="10:00")
    second = f.live(event=event, start="11:00", end="12:00")
    ada = f.registrant(event=event)
    client = Client()

    response = save(client, ada, first, shown=[first, second])

    assert response.status_code == 200
    assert list(ada.selections.values_list("session_id", "state")) == [(first.pk, "selected")]
    entry = SessionChange.objects.get(session_id=first.pk)
    assert entry.actor_registrant_id == ada.pk
    page = rows(response)
    assert page[first.pk]["checked"] and not page[second.pk]["checked"]
    assert "You have a seat." in page[first.pk]["text"]
    # Unticking gives the seat up.
    save(client, ada, shown=[first, second])
    assert not ada.selections.exists()


def test_sold_out_while_on_the_page_is_explained_next_to_the_session(event):
    session = f.live(event=event, capacity=1, sold_out_message="Full, sorry")
    ada, bob = f.registrant(event=event), f.registrant(event=event)
    client = Client()
    client.get(ada.get_selection_path())  # Ada sees a free seat...
    Selection.objects.create(registrant=bob, session=session, state="selected")
    Session.objects.filter(pk=session.pk).update(seats_taken=1)  # ...Bob takes it first

    page = rows(save(client, ada, session))

    assert "Full, sorry" in page[session.pk]["text"]
    assert not ada.selections.exists()


def test_join_the_waitlist_and_leave_it(event):
    session = f.live(event=event, capacity=0)
    ada = f.registrant(event=event)
    client = Client()

    page = rows(save(client, ada, shown=[], waitlist=str(session.pk)))
    assert page[session.pk]["state"] == "waitlisted"
    assert "number 1 on the waitlist" in page[session.pk]["text"]

    page = rows(save(client, ada, shown=[], leave=str(session.pk)))
    assert page[session.pk]["state"] == "none"
    assert not ada.selections.exists()


def test_included_and_saved_locked_sessions_are_fixed(event):
    included = f.live(event=event, selection_control="included", start="09:00", end="10:00")
    locked = f.live(event=event, locked_when_saved=True, start="11:00", end="12:00")
    ada = f.registrant(event=event)
    Selection.objects.create(registrant=ada, session=included, state="selected")
    client = Client()
    before = rows(client.get(ada.get_selection_path()))
    assert before[locked.pk]["editable"] is True

    after = rows(save(client, ada, locked, shown=[locked]))
    # A crafted post that names them anyway cannot give them up.
    save(client, ada, shown=[included, locked])

    assert after[included.pk] | {"text": ""} == {
        "state": "selected",
        "checked": True,
        "editable": False,
        "text": "",
    }
    assert after[locked.pk]["editable"] is False
    assert "Locked once saved." in after[locked.pk]["text"]
    assert set(ada.selections.values_list("session_id", flat=True)) == {included.pk, locked.pk}


def test_a_conflict_is_explained_and_the_box_is_fixed(event):
    held = f.live(event=event, start="10:00", end="11:00", name="Keynote")
    guarded = f.live(event=event, start="10:30", end="11:30", prevent_session_conflicts=True)
    ada = f.registrant(event=event)
    Selection.objects.create(registrant=ada, session=held, state="selected")

    page = rows(Client().get(ada.get_selection_path()))

    assert page[guarded.pk]["editable"] is False
    assert "Overlaps with “Keynote”, which you have" in page[guarded.pk]["text"]


def test_defaults_are_ticked_on_the_first_visit_only(event):
    default = f.live(event=event, selected_by_default=True)
    ada = f.registrant(event=event)  # created directly: the default is not held
    client = Client()

    assert rows(client.get(ada.get_selection_path()))[default.pk]["checked"] is True
    save(client, ada, shown=[default])  # saved with the box unticked

    assert rows(client.get(ada.get_selection_path()))[default.pk]["checked"] is False
    assert Registrant.objects.get(pk=ada.pk).page_saved_at is not None


def test_the_page_never_shows_another_registrants_data(event):
    session = f.live(event=event, capacity=5)
    ada = f.registrant(event=event, first_name="Ada")
    bob = f.registrant(event=event, first_name="Bobby", email="bobby@example.org")
    Selection.objects.create(registrant=bob, session=session, state="selected")

    html = Client().get(ada.get_selection_path()).content.decode()

    assert "Bobby" not in html and "bobby@example.org" not in html
    assert rows_state(html, session.pk) == "none"


def rows_state(html, pk):
    return re.search(rf'data-session-id="{pk}" data-state="(\w+)"', html).group(1)


@pytest.mark.parametrize("count", [1, 30])
def test_page_query_count_does_not_grow(event, count, django_assert_num_queries):
    ada = f.registrant(event=event)
    for index in range(count):
        session = f.live(
            event=event,
            start=f"{8 + index % 10:02d}:00",
            end=f"{8 + index % 10:02d}:30",
            day=index % 3,
        )
        if index % 2:
            Selection.objects.create(registrant=ada, session=session, state="selected")
    client = Client()

    # registrant with event, live sessions with rooms and tracks, their speakers, selections
    # with positions
    with django_assert_num_queries(4):
        response = client.get(ada.get_selection_path())

    assert response.status_code == 200
    assert len(rows(response)) == count


def test_a_reschedule_into_an_overlap_keeps_both_seats_and_says_so(event):
    first = f.live(event=event, start="09:00", end="10:00", name="Morning talk")
    second = f.live(event=event, start="11:00", end="12:00", prevent_session_conflicts=True)
    ada = f.registrant(event=event)
    for session in (first, second):
        services.selection_add(
            registrant_id=ada.pk, session_id=session.pk, actor=services.Actor(registrant=ada)
        )

    services.session_update(
        session_id=second.pk,
        data={"start_time": dt.time(9, 30), "end_time": dt.time(10, 30)},
        actor=services.SYSTEM,
    )

    assert ada.selections.count() == 2
    page = rows(Client().get(ada.get_selection_path()))
    assert "Now overlaps with “Morning talk” (the schedule changed)" in page[second.pk]["text"]
