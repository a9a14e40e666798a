"""Courses with a settable clock: lessons, the final quiz, the certificate, the points."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.accounts.models import Person
from portal.content.models import Quiz
from portal.ledger.models import Transfer
from portal.play import courses, games
from portal.play.errors import NotFound, PlayError
from tests.factories import make_person
from tests.play.playing import RULES, T0, at, balance, play_through, publish_example

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def alice(tmp_path: Path) -> Person:
    await publish_example(tmp_path)
    return await make_person("alice@example.com")


async def test_a_course_completes_once_with_its_points_and_the_welcome_bonus(
    alice: Person,
) -> None:
    final = await Quiz.get(slug="install-final")
    course_id = final.course_id
    assert course_id is not None
    with pytest.raises(PlayError, match="Read every lesson"):
        await games.start(alice, final.id, now=T0, rules=RULES)
    view = await courses.course_view(alice, course_id, now=T0)
    for lesson in view.lessons:
        view = await courses.mark_lesson_read(alice, course_id, lesson.id, now=T0)
    assert view.all_read
    game = await games.start(alice, final.id, now=T0, rules=RULES)
    await play_through(alice, game)
    summary = await games.summary(alice, game.id)
    assert summary.passed is True
    certificate = await courses.certificate(alice, course_id)
    assert len(certificate.code) == 10
    keys = set(await Transfer.all().values_list("key", flat=True))
    assert keys == {f"quiz:{final.id}:person:{alice.id}", f"course:{course_id}:person:{alice.id}",
                    f"welcome:person:{alice.id}"}
    assert await balance(alice) == summary.points + 200 + 100


async def test_failing_the_final_quiz_allows_another_attempt_without_points(
    alice: Person,
) -> None:
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    for lesson in (await courses.course_view(alice, final.course_id, now=T0)).lessons:
        await courses.mark_lesson_read(alice, final.course_id, lesson.id, now=T0)
    first = await games.start(alice, final.id, now=T0, rules=RULES)
    await play_through(alice, first, right=False)
    assert (await games.summary(alice, first.id)).passed is False
    second = await games.start(alice, final.id, now=at(300), rules=RULES)
    assert second.attempt == 2
    await play_through(alice, second, start=300)
    assert (await games.summary(alice, second.id)).passed is True
    # The first finished game (0 points) was the one counted for points; course points paid.
    assert await balance(alice) == 200 + 100


async def test_a_missing_translation_falls_back_to_the_packs_default_language(
    alice: Person,
) -> None:
    alice.language = "ru"
    await alice.save(update_fields=["language"])
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    view = await courses.course_view(alice, final.course_id, now=T0)
    assert view.title == "Установка насоса повышения давления"
    place, connect = view.lessons
    assert "Куда ставить насос" in place.body_html  # translated
    assert "Fit a <strong>check valve</strong>" in connect.body_html  # English only


async def test_leaving_after_seeing_answers_and_replaying_earns_no_points(alice: Person) -> None:
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    for lesson in (await courses.course_view(alice, final.course_id, now=T0)).lessons:
        await courses.mark_lesson_read(alice, final.course_id, lesson.id, now=T0)
    first = await games.start(alice, final.id, now=T0, rules=RULES)
    view = await games.current_question(alice, first.id, now=T0, rules=RULES)
    assert view is not None
    await games.answer(alice, first.id, view.question_id, [0], now=at(1), rules=RULES)
    await games.leave(alice, first.id, now=at(2))  # the right answer was shown; now replay
    second = await games.start(alice, final.id, now=at(10), rules=RULES)
    await play_through(alice, second, start=10)
    summary = await games.summary(alice, second.id)
    assert summary.passed is True and summary.credited == 0
    assert not await Transfer.filter(key__startswith="quiz:").exists()
    assert await balance(alice) == 200 + 100  # the course and the welcome bonus only


async def test_a_lesson_page_gives_the_lesson_and_the_one_after_it(alice: Person) -> None:
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    place, connect = (await courses.course_view(alice, final.course_id, now=T0)).lessons
    first = await courses.lesson_page(alice, final.course_id, place.id, now=T0)
    assert (first.lesson.slug, first.following) == ("place", connect)
    last = await courses.lesson_page(alice, final.course_id, connect.id, now=T0)
    assert (last.lesson.slug, last.following) == ("connect", None)
    with pytest.raises(NotFound):
        await courses.lesson_page(alice, final.course_id, connect.id + 999, now=T0)


async def test_reading_a_lesson_points_to_the_next_one_unread(alice: Person) -> None:
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    place, connect = (await courses.course_view(alice, final.course_id, now=T0)).lessons
    after_first = await courses.mark_lesson_read(alice, final.course_id, place.id, now=T0)
    assert after_first.next_unread is not None and after_first.next_unread.id == connect.id
    after_both = await courses.mark_lesson_read(alice, final.course_id, connect.id, now=T0)
    assert after_both.next_unread is None and after_both.all_read
