"""A list longer than a download writes, exported in the background, in the browser."""

import csv
import io

import pytest
from playwright.sync_api import expect

from sessions_app.admin import tables
from sessions_app.models import ExportJob
from tests.browser.conftest import login
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.browser


def test_organiser_prepares_a_long_list_in_the_background_and_downloads_it(
    new_page, world, monkeypatch
):
    monkeypatch.setitem(tables.EXPORT_MAX_ROWS, "csv", 2)  # the world's list holds 3
    page = new_page()
    login(page, "organiser")
    page.goto("/admin/sessions_app/session/?q=o&o=-1")  # all three, by name descending
    page.click("text=Export CSV")

    expect(page.locator("#export-offer")).to_contain_text("The list holds 3 sessions")
    page.click("text=Prepare the CSV file")
    expect(page.locator("#export-progress")).to_contain_text("waiting for the background worker")

    run_due_tasks()  # the worker

    download_link = page.locator("#export-ready a")
    expect(download_link).to_be_visible(timeout=10_000)  # the page updates itself
    with page.expect_download() as download:
        download_link.click()
    content = download.value.path().read_bytes().decode("utf-8-sig")
    names = [row["name"] for row in csv.DictReader(io.StringIO(content))]
    assert names == ["Workshop", "Proposal on async", "Opening keynote"]  # the list's order
    job = ExportJob.objects.get()
    assert (job.state, job.created_by.username) == ("done", "organiser")
    assert download.value.suggested_filename == job.filename
