"""The demo player plays a whole quiz on a phone, refreshing in the middle."""

from __future__ import annotations

import json
import re
import sqlite3

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LIVE_DATABASE, sign_in


def available(page: Page, base: str) -> int:
    page.goto(f"{base}/")
    return int(page.get_by_test_id("available").inner_text().replace(",", ""))


def right_positions(page: Page, base: str) -> list[int]:
    """Looked up in the server's database: the page itself must never tell."""
    found = re.search(r"/play/game/(\d+)", page.url)
    assert found is not None
    game_id = int(found.group(1))
    question_id = page.locator("input[name=question_id]").get_attribute("value")
    with sqlite3.connect(LIVE_DATABASE[base]) as db:
        order = json.loads(db.execute("SELECT choice_order FROM game WHERE id = ?",
                                      (game_id,)).fetchone()[0])[str(question_id)]
        choices = json.loads(db.execute("SELECT choices FROM question WHERE id = ?",
                                        (question_id,)).fetchone()[0])
    return [position for position, authored in enumerate(order)
            if choices[authored]["correct"]]


def answer_right(page: Page, base: str) -> None:
    positions = right_positions(page, base)
    if page.locator("button.choice").count():
        page.locator(f"button.choice[value='{positions[0]}']").click()
    else:
        for position in positions:
            page.locator(f"label.choice:has(input[value='{position}'])").click()
        page.get_by_role("button", name="Answer").click()
    expect(page.locator(".verdict")).to_contain_text("Correct!")


def test_a_player_plays_a_whole_quiz_resumes_after_a_refresh_and_sees_the_points(
    live_server: str, phone: Page
) -> None:
    errors: list[str] = []
    phone.on("console", lambda message: errors.append(message.text)
             if message.type == "error" else None)
    sign_in(phone, live_server, "player@example.com")
    before = available(phone, live_server)

    phone.goto(f"{live_server}/play")
    card = phone.locator("article.play-card", has_text="Pump basics")
    card.get_by_role("button", name="Play").click()
    expect(phone.get_by_text("Question 1 of 3")).to_be_visible()
    answer_right(phone, live_server)
    phone.get_by_role("link", name="Next question").click()
    expect(phone.get_by_text("Question 2 of 3")).to_be_visible()
    question = phone.locator(".question-text").inner_text()

    phone.reload()  # a refresh in the middle of a question
    expect(phone.get_by_text("Question 2 of 3")).to_be_visible()
    assert phone.locator(".question-text").inner_text() == question
    seconds = int(phone.locator(".timer .secs").inner_text())
    assert 0 < seconds <= 20

    answer_right(phone, live_server)
    phone.get_by_role("link", name="Next question").click()
    expect(phone.get_by_text("Question 3 of 3")).to_be_visible()
    answer_right(phone, live_server)
    phone.get_by_role("link", name="See your result").click()
    # The points count up as they arrive; the number read is the final one.
    expect(phone.locator("[data-testid=credited]:not([data-counting])")).to_be_visible()
    credited = int(phone.get_by_test_id("credited").inner_text().replace(",", ""))
    expect(phone.get_by_test_id("correct")).to_have_text("3 of 3 correct")
    assert credited > 0

    assert available(phone, live_server) == before + credited
    assert errors == []
