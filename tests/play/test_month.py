"""This month as a player sees it: each live item with its state, and the games left
unfinished."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.accounts.models import Person
from portal.content.models import Quiz
from portal.play import games, month
from tests.factories import make_person
from tests.play.playing import RULES, T0, at, play_through, publish_example
from tests.sql_log import statements

# The month is hand-written SQL: every case runs on SQLite and PostgreSQL.
pytestmark = pytest.mark.usefixtures("any_db")


@pytest.fixture
async def alice(tmp_path: Path) -> Person:
    await publish_example(tmp_path)
    return await make_person("alice@example.com")


async def quiz_card(alice: Person, seconds: float) -> month.Card:
    return next(card for card in await month.cards(alice, now=at(seconds))
                if card.kind == "quiz")


async def test_a_quiz_card_goes_from_new_to_in_progress_to_done_with_the_score(
        alice: Person) -> None:
    new = await quiz_card(alice, 0)
    assert (new.state, new.questions, new.points_at_stake, new.game_id) == ("new", 3, 300, None)
    game = await games.start(alice, new.id, now=T0, rules=RULES)
    assert ((await quiz_card(alice, 1)).state, (await quiz_card(alice, 1)).game_id) == (
        "in_progress", game.id)
    await play_through(alice, game)
    done = await quiz_card(alice, 100)
    assert (done.state, done.score, done.correct, done.game_id) == ("done", 285, 3, game.id)


async def test_a_course_card_says_how_many_lessons_and_whether_it_is_mandatory(
        alice: Person) -> None:
    course = next(card for card in await month.cards(alice, now=T0) if card.kind == "course")
    assert (course.title, course.state, course.questions, course.points_at_stake,
            course.mandatory) == ("Installing a booster pump", "new", 2, 200, True)


async def test_the_month_lists_games_left_unfinished_with_the_points_that_burned(
        alice: Person) -> None:
    game = await games.start(alice, (await Quiz.get(slug="basics")).id, now=T0, rules=RULES)
    await games.leave(alice, game.id, now=at(5))
    found = await month.this_month(alice, now=at(10))
    assert [(g.game_id, g.quiz_title, g.credited) for g in found.unfinished] == [
        (game.id, "Pump basics", 0)]
    assert [card.kind for card in found.cards] == ["quiz", "course"]


async def test_nothing_is_live_outside_the_packs_window(alice: Person) -> None:
    assert await month.cards(alice, now=datetime(2026, 3, 1, tzinfo=UTC)) == []


async def test_each_card_says_when_it_closes_and_the_month_what_is_still_to_earn(
        alice: Person) -> None:
    found = await month.this_month(alice, now=T0)
    assert {card.closes_at for card in found.cards} == {datetime(2026, 2, 1, tzinfo=UTC)}
    assert found.still_to_earn == 300 + 200  # the quiz, and the course
    quiz = next(card for card in found.cards if card.kind == "quiz")
    game = await games.start(alice, quiz.id, now=T0, rules=RULES)
    await play_through(alice, game)
    assert (await month.this_month(alice, now=at(100))).still_to_earn == 200





async def test_the_month_is_two_statements_however_much_it_holds(alice: Person) -> None:
    quiz = await Quiz.get(slug="basics")
    await Quiz.filter(id=quiz.id).update(attempts=2)
    game = await games.start(alice, quiz.id, now=T0, rules=RULES)
    await games.leave(alice, game.id, now=at(5))
    await games.start(alice, quiz.id, now=at(6), rules=RULES)
    with statements() as sent:
        found = await month.cards(alice, now=at(10))
    assert len(sent) == 2
    assert [(card.kind, card.state) for card in found] == [("quiz", "in_progress"),
                                                           ("course", "new")]


async def test_a_quiz_with_every_attempt_used_is_done_without_a_score(alice: Person) -> None:
    quiz = await Quiz.get(slug="basics")
    await Quiz.filter(id=quiz.id).update(attempts=1)
    game = await games.start(alice, quiz.id, now=T0, rules=RULES)
    await games.leave(alice, game.id, now=at(5))
    card = await quiz_card(alice, 10)
    assert (card.state, card.score, card.game_id) == ("done", None, None)
