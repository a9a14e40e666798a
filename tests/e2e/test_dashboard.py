"""The demo player signs in on a phone and sees their balance."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in


def test_the_demo_player_signs_in_on_a_phone_and_sees_the_balance(live_server: str,
                                                                   phone: Page) -> None:
    errors: list[str] = []
    phone.on("console", lambda message: errors.append(message.text)
             if message.type == "error" else None)
    sign_in(phone, live_server, "player@example.com")
    balance = phone.get_by_test_id("available")
    expect(balance).to_have_text(re.compile(r"^[\d,]+$"))
    assert int(balance.inner_text().replace(",", "")) > 0
    expect(phone.get_by_role("navigation", name="Main")).to_be_visible()
    # Nothing on the page breaks the Content-Security-Policy or fails to load.
    assert errors == []


def test_history_loads_older_entries_in_place(live_server: str, phone: Page) -> None:
    sign_in(phone, live_server, "player@example.com")
    phone.goto(f"{live_server}/history")
    expect(phone.locator("ul.entries li").first).to_be_visible()


def test_a_wrong_password_is_explained_on_the_page(live_server: str, phone: Page) -> None:
    phone.goto(f"{live_server}/login")
    phone.fill("#email", "player@example.com")
    phone.fill("#password", "not the password")
    phone.click("button[type=submit]")
    expect(phone.get_by_role("alert")).to_have_text("The e-mail or password is not right.")
