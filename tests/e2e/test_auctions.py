"""Two demo players bid against each other on phones: the outbid one sees the notice and
gets the points back without reloading (the live panel polls)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PHONE, sign_in

OUTBID = re.compile(r"You were outbid: your ([\d,]+) points are available again\.")


def points(page: Page) -> int:
    return int(page.get_by_test_id("available").inner_text().replace(",", ""))


def open_lot(page: Page, base: str) -> None:
    page.goto(f"{base}/auctions")
    page.get_by_role("link", name="A day with the AquaFlow engineers").click()
    expect(page.get_by_test_id("live")).to_be_visible()


def bid(page: Page, amount: int) -> None:
    page.fill("#amount", str(amount))
    page.get_by_role("button", name="Bid", exact=True).click()
    expect(page.get_by_text(f"Your bid of {amount:,} points is in.")).to_be_visible()


def test_two_players_bid_and_the_outbid_one_sees_it_without_reloading(
        live_server: str, browser: Browser) -> None:
    errors: list[str] = []
    pages = []
    for email in ("ivan@example.com", "player@example.com"):
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        sign_in(page, live_server, email)
        open_lot(page, live_server)
        pages.append(page)
    ivan, pat = pages
    try:
        # The demo lot opens with Ivan's bid of 500 points.
        expect(ivan.get_by_test_id("position")).to_have_text("You lead with 500 points.")
        ivan_before, pat_before = points(ivan), points(pat)
        navigations = []
        ivan.on("framenavigated", lambda frame: navigations.append(frame.url))

        bid(pat, 550)
        expect(pat.get_by_test_id("position")).to_have_text("You lead with 550 points.")
        assert points(pat) == pat_before - 550
        # Ivan's page was not touched: the live panel brings the news within seconds.
        expect(ivan.get_by_test_id("position")).to_have_text(OUTBID, timeout=15_000)
        expect(ivan.get_by_test_id("available")).to_have_text(f"{ivan_before + 500:,}")
        expect(ivan.get_by_test_id("high")).to_have_text("550")

        bid(ivan, 600)  # Ivan raises: Pat is outbid and gets the 550 back
        expect(pat.get_by_test_id("position")).to_have_text(OUTBID, timeout=15_000)
        expect(pat.get_by_test_id("available")).to_have_text(f"{pat_before:,}")
        assert navigations == []  # neither page was reloaded
        pat.goto(f"{live_server}/notifications")
        expect(pat.get_by_text("You were outbid on “A day with the AquaFlow engineers”"
                               )).to_be_visible()
    finally:
        for page in pages:
            page.context.close()
    assert errors == []
