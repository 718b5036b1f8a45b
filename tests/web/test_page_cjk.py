"""Korean and Japanese names on a summit page from a real server render as glyphs, not tofu."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.servers import post_event

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
KOREAN = "이재명"
JAPANESE = "石破 茂 (いしば しげる)"
TITLE = "한일 정상회담 · 日韓首脳会談"


def cjk(text: str) -> list[str]:
    """The Hangul, kana and CJK ideographs of a text."""
    return [c for c in text if "\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff"] + [
        c for c in text if "\uac00" <= c <= "\ud7a3"
    ]


@pytest.fixture
def server(tmp_path: Path, helpers: Any) -> Iterator[str]:
    """A gunicorn server over a fresh SQLite store holding one summit with CJK names."""
    from events import Token, open_store, tokens_of
    from web.auth import token_hash

    db = str(tmp_path / "cjk.sqlite3")
    store = open_store(db)
    tokens_of(store).add(Token("desk", token_hash(helpers.WRITE_TOKEN), True, "2025-08-01T00:00Z"))
    store.close()
    participants = [
        {"name": KOREAN, "country": "KR", "role": "President"},
        {"name": JAPANESE, "country": "JP", "role": "Prime Minister"},
    ]
    data = helpers.announce_data(title=TITLE, participants=participants)
    gunicorn = [sys.executable, "-m", "gunicorn", "-w", "1", "web:create_app()"]
    with helpers.running(lambda port: [*gunicorn, "-b", f"127.0.0.1:{port}"], db) as running:
        body = {"type": "SummitAnnounced", "data": data}
        assert post_event(running.url, "kr-jp-2030-tokyo", body, helpers.WRITE_TOKEN) == 201
        yield running.url


# Draw each character, and one private-use code point no font has (the tofu box), on a
# canvas in the element's own computed font; return each drawing as a data URL.
DRAWINGS = """([selector, chars]) => {
  const font = getComputedStyle(document.querySelector(selector)).font;
  return [...chars, "\\ue000"].map((c) => {
    const canvas = document.createElement("canvas");
    canvas.width = 64; canvas.height = 64;
    const ctx = canvas.getContext("2d");
    ctx.font = font.replace(/\\d+(\\.\\d+)?px/, "40px");
    ctx.fillText(c, 4, 48);
    return canvas.toDataURL();
  });
}"""


def test_korean_and_japanese_names_render(server: str, tmp_path: Path) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is required for the browser test"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(server + "/summits/kr-jp-2030-tokyo")
            names = page.locator(".facts li")
            assert names.nth(0).inner_text().startswith(KOREAN)
            assert names.nth(1).inner_text().startswith(JAPANESE)
            shot = tmp_path / "cjk-summit.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 0

            # Which fonts Chromium laid the names' glyphs out with (DevTools protocol).
            cdp = page.context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument")["root"]["nodeId"]
            for selector, text in (
                ("h1", TITLE),
                (".facts li", KOREAN),
                (".facts li + li", JAPANESE),
            ):
                node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})
                fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
                used = {f["familyName"]: f["glyphCount"] for f in fonts["fonts"]}
                cjk_glyphs = sum(n for family, n in used.items() if "CJK" in family)
                assert cjk_glyphs >= len(cjk(text)), f"{selector}: glyphs laid out in {used}"

                # And the glyphs are real: every character draws differently, none as tofu.
                chars = sorted(set(cjk(text)))
                *drawn, tofu = page.evaluate(DRAWINGS, [selector, chars])
                assert len(set(drawn)) == len(chars), f"{selector}: characters drawn alike"
                assert tofu not in drawn, f"{selector}: characters drawn as the missing-glyph box"
        finally:
            browser.close()
