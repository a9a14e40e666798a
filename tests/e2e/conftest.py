"""A real server process with the demo data, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from portal.settings import PROJECT_ROOT

PHONE: ViewportSize = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)
DESKTOP = {"width": 1280, "height": 900}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The live server's database file, for tests that must know a right answer to click.
LIVE_DATABASE: dict[str, Path] = {}


def _live_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    now = datetime.now(UTC)
    text = (target / "pack.yaml").read_text()
    text = re.sub(r"live_from: .*", f"live_from: {(now - timedelta(days=1)).isoformat()}", text)
    text = re.sub(r"live_until: .*", f"live_until: {(now + timedelta(days=30)).isoformat()}",
                  text)
    (target / "pack.yaml").write_text(text.replace("id: example", "id: e2e-live"))
    return target


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``portal web`` on a free port, over a fresh SQLite file with the demo loaded."""
    folder: Path = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": f"sqlite://{folder / 'portal.sqlite3'}",
        "PORTAL_SECRET_KEY": "e2e-secret",
        "PORTAL_MEDIA_DIR": str(folder / "media"),
        # Every browser test signs in from 127.0.0.1, often as the same demo person: the
        # real limits (5 per account and address) would refuse the sixth test's sign-in.
        # tests/accounts proves the limits themselves.
        "PORTAL_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS": "1000 per 15 minutes",
        "PORTAL_LOGIN_LIMIT_PER_ACCOUNT": "1000 per 15 minutes",
        "PORTAL_LOGIN_LIMIT_PER_ADDRESS": "1000 per 15 minutes",
    }
    portal = [sys.executable, "-m", "portal.cli"]
    subprocess.run([*portal, "demo"], env=env, cwd=PROJECT_ROOT, check=True,
                   capture_output=True)
    # The example pack, live around today whatever the date the suite runs on.
    pack = _live_copy(PROJECT_ROOT / "quizzes" / "example", folder / "pack")
    subprocess.run([*portal, "publish", str(pack)], env=env, cwd=PROJECT_ROOT, check=True,
                   capture_output=True)
    port = _free_port()
    log = (folder / "server.log").open("w")
    server = subprocess.Popen([*portal, "web", "--port", str(port), "--no-access-log"],
                              env=env, cwd=PROJECT_ROOT, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    LIVE_DATABASE[base] = folder / "portal.sqlite3"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the server did not start: {log.name}")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: sync Playwright runs an event loop in this thread while it is open,
    # and the async tests that follow need the thread free of it.
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", "portal-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
