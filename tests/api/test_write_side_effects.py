"""Every attendee write leaves all its side effects, whichever door it came through: the
history entry, the webhook outbox (a delivery to each subscriber, once fanned out), the
message it asks for, and a new agenda version where the agenda shows the change (seats).
Work moved out of the request (after the commit, or into the worker) must keep this: the
deliveries and the seat-from-the-waitlist message are already the worker's (fanned out and
composed from the history here as the worker does); the history, the welcome and the
agenda version are the request's."""

import pytest

from sessions_app.enums import NoticeKind, SelectionControl
from sessions_app.models import AgendaVersion, Message, Registrant, SessionChange, WebhookDelivery
from sessions_app.notices import compose
from sessions_app.webhooks import outbox, subscriptions
from tests import factories

pytestmark = pytest.mark.django_db

SCOPES = ["sessions:read", "sessions:write", "registrants:read", "registrants:write"]


@pytest.fixture
def world(make_caller, organisation, event):
    subscriptions.webhook_create(
        organisation_id=organisation.pk,
        data={"url": "https://hooks.example.com/in", "events": ["*"]},
    )
    # The worker's two readers of the history start here: what came before is not this test's.
    outbox.fan_out()
    compose.compose()
    session = factories.live(event=event, capacity=150)
    return make_caller(organisation, scopes=SCOPES), event, session


def agenda_version(event) -> int:
    return AgendaVersion.objects.filter(event=event).values_list("version", flat=True).first() or 0


def effects(before_change: int) -> tuple[list[str], list[str]]:
    """The history actions written since ``before_change``, and the deliveries they made once
    the worker fanned them out (it composes the messages they call for at the same time)."""
    actions = list(
        SessionChange.objects.filter(pk__gt=before_change)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    outbox.fan_out()
    compose.compose()
    delivered = list(
        WebhookDelivery.objects.filter(change_id__gt=before_change)
        .order_by("change_id")
        .values_list("event_type", flat=True)
    )
    return actions, delivered


def last_change() -> int:
    return SessionChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_registrant_create_with_its_welcome_and_its_included_seat(world):
    api, event, _session = world
    included = factories.live(
        event=event, start="09:00", end="09:30", selection_control=SelectionControl.INCLUDED
    )
    before, version = last_change(), agenda_version(event)

    response = api.post(
        "/api/v1/registrants?notify=1",
        {"event_id": event.pk, "first_name": "Ada", "email": "ada@example.org"},
    )

    assert response.status_code == 201, response.content
    registrant = Registrant.objects.get(email="ada@example.org")
    assert effects(before) == (["selection.created"], ["selection.created"])
    assert registrant.selections.get().session_id == included.pk
    assert agenda_version(event) > version
    assert list(Message.objects.filter(registrant=registrant).values_list("kind", flat=True)) == [
        NoticeKind.REGISTRANT_WELCOME
    ]


def test_choosing_and_giving_up_a_seat_through_the_api(world):
    api, event, session = world
    person = factories.registrant(event=event)
    url = f"/api/v1/registrants/{person.pk}/sessions"

    before, version = last_change(), agenda_version(event)
    assert api.post(url, {"session_id": session.pk}).status_code == 201
    assert effects(before) == (["selection.created"], ["selection.created"])
    assert agenda_version(event) > version  # the seats left, on the agenda
    session.refresh_from_db()
    assert session.seats_taken == 1

    before, version = last_change(), agenda_version(event)
    assert api.delete(f"{url}/{session.pk}").status_code == 204
    assert effects(before) == (["selection.deleted"], ["selection.deleted"])
    assert agenda_version(event) > version
    session.refresh_from_db()
    assert session.seats_taken == 0


def test_a_seat_freed_goes_to_the_first_waiting_with_their_message(world):
    api, event, session = world
    session.capacity = 1
    session.save(update_fields=["capacity"])
    holder, waiting = factories.registrant(event=event), factories.registrant(event=event)
    assert api.post(f"/api/v1/registrants/{holder.pk}/sessions", {"session_id": session.pk})
    waited = api.post(
        f"/api/v1/registrants/{waiting.pk}/sessions", {"session_id": session.pk, "waitlist": True}
    )
    assert waited.status_code == 201, waited.content

    before = last_change()
    assert api.delete(f"/api/v1/registrants/{holder.pk}/sessions/{session.pk}").status_code == 204

    assert effects(before) == (
        ["selection.deleted", "selection.promoted"],
        ["selection.deleted", "selection.promoted"],
    )
    assert Message.objects.filter(registrant=waiting, kind=NoticeKind.REGISTRANT_SEATED).exists()


def test_choosing_and_giving_up_on_the_registrants_page(world, client):
    _api, event, session = world
    person = factories.registrant(event=event)
    path = person.get_selection_path()

    before, version = last_change(), agenda_version(event)
    chose = client.post(path, {"shown": [session.pk], "session": [session.pk]})
    assert chose.status_code == 302
    assert effects(before) == (["selection.created"], ["selection.created"])
    assert agenda_version(event) > version

    before, version = last_change(), agenda_version(event)
    gave = client.post(path, {"shown": [session.pk]})
    assert gave.status_code == 302
    assert effects(before) == (["selection.deleted"], ["selection.deleted"])
    assert agenda_version(event) > version
