"""The main pages each role reaches: every link of its header and tab bar, read from the
page itself (so a new area is covered as soon as it is in the navigation), and the pages of
playing that the navigation only leads to."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page

# Where the browser tests write down what they measured (axe findings, page weights).
FIGURES = Path(tempfile.gettempdir()) / "portal-e2e-figures"

ROLES = {
    "player": "player@example.com",
    "manager": "manager@example.com",
    "marketing": "marketing@example.com",
    "admin": "admin@example.com",
}


def sign_in_as(page: Page, base: str, email: str) -> None:
    """Signs in, wherever the role's home then is (marketing's is the programme)."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", "portal-demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def navigation_paths(page: Page, base: str) -> list[str]:
    """The paths the signed-in page's navigation links to, the dashboard first."""
    page.goto(f"{base}/")
    hrefs = page.eval_on_selector_all(
        "header a[href], nav a[href]", "links => links.map(link => link.href)")
    paths = ["/"]
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" == base and parts.path not in paths:
            paths.append(parts.path)
    return [*paths, "/rules"] if "/rules" not in paths else paths


def course_paths(page: Page, base: str) -> list[str]:
    """A course and its first lesson, from this month's page (players only)."""
    page.goto(f"{base}/play")
    course = page.locator("a[href*='/play/course/']").first
    if not course.count():
        return []
    href = course.get_attribute("href") or ""
    page.goto(f"{base}{urlsplit(href).path}")
    lesson = page.locator("a[href*='/lesson/']").first
    paths = [urlsplit(href).path]
    if lesson.count():
        paths.append(urlsplit(lesson.get_attribute("href") or "").path)
    return paths
