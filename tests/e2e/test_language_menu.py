"""The language menu: four languages in one 44 px control, the header on one line at
360 px in every language, and a choice that works without JavaScript."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from portal.i18n import LANGUAGE_NAMES
from tests.e2e.conftest import sign_in

# Screenshots for a person to look at, when asked for: PORTAL_SHOTS=/tmp/shots/languages
SHOTS = os.environ.get("PORTAL_SHOTS", "")
WIDTHS = (360, 390, 1280)


@pytest.fixture(params=[False, True], ids=["javascript", "no-javascript"])
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 740},
                                  java_script_enabled=not request.param)
    yield context.new_page()
    context.close()


def choose(page: Page, language: str) -> None:
    page.click("header .lang summary")
    page.click(f"header .lang button[value={language}]")
    page.wait_for_function(f"document.documentElement.lang === '{language}'")


def header_rows(page: Page) -> float:
    """How tall the header's first line is: one line of 44 px controls stays under 64."""
    return float(page.eval_on_selector("header.top .wrap", "e => e.getBoundingClientRect().height"))


def test_every_language_fits_the_header_of_a_360_px_phone(live_server: str, page: Page) -> None:
    sign_in(page, live_server, "player@example.com")
    for language in LANGUAGE_NAMES:
        choose(page, language)
        assert header_rows(page) < 64, f"the header wraps in {language}"
        box = page.locator("header .lang summary").bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44
        if SHOTS:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 740})
                page.screenshot(path=str(Path(SHOTS) / f"header-{language}-{width}.png"),
                                clip={"x": 0, "y": 0, "width": width, "height": 200})
            page.set_viewport_size({"width": 360, "height": 740})
    choose(page, "en")


def test_the_open_menu_lists_every_language_in_its_own_name_with_44_px_targets(
        live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/login")
    page.click("header .lang summary")
    buttons = page.locator("header .lang form button")
    assert buttons.all_inner_texts() == list(LANGUAGE_NAMES.values())
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box is not None and box["height"] >= 44 and box["x"] >= 0
        assert box["x"] + box["width"] <= 360  # the list stays on the screen
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "menu-open-360.png"),
                        clip={"x": 0, "y": 0, "width": 360, "height": 320})
    page.click("header .lang button[value=id]")
    page.wait_for_function("document.documentElement.lang === 'id'")
    summary = page.locator("header .lang summary")
    assert summary.locator("[aria-hidden=true]").inner_text() == "ID"
    assert "Bahasa Indonesia" in summary.inner_text()  # what a screen reader says
    choose(page, "en")
