"""A reviewer of the demo scores three proposals with the keyboard alone, in Chromium; the
queue and the form have no serious accessibility finding."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sessions_app.models import Review
from tests.browser.conftest import findings, role_groups

pytestmark = [pytest.mark.browser, pytest.mark.sqlite]


@pytest.fixture
def demo(transactional_db):
    role_groups()
    call_command("seed_demo", stdout=io.StringIO())


def test_a_reviewer_scores_three_proposals_with_the_keyboard(new_page, demo):
    page = new_page()
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")  # the skip link, then the username
    page.locator("#id_login").focus()
    page.keyboard.type("reviewer")
    page.keyboard.press("Tab")
    page.keyboard.type("reviewer-demo-pass")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")
    page.goto("/admin/sessions_app/review/")
    assert findings(page) == []
    progress = page.locator("label[for=sm-my-progress]")
    before = int(progress.inner_text().split()[0])
    given = Review.objects.filter(reviewer__username="reviewer").count()
    assert before == given

    page.get_by_role("link", name="Review the next one").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/sessions_app/review/*/")
    assert findings(page) == []
    for n in range(3):
        title = page.locator("#sm-proposal").inner_text()
        page.locator(".sm-review-form input[type=radio]").first.focus()
        page.keyboard.press("Space")  # Relevance 1
        page.keyboard.press("ArrowRight")  # 2
        page.keyboard.press("ArrowRight")  # 3
        page.keyboard.press("Tab")  # Clarity
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")  # 2
        page.keyboard.press("Tab")  # Fits the audience: yes
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        page.keyboard.type(f"Keyboard review {n}.")
        page.keyboard.press("Tab")  # the comment for the speakers: left empty
        page.keyboard.press("Tab")  # Save and next
        page.keyboard.press("Enter")
        expect(page.locator(".messagelist")).to_contain_text(f"Saved your review of “{title}”")
        review = Review.objects.get(reviewer__username="reviewer", comment=f"Keyboard review {n}.")
        assert sorted(review.scores.values()) == [1, 2, 3]

    page.goto("/admin/sessions_app/review/")
    expect(page.locator("label[for=sm-my-progress]")).to_contain_text(f"{before + 3} of ")
