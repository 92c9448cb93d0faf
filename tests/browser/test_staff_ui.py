"""Organisers and reviewers doing their work in the browser."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from sessions_app.enums import SessionStatus
from sessions_app.models import Session, SessionChange
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def session_url(session) -> str:
    return f"/admin/sessions_app/session/{session.pk}/change/"


def test_organiser_edits_time_and_sees_it_saved_and_in_history(new_page, world):
    page = new_page()
    login(page, "organiser")
    page.click("text=All sessions")
    page.click("#result_list a:text-is('Opening keynote')")
    page.fill("#id_start_time", "10:15")
    page.fill("#id_end_time", "11:20")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")

    keynote = Session.objects.get(pk=world["keynote"].pk)
    assert (keynote.start_time, keynote.end_time, keynote.version) == (
        dt.time(10, 15),
        dt.time(11, 20),
        2,
    )
    assert list(SessionChange.objects.values_list("action", "actor_user__username")) == [
        ("session.update", "organiser")
    ]
    page.goto(session_url(keynote))
    entry = page.locator(".sm-history-entry").first
    expect(entry).to_contain_text("Updated")
    expect(entry).to_contain_text("by organiser")
    expect(entry.locator("tr", has_text="Start time")).to_contain_text("10:00")
    expect(entry.locator("tr", has_text="Start time")).to_contain_text("10:15")


def test_organiser_room_clash_shows_error_on_location_with_link(new_page, world):
    page = new_page()
    login(page, "organiser")
    page.goto(session_url(world["workshop"]))
    page.select_option("#id_location", label="Main Hall")
    page.fill("#id_start_time", "10:30")
    page.fill("#id_end_time", "11:30")
    page.click("input[name=_save]")

    error = page.locator(".field-location .errorlist")
    expect(error).to_contain_text("already booked at this time by")
    link = error.locator("a", has_text="Opening keynote")
    expect(link).to_have_attribute("href", session_url(world["keynote"]))
    workshop = Session.objects.get(pk=world["workshop"].pk)
    assert (workshop.location_id, workshop.start_time) == (world["lab"].pk, dt.time(14, 0))
    assert not SessionChange.objects.exists()
    link.click()
    expect(page.locator("#content h2").first).to_have_text("Opening keynote")


def test_organiser_fills_custom_fields_of_each_type(new_page, world):
    fields = world["fields"]
    green = fields["dropdown"].choices.get(label="Green")
    page = new_page()
    login(page, "organiser")
    page.goto(session_url(world["proposal"]))

    def control(kind):
        return f"#id_cf_{fields[kind].pk}"

    expect(page.locator(control("date"))).to_have_attribute("type", "date")
    page.fill(control("text"), "Ada Lovelace")
    page.fill(control("textarea"), "Bring a laptop.")
    page.fill(control("number"), "120")
    page.fill(control("date"), "2030-05-01")
    page.fill(control("url"), "https://example.com/slides")
    page.check(control("checkbox"))
    page.select_option(control("dropdown"), label="Green")
    page.check(f"{control('multiselect')}_0")
    page.check(f"{control('multiselect')}_2")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_be_visible()

    red, _, blue = fields["multiselect"].choices.all()
    assert Session.objects.get(pk=world["proposal"].pk).custom_fields == {
        fields["text"].key: "Ada Lovelace",
        fields["textarea"].key: "Bring a laptop.",
        fields["number"].key: 120,
        fields["date"].key: "2030-05-01",
        fields["url"].key: "https://example.com/slides",
        fields["checkbox"].key: 1,
        fields["dropdown"].key: [{"id": green.pk}],
        fields["multiselect"].key: [{"id": red.pk}, {"id": blue.pk}],
    }


def test_reviewer_approves_publishes_unpublishes_and_sees_refusal(new_page, world):
    proposal = world["proposal"]
    page = new_page()
    login(page, "reviewer")
    page.click("text=Review queue")
    expect(page.locator("#result_list")).to_contain_text("Proposal on async")
    page.check(f"input.action-select[value='{proposal.pk}']")
    page.select_option("select[name=action]", "approve_selected")
    page.click("button[name=index]")
    expect(page.locator(".messagelist .success")).to_contain_text(
        "Approved 1 session: “Proposal on async”"
    )
    expect(page.locator("#result_list")).to_have_count(0)  # the queue is empty now

    page.goto(session_url(proposal))
    expect(page.locator(".sm-status-current .sm-badge")).to_have_text("Approved")
    page.fill("#id_status_note", "Ready for attendees")
    page.click("button.sm-move-live")
    expect(page.locator(".messagelist .success")).to_contain_text("from approved to live")
    expect(page.locator(".sm-status-current .sm-badge")).to_have_text("Live")
    expect(page.locator(".sm-history-entry").first).to_contain_text("Ready for attendees")

    page.click("button:text-is('Unpublish')")
    expect(page.locator(".sm-status-current .sm-badge")).to_have_text("Approved")
    assert Session.objects.get(pk=proposal.pk).session_status == SessionStatus.APPROVED
    assert list(
        SessionChange.objects.filter(session_id=proposal.pk)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["session.status.approved", "session.status.live", "session.status.approved"]

    # A move the table does not allow, from the list: refused, with the reason.
    page.goto("/admin/sessions_app/session/")
    page.check(f"input.action-select[value='{world['keynote'].pk}']")
    page.check(f"input.action-select[value='{proposal.pk}']")
    Session.objects.filter(pk=proposal.pk).update(session_status=SessionStatus.SUBMITTED)
    page.select_option("select[name=action]", "publish_selected")
    page.click("button[name=index]")
    expect(page.locator(".messagelist .error")).to_contain_text(
        "A submitted session cannot move to live. Allowed from submitted: approved, rejected, "
        "withdrawn."
    )
    expect(page.locator(".messagelist .success")).to_contain_text("Published 1 session")
    assert Session.objects.get(pk=proposal.pk).session_status == SessionStatus.SUBMITTED


def test_two_editors_second_stale_save_is_refused(new_page, world):
    first, second = new_page(), new_page()
    login(first, "organiser")
    login(second, "organiser")
    url = session_url(world["keynote"])
    first.goto(url)
    second.goto(url)

    first.fill("#id_name", "Keynote by the first editor")
    first.click("input[name=_save]")
    expect(first.locator(".messagelist .success")).to_be_visible()

    second.fill("#id_description", "The second editor's description")
    second.click("input[name=_save]")
    expect(second.locator(".errornote")).to_be_visible()
    expect(second.locator(".errorlist.nonfield")).to_contain_text("Reload the page")

    keynote = Session.objects.get(pk=world["keynote"].pk)
    assert (keynote.name, keynote.description, keynote.version) == (
        "Keynote by the first editor",
        "",
        2,
    )
    assert SessionChange.objects.count() == 1
    second.click(".errorlist.nonfield a:text('Reload the page')")
    expect(second.locator("#id_name")).to_have_value("Keynote by the first editor")


def test_other_organisation_sees_none_of_it(new_page, world):
    page = new_page()
    login(page, "globex-organiser")
    page.goto("/admin/sessions_app/session/")
    body = page.locator("#content")
    expect(body).to_contain_text("Globex secret plan")
    for name in ("Opening keynote", "Proposal on async", "Acme Summit", "Main Hall"):
        expect(body).not_to_contain_text(name)

    page.goto(session_url(world["keynote"]))  # typing the URL of Acme's session
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator(".messagelist")).to_contain_text("doesn\u2019t exist")
    expect(page.locator("body")).not_to_contain_text("Opening keynote")

    response = page.goto(f"/admin/sessions_app/session/schedule/?event={world['event'].pk}")
    assert response.status == 404
    page.goto("/admin/sessions_app/session/schedule/")
    expect(page.locator("#content")).not_to_contain_text("Acme")


def test_schedule_grid_flags_clash_and_links_blocks(new_page, world):
    from tests import factories

    clash = factories.scheduled(
        event=world["event"],
        name="Clashing idea",
        start="10:30",
        end="11:30",
        location=world["hall"],
    )
    page = new_page()
    login(page, "organiser")
    page.click("text=Schedule grid")
    expect(page.locator(".sm-loc")).to_have_text(["Lab", "Main Hall"])
    block = page.locator("a.sm-block", has_text="Clashing idea")
    expect(block).to_have_class(re.compile("sm-flagged"))
    expect(page.locator(".sm-clash-summary")).to_contain_text("Opening keynote")
    keynote_block = page.locator("a.sm-block", has_text="Opening keynote")
    expect(keynote_block).to_contain_text("10:00\u201311:00")
    block.click()
    expect(page).to_have_url(re.compile(session_url(clash) + "$"))


def test_session_list_fits_phone_width(new_page, world):
    page = new_page(viewport={"width": 390, "height": 844})
    login(page, "organiser")
    page.goto("/admin/sessions_app/session/")
    expect(page.locator("#result_list")).to_contain_text("Opening keynote")
    # Nothing pushes the page itself sideways; the table scrolls in its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
