"""At 390 px: the demo player redeems a gift card and sees its code; the demo manager
redeems for the company, and the company's history names them."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in


def test_the_demo_player_redeems_a_gift_card_and_sees_its_code(live_server: str,
                                                               phone: Page) -> None:
    errors: list[str] = []
    phone.on("console", lambda message: errors.append(message.text)
             if message.type == "error" else None)
    sign_in(phone, live_server, "player@example.com")
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Rewards").click()
    expect(phone.get_by_role("heading", name="Rewards")).to_be_visible()
    phone.get_by_role("link", name="Coffee shop card 10 EUR").click()
    phone.get_by_role("link", name="Redeem").click()
    expect(phone.get_by_role("heading", name=re.compile("Redeem Coffee shop card"))).to_be_visible()
    phone.get_by_role("button", name=re.compile("Yes, redeem")).click()
    expect(phone.get_by_role("status")).to_contain_text("1,000 points were spent")
    phone.get_by_test_id("reveal").click()
    code = phone.get_by_test_id("code")
    expect(code).to_contain_text(re.compile(r"DEMO\d+-\d{3}-[0-9A-F]{6}"))
    expect(code).to_contain_text("10 EUR")
    phone.goto(f"{live_server}/rewards/mine")
    expect(phone.get_by_role("link", name="Coffee shop card 10 EUR").first).to_be_visible()
    assert errors == []


def test_the_demo_manager_redeems_for_the_company(live_server: str, phone: Page) -> None:
    sign_in(phone, live_server, "manager@example.com")
    phone.get_by_role("link", name="Company rewards").click()
    expect(phone.get_by_text(re.compile("Your company has [\\d,]+ points to spend"))
           ).to_be_visible()
    phone.get_by_role("link", name="Training voucher for your team").click()
    phone.get_by_role("link", name="Redeem").click()
    phone.get_by_role("button", name=re.compile("Yes, redeem")).click()
    expect(phone.get_by_role("status")).to_contain_text(
        "8,000 of the company's points were spent")
    phone.goto(f"{live_server}/rewards/company")
    history = phone.locator("section", has_text="Who redeemed what")
    expect(history).to_contain_text("Training voucher for your team")
    expect(history).to_contain_text("Morgan Manager")
