"""Registrants' personal data in the messages: only the roles that may see registrants read
it, and their page link is never stored (review #45, findings 1, 2 and 9)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from sessions_app import services
from sessions_app.enums import MemberRole, MessageState, NoticeKind
from sessions_app.models import Event, Membership, Message, MessageTemplate, Registrant
from sessions_app.notices import compose, texts
from tests import factories
from tests.admin.conftest import staff
from tests.api.conftest import make_caller  # noqa: F401  (the fixture)
from tests.tasks import run_due_tasks

OUTBOX = "/admin/sessions_app/message/"


@pytest.fixture
def people(db):
    organisation = factories.organisation()
    event = factories.event(organisation=organisation)
    Event.objects.filter(pk=event.pk).update(hold_messages=True)
    grace = factories.registrant(event=event, first_name="Grace", email="grace@example.com")
    compose.welcome(grace)
    return {
        "event": event,
        "grace": grace,
        "welcome": Message.objects.get(registrant=grace),
        "organiser": staff(organisation, MemberRole.ORGANISER),
        "reviewer": staff(organisation, MemberRole.REVIEWER),
    }


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_welcome_stores_no_page_link_and_sends_the_current_one(people, smtp):
    grace, welcome = people["grace"], people["welcome"]
    old_link = grace.selection_url()
    assert old_link not in welcome.body and old_link not in str(welcome.context)
    assert texts.PAGE_LINK in welcome.body

    services.registrant_reset_link(registrant_id=grace.pk)
    grace = Registrant.objects.get(pk=grace.pk)
    logged_in(people["organiser"]).post(
        OUTBOX, {"action": "send_selected", "_selected_action": [welcome.pk], "index": "0"}
    )
    run_due_tasks()

    [sent] = smtp.messages
    text = smtp.text(sent)
    assert grace.selection_url() in text and old_link not in text
    assert texts.PAGE_LINK not in text
    assert Message.objects.get(pk=welcome.pk).body == welcome.body  # still no link


def test_a_reviewer_reads_no_message_to_a_registrant(people):
    reviewer = logged_in(people["reviewer"])
    listing = reviewer.get(OUTBOX)
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == []
    assert "grace@example.com" not in listing.content.decode()
    page = reviewer.get(f"{OUTBOX}{people['welcome'].pk}/change/")
    assert page.status_code == 302 and page["Location"] == "/admin/"


def test_a_reviewer_cannot_send_or_discard_a_held_message(people):
    speaker_message = factories.message(event=people["event"])
    reviewer = logged_in(people["reviewer"])
    assert reviewer.get(OUTBOX).context["cl"].result_count == 1  # they read it
    for action in ("send_selected", "discard_selected", "retry_selected"):
        reviewer.post(
            OUTBOX, {"action": action, "_selected_action": [speaker_message.pk], "index": "0"}
        )
    after = Message.objects.get(pk=speaker_message.pk)
    assert (after.state, after.log) == (MessageState.HELD, [])


def test_a_discard_and_a_release_name_who_did_it(people):
    organiser = people["organiser"]
    message = people["welcome"]
    client = logged_in(organiser)
    client.post(OUTBOX, {"action": "send_selected", "_selected_action": [message.pk], "index": 0})
    client.post(
        OUTBOX, {"action": "discard_selected", "_selected_action": [message.pk], "index": 0}
    )
    log = Message.objects.get(pk=message.pk).log
    assert [(e["outcome"], e["detail"]) for e in log] == [
        ("released", f"by {organiser.username}"),
        ("discarded", f"by {organiser.username}"),
    ]


def test_the_preview_of_a_registrant_message_shows_nobody_real(people):
    template = MessageTemplate.objects.create(
        event=people["event"],
        kind=NoticeKind.REGISTRANT_WELCOME,
        subject="Welcome, {name}",
        body="Your page: {link}",
    )
    for role in ("organiser", "reviewer"):
        page = logged_in(people[role]).get(
            f"/admin/sessions_app/messagetemplate/{template.pk}/change/"
        )
        body = page.content.decode()
        assert page.status_code == 200
        assert "Welcome, Alex Example" in body
        assert "Grace" not in body and "grace@example.com" not in body
        assert people["grace"].selection_url() not in body


def test_a_user_with_two_roles_acts_on_registrants_only_where_they_organise(people):
    """Organiser of one organisation, reviewer of the other: the other's registrants are not
    in their list, and their links cannot be reset or their welcome sent from it."""
    elsewhere = factories.organisation(name="Elsewhere", slug="elsewhere")
    mixed = staff(elsewhere, MemberRole.ORGANISER, username="mixed")
    mixed.groups.add(Group.objects.get(name="Reviewers"))
    Membership.objects.create(
        organisation=people["event"].organisation, user=mixed, role=MemberRole.REVIEWER
    )
    grace = people["grace"]
    link = grace.selection_url()
    client = logged_in(mixed)
    listing = client.get("/admin/sessions_app/registrant/")
    assert listing.status_code == 200 and listing.context["cl"].result_count == 0
    for action in ("reset_page_links", "send_welcome"):
        client.post(
            "/admin/sessions_app/registrant/",
            {"action": action, "_selected_action": [grace.pk], "index": "0"},
        )
    assert Registrant.objects.get(pk=grace.pk).selection_url() == link
    assert Message.objects.filter(registrant=grace).count() == 1
    assert client.get(f"/admin/sessions_app/registrant/{grace.pk}/change/").status_code == 302


@pytest.mark.parametrize(
    "name", ["Grace\nBcc: all@example.com", "Gr\race", "Gr\u2028ace", "Gr\tace"]
)
def test_a_name_with_a_line_break_is_refused_by_every_door(people, make_caller, name):  # noqa: F811
    event = people["event"]
    api = make_caller(event.organisation, scopes=["registrants:write"])
    response = api.post(
        "/api/v1/registrants",
        {"event_id": event.pk, "first_name": name, "email": "new@example.com"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "first_name"
    page = logged_in(people["organiser"]).post(
        f"/admin/sessions_app/registrant/{people['grace'].pk}/change/",
        {"first_name": name, "last_name": "", "email": "grace@example.com"},
    )
    assert page.status_code == 200
    assert "control characters" in page.content.decode()
    assert Registrant.objects.filter(first_name=name).count() == 0


def test_a_name_stored_with_a_line_break_before_the_rule_still_gets_its_message(people, smtp):
    grace, welcome = people["grace"], people["welcome"]
    Registrant.objects.filter(pk=grace.pk).update(first_name="Grace\nHopper")
    Message.objects.filter(pk=welcome.pk).update(to_name="Grace\nHopper", state=MessageState.QUEUED)
    from sessions_app.notices.delivery import send_now

    assert send_now(welcome.pk) == MessageState.SENT
    [sent] = smtp.messages
    assert "Grace Hopper" in sent["To"]
