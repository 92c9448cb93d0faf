"""A registrant picks sessions on their own page; an organiser frees a seat in the admin."""

import pytest
from playwright.sync_api import expect

from sessions_app.enums import MemberRole
from sessions_app.models import Selection, Session
from tests import factories
from tests.browser.conftest import login, member, role_groups

pytestmark = pytest.mark.browser


@pytest.fixture
def attendance(transactional_db):
    role_groups()
    organisation = factories.organisation(name="Acme", slug="acme")
    event = factories.event(organisation=organisation, name="Acme Summit")
    ada = factories.registrant(event=event, first_name="Ada", last_name="Lovelace")
    bob = factories.registrant(event=event, first_name="Bob", last_name="Builder")
    sessions = {
        "keynote": factories.live(
            event=event, name="Keynote", start="09:00", end="10:00", selection_control="included"
        ),
        "talk": factories.live(event=event, name="Talk A", start="10:00", end="11:00", capacity=5),
        "guarded": factories.live(
            event=event,
            name="Guarded talk",
            start="10:30",
            end="11:30",
            prevent_session_conflicts=True,
        ),
        "full": factories.live(
            event=event,
            name="Full workshop",
            start="13:00",
            end="14:00",
            capacity=1,
            sold_out_message="Full: join the waitlist",
        ),
        "locked": factories.live(
            event=event, name="Locked talk", start="15:00", end="16:00", locked_when_saved=True
        ),
    }
    Selection.objects.create(registrant=ada, session=sessions["keynote"], state="selected")
    Selection.objects.create(registrant=bob, session=sessions["full"], state="selected")
    Session.objects.filter(pk=sessions["keynote"].pk).update(seats_taken=1)
    Session.objects.filter(pk=sessions["full"].pk).update(seats_taken=1)
    return {
        "ada": ada,
        "bob": bob,
        "sessions": sessions,
        "organiser": member(organisation, "organiser", MemberRole.ORGANISER),
    }


def row(page, session):
    return page.locator(f'li[data-session-id="{session.pk}"]')


def box(page, session):
    return row(page, session).locator("input[type=checkbox]")


def test_registrant_picks_waits_and_gets_the_freed_seat(new_page, attendance):
    ada, s = attendance["ada"], attendance["sessions"]
    page = new_page()
    page.goto(ada.get_selection_path())

    # Included: ticked and fixed. A full session offers its waitlist.
    expect(box(page, s["keynote"])).to_be_checked()
    expect(box(page, s["keynote"])).to_be_disabled()
    expect(row(page, s["keynote"])).to_contain_text("Included for everyone.")
    expect(row(page, s["full"])).to_contain_text("Full: join the waitlist")
    expect(box(page, s["full"])).to_be_disabled()

    box(page, s["talk"]).check()
    box(page, s["locked"]).check()
    page.get_by_role("button", name="Save my sessions").click()

    expect(row(page, s["talk"])).to_contain_text("You have a seat.")
    expect(row(page, s["locked"])).to_contain_text("Locked once saved.")
    expect(box(page, s["locked"])).to_be_disabled()
    expect(box(page, s["locked"])).to_be_checked()
    # The guarded talk overlaps Talk A, which Ada now has: explained, and fixed.
    expect(row(page, s["guarded"])).to_contain_text("Overlaps with “Talk A”, which you have")
    expect(box(page, s["guarded"])).to_be_disabled()
    assert set(ada.selections.values_list("session_id", flat=True)) == {
        s["keynote"].pk,
        s["talk"].pk,
        s["locked"].pk,
    }

    row(page, s["full"]).get_by_role("button", name="Join the waitlist").click()
    expect(row(page, s["full"])).to_contain_text("You are number 1 on the waitlist")
    assert Selection.objects.get(registrant=ada, session=s["full"]).state == "waitlisted"

    # The organiser frees Bob's seat in the admin; Ada, first on the waitlist, takes it.
    admin = new_page()
    login(admin, "organiser")
    admin.goto(f"/admin/sessions_app/session/{s['full'].pk}/attendees/")
    expect(admin.locator("#waiting")).to_contain_text("Ada Lovelace")
    admin.locator("#seated").get_by_role("button", name="Remove").click()
    expect(admin.locator("#seated")).to_contain_text("Ada Lovelace")
    expect(admin.locator("#waiting")).to_contain_text("Nobody waiting.")

    page.reload()
    expect(box(page, s["full"])).to_be_checked()
    assert Selection.objects.get(registrant=ada, session=s["full"]).state == "selected"
    assert not Selection.objects.filter(registrant=attendance["bob"]).exists()


def test_unticking_a_saved_locked_session_is_not_possible(new_page, attendance):
    ada, s = attendance["ada"], attendance["sessions"]
    Selection.objects.create(registrant=ada, session=s["locked"], state="selected")
    page = new_page()
    page.goto(ada.get_selection_path())

    expect(box(page, s["locked"])).to_be_disabled()
    # Even a forged form cannot: enable the box in the page, untick it and save.
    page.evaluate(
        "id => { const b = document.querySelector("
        "`li[data-session-id='${id}'] input[type=checkbox]`);"
        " b.disabled = false; b.checked = false;"
        " const h = document.createElement('input'); h.type = 'hidden'; h.name = 'shown';"
        " h.value = id; b.form.appendChild(h); }",
        s["locked"].pk,
    )
    page.get_by_role("button", name="Save my sessions").click()

    expect(row(page, s["locked"])).to_contain_text("locked once saved and cannot be given up")
    assert Selection.objects.filter(registrant=ada, session=s["locked"]).exists()
