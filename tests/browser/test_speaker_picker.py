"""Picking a session's speakers in the admin: Django's select2 fed by the event's speakers."""

import pytest
from playwright.sync_api import expect

from sessions_app.models import Session, Speaker
from tests.browser.conftest import login

# What the browser shows here does not depend on the database: the SQLite run (the shorter
# one) drives it (docs/contributors/tests.md).
pytestmark = [pytest.mark.browser, pytest.mark.sqlite]


def pick(page, typed: str, label: str) -> None:
    page.click(".field-speakers .select2-selection")
    page.keyboard.type(typed)
    option = page.locator(".select2-results__option", has_text=label)
    expect(option).to_be_visible()
    option.click()


def test_organiser_picks_speakers_in_billing_order(new_page, world):
    ada = Speaker.objects.create(event=world["event"], first_name="Ada", last_name="Lovelace")
    grace = Speaker.objects.create(
        event=world["event"], first_name="Grace", last_name="Hopper", company="Navy"
    )
    Speaker.objects.create(event=world["globex_event"], first_name="Gregor", last_name="Samsa")
    page = new_page()
    login(page, "organiser")
    page.goto(f"/admin/sessions_app/session/{world['workshop'].pk}/change/")

    pick(page, "Gr", "Grace Hopper (Navy)")
    page.click(".field-speakers .select2-selection")
    page.keyboard.type("Gregor")  # another organisation's event: not offered
    expect(page.locator(".select2-results__option", has_text="No results found")).to_be_visible()
    expect(page.locator(".select2-results__option", has_text="Gregor")).to_have_count(0)
    page.keyboard.press("Escape")
    pick(page, "lov", "Ada Lovelace")
    page.click("input[name=_continue]")

    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    assert Session.objects.get(pk=world["workshop"].pk).speaker_ids == [grace.pk, ada.pk]
    chosen = page.locator(".field-speakers .select2-selection__choice")
    expect(chosen).to_have_count(2)
    expect(chosen.first).to_contain_text("Grace Hopper")
