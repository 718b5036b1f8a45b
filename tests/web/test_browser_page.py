"""Headless Chromium on a real server: filter, follow a summit, subscribe links, clean console."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.servers import post_event

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ABOUT = "Day one: talks in the chancellery.\nDay two: a dinner."


@pytest.fixture
def server(tmp_path: Path, helpers: Any) -> Iterator[str]:
    from events import Token, open_store, tokens_of
    from web.auth import token_hash

    db = str(tmp_path / "browser.sqlite3")
    store = open_store(db)
    tokens_of(store).add(
        Token("desk", token_hash(helpers.WRITE_TOKEN), True, "2025-08-01T09:00:00Z")
    )
    store.close()
    gunicorn = [sys.executable, "-m", "gunicorn", "-w", "1", "web:create_app()"]
    with helpers.running(lambda port: [*gunicorn, "-b", f"127.0.0.1:{port}"], db) as running:
        url = running.url
        for summit_id, data in (
            ("kr-jp-2030-tokyo", helpers.announce_data(schedule={"start": "2030-08-23T16:55"})),
            (
                "fr-de-2030-paris",
                {**helpers.PARIS, "schedule": {"start": "2030-09-10"}, "description": ABOUT},
            ),
        ):
            body = {"type": "SummitAnnounced", "data": data}
            assert post_event(url, summit_id, body, helpers.WRITE_TOKEN) == 201
        yield url


def test_the_page_in_a_real_browser(server: str) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is required for the browser test"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "response",
                lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.goto(server + "/")
            assert page.locator("h1").inner_text() == "Diplomatic summits"
            assert page.get_by_text("Korea-Japan summit").count() == 1
            zones = page.locator("#tz optgroup")
            assert zones.count() > 5 and page.locator('#tz option[value="US/Central"]').count() == 0

            page.select_option("#country", "FR")
            page.get_by_role("button", name="Show").click()
            page.wait_for_url("**/?country=FR**")
            assert page.get_by_text("France-Germany consultations").count() == 1
            assert page.get_by_text("Korea-Japan summit").count() == 0
            box = page.locator("#subscribe-filtered")
            host = server.removeprefix("http://")
            webcal = box.locator('a[data-kind="webcal"]').get_attribute("href")
            assert webcal == f"webcal://{host}/calendar.ics?country=FR"
            google = box.locator('a[data-kind="google"]').get_attribute("href") or ""
            assert google.startswith("https://calendar.google.com/calendar/render?cid=webcal://")
            outlook = box.locator('a[data-kind="outlook"]').get_attribute("href") or ""
            assert outlook.startswith(
                "https://outlook.live.com/calendar/0/addfromweb?url=http%3A%2F%2F"
            )
            copied = box.locator('input[data-kind="https"]').input_value()
            assert copied == f"{server}/calendar.ics?country=FR"
            page.screenshot(path=str(ARTIFACTS / "web-index.png"), full_page=True)

            page.get_by_role("link", name="France-Germany consultations").click()
            page.wait_for_url("**/summits/fr-de-2030-paris")
            assert page.locator("#status").text_content() == "confirmed"
            assert page.locator(".timeline li").count() == 1
            history = page.locator(".timeline").inner_text()
            assert "Announced" in history and "SummitAnnounced" not in history
            assert page.locator(".facts dd.text").inner_text() == ABOUT  # line break kept
            lines = page.locator(".facts dd.text").evaluate(
                "e => Math.round(e.getBoundingClientRect().height"
                " / parseFloat(getComputedStyle(e).lineHeight))"
            )
            assert lines == 2
            page.screenshot(path=str(ARTIFACTS / "web-summit.png"), full_page=True)

            ics = page.request.get(server + copied.removeprefix(server))
            assert ics.status == 200 and b"fr-de-2030-paris@" in ics.body()
        finally:
            browser.close()
    assert problems == []
