"""Games with a settable clock: timing, resuming, idempotence, abandoning, courses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.accounts.models import Person
from portal.content import schema, service
from portal.content.models import Question, Quiz
from portal.ledger import service as ledger
from portal.ledger.models import Transfer
from portal.play import service as play
from portal.play.models import Game, GameStatus
from portal.settings import PROJECT_ROOT
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("db")
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
RULES = play.Rules(grace_seconds=2, extra_minutes=15, welcome_bonus=100)


@pytest.fixture
async def alice(tmp_path: Path) -> Person:
    await service.publish(schema.read_pack(PROJECT_ROOT / "quizzes" / "example"),
                          media_dir=tmp_path, now=T0)
    return await make_person("alice@example.com")


async def basics() -> Quiz:
    return await Quiz.get(slug="basics")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def right_positions(game: Game, question_id: int) -> list[int]:
    question = await Question.get(id=question_id)
    order = game.choice_order[str(question_id)]
    return [p for p, authored in enumerate(order) if question.choices[authored]["correct"]]


async def wrong_positions(game: Game, question_id: int) -> list[int]:
    question = await Question.get(id=question_id)
    order = game.choice_order[str(question_id)]
    return [next(p for p, authored in enumerate(order)
                 if not question.choices[authored]["correct"])]


async def play_through(alice: Person, game: Game, *, start: float = 0, each: float = 2,
                       right: bool = True) -> datetime:
    clock = start
    while True:
        view = await play.current_question(alice, game.id, now=at(clock), rules=RULES)
        if view is None:
            return at(clock)
        fresh = await Game.get(id=game.id)
        positions = await (right_positions if right else wrong_positions)(
            fresh, view.question_id)
        clock += each
        await play.answer(alice, game.id, view.question_id, positions, now=at(clock),
                          rules=RULES)


async def balance(person: Person) -> int:
    return (await ledger.account_of_person(person.id)).balance


async def test_a_whole_quiz_answered_right_credits_its_points_once(alice: Person) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    await play_through(alice, game, each=2)
    summary = await play.summary(alice, game.id)
    # 3 questions of 100 points, each answered 2 s after it was shown: 100 * (1 - 2/40).
    assert (summary.status, summary.correct, summary.points) == (GameStatus.FINISHED, 3, 285)
    assert summary.credited == 285
    assert await balance(alice) == 285
    credit = await Transfer.get(key=f"quiz:{game.quiz_id}:person:{alice.id}")
    assert credit.reason == "Quiz: Pump basics (3 of 3 correct)"


async def test_an_answer_after_the_deadline_scores_nothing(alice: Person) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    view = await play.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    result = await play.answer(alice, game.id, view.question_id,
                               await right_positions(game, view.question_id),
                               now=at(20 + 2 + 0.5), rules=RULES)
    assert not result.correct and result.points == 0
    assert result.outcome == play.AnswerOutcome.TOO_LATE


async def test_the_grace_period_still_counts_as_in_time(alice: Person) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    view = await play.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    result = await play.answer(alice, game.id, view.question_id,
                               await right_positions(game, view.question_id),
                               now=at(21.5), rules=RULES)
    assert result.points == 50


async def test_a_resumed_game_shows_the_same_question_with_the_time_that_remains(
    alice: Person,
) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    first = await play.current_question(alice, game.id, now=at(0), rules=RULES)
    # A refresh, or a second tab, 7 seconds later.
    again = await play.current_question(alice, game.id, now=at(7), rules=RULES)
    assert first is not None and again is not None
    assert again.question_id == first.question_id
    assert again.remaining == pytest.approx(13)
    resumed = await play.start(alice, (await basics()).id, now=at(8), rules=RULES)
    assert resumed.id == game.id


async def test_a_question_left_past_its_time_is_unanswered_and_the_game_moves_on(
    alice: Person,
) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    first = await play.current_question(alice, game.id, now=at(0), rules=RULES)
    later = await play.current_question(alice, game.id, now=at(60), rules=RULES)
    assert first is not None and later is not None
    assert later.number == 2 and later.remaining == 20
    result = await play.answer(alice, game.id, first.question_id, [], now=at(61), rules=RULES)
    assert result.timed_out and result.points == 0


async def test_the_same_answer_twice_and_two_tabs_replayed_in_one_process_count_once(
    alice: Person,
) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    view = await play.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    right = await right_positions(game, view.question_id)
    wrong = await wrong_positions(game, view.question_id)
    results = await asyncio.gather(
        play.answer(alice, game.id, view.question_id, right, now=at(1), rules=RULES),
        play.answer(alice, game.id, view.question_id, right, now=at(1), rules=RULES),
        play.answer(alice, game.id, view.question_id, wrong, now=at(2), rules=RULES),
    )
    assert len({(r.correct, r.points) for r in results}) == 1
    stored = await Game.get(id=game.id)
    assert stored.current == 1 and stored.points == results[0].points


async def test_a_retried_last_answer_credits_the_game_once(alice: Person) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    await play_through(alice, game)
    last = (await Game.get(id=game.id)).question_order[-1]
    fresh = await Game.get(id=game.id)
    again = await play.answer(alice, game.id, last, await right_positions(fresh, last),
                              now=at(100), rules=RULES)
    assert again.finished
    assert await Transfer.filter(key__startswith="quiz:").count() == 1


async def test_one_play_per_quiz(alice: Person) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    await play_through(alice, game)
    with pytest.raises(play.PlayError, match="already played"):
        await play.start(alice, (await basics()).id, now=at(300), rules=RULES)


async def test_a_game_past_its_deadline_is_abandoned_and_its_points_burn(
    alice: Person,
) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    view = await play.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    await play.answer(alice, game.id, view.question_id,
                      await right_positions(game, view.question_id), now=at(1), rules=RULES)
    assert await play.expire_games(game.deadline + timedelta(seconds=1)) == 1
    assert await play.expire_games(game.deadline + timedelta(seconds=2)) == 0
    summary = await play.summary(alice, game.id)
    assert summary.status == GameStatus.ABANDONED and summary.points > 0
    assert summary.credited == 0 and await balance(alice) == 0
    unfinished = await play.unfinished_games(alice)
    assert [(g.game_id, g.points) for g in unfinished] == [(game.id, summary.points)]
    with pytest.raises(play.PlayError, match="over"):
        await play.answer(alice, game.id, (await Game.get(id=game.id)).question_order[1], [0],
                          now=game.deadline + timedelta(seconds=3), rules=RULES)


async def test_leaving_on_purpose_abandons_the_game(alice: Person) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    summary = await play.leave(alice, game.id, now=at(5))
    assert summary.status == GameStatus.ABANDONED and await balance(alice) == 0


async def test_nobody_can_touch_another_persons_game(alice: Person) -> None:
    erin = await make_person("erin@example.com")
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    with pytest.raises(play.NotFound):
        await play.current_question(erin, game.id, now=at(0), rules=RULES)
    with pytest.raises(play.NotFound):
        await play.answer(erin, game.id, game.question_order[0], [0], now=at(1), rules=RULES)


@pytest.mark.parametrize("positions", [[7], [-1], [0, 0]])
async def test_an_impossible_answer_is_refused(alice: Person, positions: list[int]) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    view = await play.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    with pytest.raises(play.PlayError):
        await play.answer(alice, game.id, view.question_id, positions, now=at(1), rules=RULES)
    assert (await Game.get(id=game.id)).current == 0


async def test_two_answers_to_a_one_answer_question_are_refused(alice: Person) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    clock = 0.0
    while (view := await play.current_question(alice, game.id, now=at(clock), rules=RULES)):
        clock += 1
        if view.type != "multiple":
            with pytest.raises(play.PlayError, match="Choose one answer"):
                await play.answer(alice, game.id, view.question_id, [0, 1], now=at(clock),
                                  rules=RULES)
            return
        await play.answer(alice, game.id, view.question_id, [0], now=at(clock), rules=RULES)
    pytest.fail("the example quiz has single choice questions")


async def test_a_quiz_outside_its_pack_window_cannot_be_started(alice: Person) -> None:
    with pytest.raises(play.PlayError, match="not open"):
        await play.start(alice, (await basics()).id, now=datetime(2026, 3, 1, tzinfo=UTC),
                         rules=RULES)


async def test_a_course_completes_once_with_its_points_and_the_welcome_bonus(
    alice: Person,
) -> None:
    final = await Quiz.get(slug="install-final")
    course_id = final.course_id
    assert course_id is not None
    with pytest.raises(play.PlayError, match="Read every lesson"):
        await play.start(alice, final.id, now=T0, rules=RULES)
    view = await play.course_view(alice, course_id, now=T0)
    for lesson in view.lessons:
        view = await play.mark_lesson_read(alice, course_id, lesson.id, now=T0)
    assert view.all_read
    game = await play.start(alice, final.id, now=T0, rules=RULES)
    await play_through(alice, game)
    summary = await play.summary(alice, game.id)
    assert summary.passed is True
    certificate = await play.certificate(alice, course_id)
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
    for lesson in (await play.course_view(alice, final.course_id, now=T0)).lessons:
        await play.mark_lesson_read(alice, final.course_id, lesson.id, now=T0)
    first = await play.start(alice, final.id, now=T0, rules=RULES)
    await play_through(alice, first, right=False)
    assert (await play.summary(alice, first.id)).passed is False
    second = await play.start(alice, final.id, now=at(300), rules=RULES)
    assert second.attempt == 2
    await play_through(alice, second, start=300)
    assert (await play.summary(alice, second.id)).passed is True
    # The first finished game (0 points) was the one counted for points; course points paid.
    assert await balance(alice) == 200 + 100


async def test_a_missing_translation_falls_back_to_the_packs_default_language(
    alice: Person,
) -> None:
    alice.language = "ru"
    await alice.save(update_fields=["language"])
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    view = await play.course_view(alice, final.course_id, now=T0)
    assert view.title == "Установка насоса повышения давления"
    place, connect = view.lessons
    assert "Куда ставить насос" in place.body_html  # translated
    assert "Fit a <strong>check valve</strong>" in connect.body_html  # English only


async def test_leaving_after_seeing_answers_and_replaying_earns_no_points(alice: Person) -> None:
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    for lesson in (await play.course_view(alice, final.course_id, now=T0)).lessons:
        await play.mark_lesson_read(alice, final.course_id, lesson.id, now=T0)
    first = await play.start(alice, final.id, now=T0, rules=RULES)
    view = await play.current_question(alice, first.id, now=T0, rules=RULES)
    assert view is not None
    await play.answer(alice, first.id, view.question_id, [0], now=at(1), rules=RULES)
    await play.leave(alice, first.id, now=at(2))  # the right answer was shown; now replay
    second = await play.start(alice, final.id, now=at(10), rules=RULES)
    await play_through(alice, second, start=10)
    summary = await play.summary(alice, second.id)
    assert summary.passed is True and summary.credited == 0
    assert not await Transfer.filter(key__startswith="quiz:").exists()
    assert await balance(alice) == 200 + 100  # the course and the welcome bonus only


async def test_an_answer_after_the_games_deadline_is_refused_and_nothing_is_credited(
    alice: Person,
) -> None:
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    clock = 0.0
    while True:
        view = await play.current_question(alice, game.id, now=at(clock), rules=RULES)
        assert view is not None
        if view.number == view.total:
            break
        clock += 1
        await play.answer(alice, game.id, view.question_id,
                          await right_positions(await Game.get(id=game.id), view.question_id),
                          now=at(clock), rules=RULES)
    late = game.deadline + timedelta(seconds=5)
    with pytest.raises(play.PlayError, match="over"):
        await play.answer(alice, game.id, view.question_id,
                          await right_positions(await Game.get(id=game.id), view.question_id),
                          now=late, rules=RULES)
    assert (await Game.get(id=game.id)).status == GameStatus.ABANDONED
    assert await balance(alice) == 0


async def test_a_game_finished_without_points_still_counts_as_activity(alice: Person) -> None:
    account = await ledger.account_of_person(alice.id)
    await ledger.earn(account, amount=100, reason="Old", reference="x", key="old",
                      now=T0 - timedelta(days=25))
    game = await play.start(alice, (await basics()).id, now=T0, rules=RULES)
    await play_through(alice, game, right=False)
    points = await ledger.summary(await ledger.account_of_person(alice.id),
                                  burn_after_days=30, now=T0)
    assert points.last_activity >= T0
