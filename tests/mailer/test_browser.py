"""The seed issues as a reader's browser shows them: headless Debian Chromium, at 375 px (a
phone) and 700 px (a mail client's reading pane). No horizontal scroll, no word broken
inside a table header, an alternative text on every image. Screenshots go to
var/newsletter-screenshots/<seed>-<width>.png for review."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.sending import public_render
from tests.mailer.seeds import NEWSLETTER_SEEDS

pytestmark = [pytest.mark.browser, pytest.mark.heavy]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = (375, 700)

# Every word of every table header on one line (a word broken across lines has two line
# boxes), and no header narrower than its text.
_BROKEN_HEADERS = """() => {
  const problems = [];
  for (const th of document.querySelectorAll('th')) {
    if (th.scrollWidth > th.clientWidth) problems.push(['overflow', th.textContent.trim()]);
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) problems.push(['broken', match[0]]);
      }
    }
  }
  return problems;
}"""


@pytest.fixture(scope="module")
async def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium) — browser test skipped")
    playwright_api = pytest.importorskip(
        "playwright.async_api", reason="playwright (python) not installed"
    )
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("seed", NEWSLETTER_SEEDS)
async def test_seed_issue_reads_well_at_phone_and_pane_widths(
    browser, archived, news_settings, repo_root, seed, width
):
    page = await browser.new_page(viewport={"width": width, "height": 900})
    try:
        # Nothing leaves the machine: the logo and every link stay unresolved.
        await page.route("**/*", lambda route: route.abort())
        await page.set_content(public_render(archived[seed], news_settings), wait_until="load")
        scroll = await page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll[0] <= scroll[1], f"horizontal scroll at {width} px: {scroll}"
        assert await page.evaluate("document.querySelectorAll('th').length") >= 3
        assert await page.evaluate(_BROKEN_HEADERS) == []
        missing_alt = await page.evaluate(
            "[...document.images].filter((i) => !(i.getAttribute('alt') || '').trim())"
            ".map((i) => i.src)"
        )
        assert missing_alt == []
        folder = repo_root / "var" / "newsletter-screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(folder / f"{seed}-{width}.png"), full_page=True)
    finally:
        await page.close()
