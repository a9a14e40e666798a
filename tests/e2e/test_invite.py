"""A manager invites a colleague on a phone and copies the link with one tap."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.e2e.main_pages import sign_in_as

SHOTS = Path("/tmp/shots/experience")  # noqa: S108  # the screenshots looked at by hand


def test_a_manager_copies_the_invite_link(live_server: str, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    try:
        sign_in_as(page, live_server, "manager@example.com")
        page.goto(f"{live_server}/team")
        page.fill("#email", "new.colleague@example.com")
        page.get_by_role("button", name="Create invite link").click()
        link = page.get_by_test_id("invite-link").inner_text().strip()
        assert link.startswith("http") and "/invite/" in link
        copy = page.get_by_role("button", name="Copy the link")
        expect(copy).to_be_visible()
        box = copy.bounding_box()
        assert box is not None and box["height"] >= 44
        copy.click()
        expect(page.locator("#invite-copied")).to_have_text("Copied: paste it into a message.")
        assert page.evaluate("navigator.clipboard.readText()") == link
        # Share shows where the browser has the Web Share API, and only there.
        share = page.get_by_role("button", name="Share the link")
        assert share.is_visible() == page.evaluate("typeof navigator.share === 'function'")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "team-invite-390-en.png"), full_page=True)
    finally:
        context.close()
