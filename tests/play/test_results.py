"""A game's result: every point it really credited, and the questions missed."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.accounts.models import Person
from portal.content.models import Quiz
from portal.play import courses, games, results
from portal.play.errors import NotFound
from tests.factories import make_person
from tests.play.playing import RULES, T0, at, balance, play_through, publish_example

pytestmark = pytest.mark.usefixtures("any_db")


@pytest.fixture
async def alice(tmp_path: Path) -> Person:
    await publish_example(tmp_path)
    return await make_person("alice@example.com")


async def read_the_course(person: Person, course_id: int) -> None:
    for lesson in (await courses.course_view(person, course_id, now=T0)).lessons:
        await courses.mark_lesson_read(person, course_id, lesson.id, now=T0)


async def test_passing_a_course_shows_the_course_points_and_the_welcome_bonus(
    alice: Person,
) -> None:
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    await read_the_course(alice, final.course_id)
    game = await games.start(alice, final.id, now=T0, rules=RULES)
    await play_through(alice, game)
    found = await results.game_result(alice, game.id)
    assert found.credited.quiz == found.summary.points > 0
    assert (found.credited.course, found.credited.welcome) == (200, 100)
    assert found.credited.total == await balance(alice)
    assert found.missed == []


async def test_a_second_attempt_shows_no_course_points_it_did_not_earn(alice: Person) -> None:
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    await read_the_course(alice, final.course_id)
    first = await games.start(alice, final.id, now=T0, rules=RULES)
    await play_through(alice, first, right=False)
    second = await games.start(alice, final.id, now=at(300), rules=RULES)
    await play_through(alice, second, start=300)
    failed, passed = (await results.game_result(alice, first.id),
                      await results.game_result(alice, second.id))
    assert failed.credited.total == 0 and failed.summary.passed is False
    # A later attempt earns no quiz points, but it is the one that completed the course.
    assert (passed.credited.quiz, passed.credited.course, passed.credited.welcome) == (
        0, 200, 100)
    assert passed.credited.total == await balance(alice)


async def test_the_questions_answered_wrongly_come_with_the_right_answer_and_why(
    alice: Person,
) -> None:
    quiz = await Quiz.get(slug="basics")
    game = await games.start(alice, quiz.id, now=T0, rules=RULES)
    await play_through(alice, game, right=False)
    found = await results.game_result(alice, game.id)
    assert found.credited.total == 0
    assert [m.number for m in found.missed] == [1, 2, 3]
    for missed in found.missed:
        assert missed.right and missed.chosen and missed.right != missed.chosen
    assert any(missed.explanation for missed in found.missed)


async def test_a_game_left_midway_reveals_no_answer_it_did_not_show(alice: Person) -> None:
    quiz = await Quiz.get(slug="basics")
    game = await games.start(alice, quiz.id, now=T0, rules=RULES)
    view = await games.current_question(alice, game.id, now=T0, rules=RULES)
    assert view is not None
    await games.answer(alice, game.id, view.question_id, [], now=at(3), rules=RULES)
    await games.leave(alice, game.id, now=at(4))
    found = await results.game_result(alice, game.id)
    assert [m.number for m in found.missed] == [1]  # timed out; 2 and 3 were never shown
    assert found.missed[0].chosen == []


async def test_another_persons_game_is_not_found(alice: Person) -> None:
    quiz = await Quiz.get(slug="basics")
    game = await games.start(alice, quiz.id, now=T0, rules=RULES)
    bob = await make_person("bob@example.com")
    with pytest.raises(NotFound):
        await results.game_result(bob, game.id)
