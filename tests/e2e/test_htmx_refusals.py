"""A form sent by HTMX that the server refuses with a 400 shows its errors: the site's
htmx-config swaps 400 and 422 answers (HTMX's default swaps none), so the server answers
a refusal with the same status with or without HTMX."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.main_pages import sign_in_as


def test_a_refused_upload_shows_its_error_in_place_on_a_phone(live_server: str,
                                                               phone: Page) -> None:
    sign_in_as(phone, live_server, "marketing@example.com")
    phone.goto(f"{live_server}/marketing/charity/new")
    phone.fill("#title", "Rivers without plastic")
    phone.fill("#goal", "5000")
    # What the browser cannot check: a file named .png that is no picture.
    phone.set_input_files("#picture", files={"name": "river.png", "mimeType": "image/png",
                                             "buffer": b"<svg onload='alert(1)'/>"})
    with phone.expect_response(lambda r: r.request.method == "POST") as sent:
        phone.get_by_role("button", name="Save the cause").click()
    assert sent.value.status == 400
    expect(phone.get_by_role("alert")).to_contain_text(
        "The picture must be a PNG, JPEG or WebP image.")
    expect(phone.locator("#title")).to_have_value("Rivers without plastic")
    assert phone.url.endswith("/marketing/charity/new")
