"""The demo player gives points to a demo cause on a phone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in


def test_the_demo_player_donates_on_a_phone_and_sees_it_on_the_cause(live_server: str,
                                                                      phone: Page) -> None:
    errors: list[str] = []
    phone.on("console", lambda message: errors.append(message.text)
             if message.type == "error" else None)
    sign_in(phone, live_server, "player@example.com")
    phone.goto(f"{live_server}/charity")
    expect(phone.get_by_test_id("network-total")).to_have_text(re.compile(r"^[\d,]+$"))
    phone.get_by_role("link", name="Warm meals for seniors").click()
    phone.fill("#amount", "150")
    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Give 150 points to Warm meals for seniors?")
    phone.get_by_role("button", name="Yes, give 150 points").click()
    expect(phone.get_by_test_id("thanks")).to_be_visible()
    expect(phone.get_by_test_id("donations").locator("li").first).to_contain_text("150")
    expect(phone.get_by_text("You gave 150 points to this cause.")).to_be_visible()
    phone.goto(f"{live_server}/history?kind=donate")
    expect(phone.locator("ul.entries li").first).to_contain_text(
        "Donation: Warm meals for seniors")
    assert errors == []
