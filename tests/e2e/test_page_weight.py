"""Light on a slow network: the bytes each main page costs, measured by the browser.

Cold: an empty cache, the page and everything it loads under 40 KB. Warm: arriving from
another page of the portal, under 10 KB (static files are cached for a year by their
digest, so only the page itself travels). Bytes are Chromium's own count of what came over
the network (CDP Network.loadingFinished: headers and the compressed body).

Pictures that content brings (reward and cause pictures, question images) are counted and
written down apart: their weight is the content's, not the page's, and the page loads them
lazily.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, CDPSession, Page

from tests.e2e.main_pages import FIGURES, ROLES, navigation_paths, sign_in_as

COLD_LIMIT = 40 * 1024
WARM_LIMIT = 10 * 1024


class Meter:
    """Counts the bytes the page's network requests transferred."""

    def __init__(self, page: Page) -> None:
        self.session: CDPSession = page.context.new_cdp_session(page)
        self.session.send("Network.enable")
        self.bytes = 0
        self.pictures = 0
        self.kinds: dict[str, str] = {}
        self.session.on("Network.responseReceived", self._received)
        self.session.on("Network.loadingFinished", self._finished)

    def _received(self, event: dict[str, Any]) -> None:
        self.kinds[event["requestId"]] = event.get("type", "")

    def _finished(self, event: dict[str, Any]) -> None:
        count = int(event.get("encodedDataLength", 0))
        if self.kinds.get(event["requestId"]) == "Image":
            self.pictures += count
        else:
            self.bytes += count

    def cold(self) -> None:
        self.session.send("Network.clearBrowserCache")
        self.start()

    def start(self) -> None:
        self.bytes = self.pictures = 0


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    context.close()


def weigh(page: Page, meter: Meter, url: str) -> int:
    page.goto(url, wait_until="networkidle")
    return meter.bytes


@pytest.mark.parametrize("role", list(ROLES))
def test_every_main_page_is_light_cold_and_warm(live_server: str, phone_page: Page,
                                                role: str) -> None:
    sign_in_as(phone_page, live_server, ROLES[role])
    paths = navigation_paths(phone_page, live_server)
    meter = Meter(phone_page)
    figures: list[dict[str, Any]] = []
    for path in paths:
        meter.cold()
        cold = weigh(phone_page, meter, f"{live_server}{path}")
        pictures = meter.pictures
        phone_page.goto(f"{live_server}/rules", wait_until="networkidle")  # elsewhere, warm
        meter.start()
        warm = weigh(phone_page, meter, f"{live_server}{path}")
        figures.append({"role": role, "path": path, "cold": cold, "warm": warm,
                        "pictures_cold": pictures})
    FIGURES.mkdir(exist_ok=True)
    with (FIGURES / "weights.jsonl").open("a") as log:
        for figure in figures:
            log.write(json.dumps(figure) + "\n")
    heavy = [f for f in figures if f["cold"] >= COLD_LIMIT or f["warm"] >= WARM_LIMIT]
    assert heavy == []
