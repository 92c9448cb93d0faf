"""The browser tests' guard against server tracebacks (conftest ``no_server_tracebacks``)
catches one, so that a page that looks right cannot hide an error behind it."""

import pytest

# What the browser shows here does not depend on the database: the SQLite run (the shorter
# one) drives it (docs/contributors/tests.md).
pytestmark = [pytest.mark.browser, pytest.mark.sqlite]


@pytest.mark.urls("tests.urls_errors")
def test_a_traceback_behind_a_page_is_caught(new_page, no_server_tracebacks, transactional_db):
    page = new_page()
    response = page.goto("/test-only/boom/")
    assert response.status == 500
    caught = [record for record in no_server_tracebacks.records if record.exc_info]
    assert caught and "boom for the test" in str(caught[0].exc_info[1])
    no_server_tracebacks.records.clear()  # seen: this test is the one that wants it
