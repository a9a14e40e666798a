"""Marketing signs in and lands on the programme page: figures, charts drawn without
JavaScript, the companies table sorted and drilled down to an outlet's staff, and what the
network does not know yet; at 1280 and 390 px, in every language (screenshots kept)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from portal.settings import LANGUAGES

SHOTS = Path("/tmp/shots/analytics")  # noqa: S108 - where the session keeps its screenshots
SIZES: dict[str, ViewportSize] = {"1280": {"width": 1280, "height": 900},
                                  "390": {"width": 390, "height": 844}}


def _sign_in_as_marketing(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", "marketing@example.com")
    page.fill("#password", "portal-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/analytics")


def _choose_language(page: Page, language: str) -> None:
    page.locator("details.lang summary").click()
    page.locator(f"details.lang button[value={language}]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("size", SIZES)
def test_marketing_lands_on_the_programme_and_drills_down(live_server: str, browser: Browser,
                                                          size: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=SIZES[size], java_script_enabled=False)
    page = context.new_page()
    try:
        _sign_in_as_marketing(page, live_server)
        expect(page.locator("svg.columns").first).to_be_visible()
        expect(page.get_by_role("link", name="Pump Point")).to_be_visible()
        for language in (*[code for code in LANGUAGES if code != "en"], "en"):
            _choose_language(page, language)
            page.screenshot(path=SHOTS / f"programme-{language}-{size}.png", full_page=True)
        page.get_by_role("link", name="Points earned").click()
        expect(page.locator("th[aria-sort]")).to_contain_text("Points earned")
        page.get_by_role("link", name="Blue River Plumbing").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Blue River Plumbing")
        page.get_by_role("link", name="Blue River Central").click()
        expect(page.get_by_role("heading", name="Staff")).to_be_visible()
        page.screenshot(path=SHOTS / f"outlet-en-{size}.png", full_page=True)
        # Last month: this month may have no answers yet when the suite runs on the 1st.
        months = page.locator("#month option")
        last = months.nth(1).get_attribute("value") if months.count() > 1 else None
        page.goto(f"{live_server}/analytics/questions" + (f"?month={last}" if last else ""))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "What the network does not know yet")
        page.screenshot(path=SHOTS / f"questions-en-{size}.png", full_page=True)
        page.locator("table.bars a").first.click()
        expect(page.locator("ul.choices-shown li.right").first).to_be_visible()
        page.screenshot(path=SHOTS / f"question-en-{size}.png", full_page=True)
    finally:
        context.close()
