"""Screenshots of the staff UI for the README, taken with Playwright in Debian's Chromium.

Run against a server with the demo data (``make run`` in another terminal):

    .venv/bin/python scripts/screenshots.py [--base-url http://127.0.0.1:8000]

Writes docs/screenshots/session-list.png and docs/screenshots/schedule-grid.png
(and phone-width variants), logged in as the demo organiser.
"""

import argparse
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# (file name, path, viewport)
SHOTS = [
    ("session-list.png", "/admin/sessions_app/session/", {"width": 1280, "height": 800}),
    ("schedule-grid.png", "/admin/sessions_app/session/schedule/", {"width": 1280, "height": 1000}),
    ("session-list-phone.png", "/admin/sessions_app/session/", {"width": 390, "height": 844}),
    (
        "schedule-grid-phone.png",
        "/admin/sessions_app/session/schedule/",
        {"width": 390, "height": 844},
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="organiser")
    parser.add_argument("--password", default="organiser-demo-pass")
    options = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            headless=True,
            args=ARGS,
        )
        for name, path, viewport in SHOTS:
            context = browser.new_context(base_url=options.base_url, viewport=viewport)
            page = context.new_page()
            page.goto("/accounts/login/")
            page.fill("#id_login", options.username)
            page.fill("#id_password", options.password)
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/")
            page.goto(path)
            page.screenshot(path=str(OUT / name))
            print(OUT / name)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
