"""axe-core over every main page of every role, on a phone and on a desktop: no serious or
critical violation; and every tap target at least 44 x 44 px.

axe-core is vendored from its npm package (tests/e2e/vendor, the version in the name, MPL
2.0, its licence beside it); the browser context bypasses the Content-Security-Policy only
so that the test can inject it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.e2e.main_pages import FIGURES, ROLES, course_paths, navigation_paths, sign_in_as
from tests.e2e.test_play import answer_right

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
SIZES: dict[str, ViewportSize] = {"phone": {"width": 390, "height": 844},
                                  "desktop": {"width": 1280, "height": 900}}

# Serious and critical violations, each with a few of the elements it names.
_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({rule: v.id, impact: v.impact, help: v.help,
                where: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " " +
                                                    (n.failureSummary || "").split("\\n")[1])}));
}"""

# Tap targets smaller than 44 x 44 CSS px: buttons, fields, menus, and links that stand on
# their own (a link inside a sentence is exempt, as WCAG 2.5.5 exempts it).
_SMALL_TARGETS = """() => {
  const small = [];
  const seen = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden"; };
  const alone = a => { const p = a.parentElement;
    return p && p.textContent.trim() === a.textContent.trim(); };
  const targets = document.querySelectorAll(
    "button, summary, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), " +
    "label.choice, .btn, nav a, a");
  for (const el of targets) {
    if (!seen(el) || (el.tagName === "A" && !el.matches("nav a, .btn") && !alone(el))) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 43.5 || r.height < 43.5) {
      const text = el.textContent.trim().slice(0, 30);
      small.push(`${el.tagName.toLowerCase()}.${el.className} "${text}" ` +
                 `${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}"""


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def checked(browser: Browser, size: str) -> Iterator[Page]:
    context = browser.new_context(viewport=SIZES[size], bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def audit(page: Page, label: str) -> list[str]:
    """Every problem on the page shown now, named with where it is."""
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN)
    problems = [f"{label}: {v['impact']} {v['rule']} ({v['help']}): {v['where']}"
                for v in violations]
    problems += [f"{label}: tap target under 44 px: {t}" for t in page.evaluate(_SMALL_TARGETS)]
    FIGURES.mkdir(exist_ok=True)
    with (FIGURES / "axe.jsonl").open("a") as log:
        log.write(json.dumps({"page": label, "serious_or_critical": len(violations),
                              "problems": problems}) + "\n")
    return problems


def test_the_sign_in_page_passes_axe(live_server: str, checked: Page, size: str) -> None:
    checked.goto(f"{live_server}/login")
    assert audit(checked, f"anonymous {size} /login") == []


@pytest.mark.parametrize("role", list(ROLES))
def test_every_main_page_of_a_role_passes_axe(live_server: str, checked: Page, size: str,
                                              role: str) -> None:
    sign_in_as(checked, live_server, ROLES[role])
    paths = navigation_paths(checked, live_server)
    if role in {"player", "manager"}:
        paths += course_paths(checked, live_server)
    problems: list[str] = []
    for path in paths:
        checked.goto(f"{live_server}{path}")
        problems += audit(checked, f"{role} {size} {path}")
    assert problems == []


def test_a_game_and_its_result_pass_axe_on_a_phone_and_a_desktop(live_server: str,
                                                                 browser: Browser) -> None:
    context = browser.new_context(viewport=SIZES["phone"], bypass_csp=True)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in_as(page, live_server, "manager@example.com")
        page.goto(f"{live_server}/play")
        page.locator("article.play-card", has_text="Pump basics").get_by_role(
            "button", name="Play").click()
        expect(page.get_by_text("Question 1 of 3")).to_be_visible()
        for name, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            problems += audit(page, f"manager {name} question")
        page.get_by_role("link", name="Leave game").click()
        problems += audit(page, "manager phone leave")
        page.get_by_role("link", name="Keep playing").click()
        for number in range(1, 4):
            expect(page.get_by_text(f"Question {number} of 3")).to_be_visible()
            answer_right(page, live_server)
            if number == 1:
                problems += audit(page, "manager phone answered")
            page.get_by_role("link", name="See your result" if number == 3 else
                             "Next question").click()
        expect(page.locator("[data-testid=credited]:not([data-counting])")).to_be_visible()
        for name, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            problems += audit(page, f"manager {name} result")
    finally:
        context.close()
    assert problems == []
