"""Games with a settable clock: timing, resuming, idempotence, abandoning, results."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.accounts.models import Person
from portal.content.models import Quiz
from portal.ledger import service as ledger
from portal.ledger.models import Transfer
from portal.play import games
from portal.play.errors import NotFound, PlayError
from portal.play.models import Game, GameStatus
from tests.factories import make_person
from tests.play.playing import (
    RULES,
    T0,
    at,
    balance,
    play_through,
    publish_example,
    right_positions,
    wrong_positions,
)

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def alice(tmp_path: Path) -> Person:
    await publish_example(tmp_path)
    return await make_person("alice@example.com")


async def basics() -> Quiz:
    return await Quiz.get(slug="basics")


async def test_a_whole_quiz_answered_right_credits_its_points_once(alice: Person) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    await play_through(alice, game, each=2)
    summary = await games.summary(alice, game.id)
    # 3 questions of 100 points, each answered 2 s after it was shown: 100 * (1 - 2/40).
    assert (summary.status, summary.correct, summary.points) == (GameStatus.FINISHED, 3, 285)
    assert summary.credited == 285
    assert await balance(alice) == 285
    credit = await Transfer.get(key=f"quiz:{game.quiz_id}:person:{alice.id}")
    assert credit.reason == "Quiz: Pump basics (3 of 3 correct)"


async def test_the_reply_to_an_answer_shows_the_question_as_it_was_shown(
        alice: Person) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    shown = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    assert shown is not None
    result = await games.answer(alice, game.id, shown.question_id,
                                await right_positions(game, shown.question_id), now=at(2),
                                rules=RULES)
    assert result.question == replace(shown, remaining=0.0, points_so_far=result.points)


async def test_an_answer_after_the_deadline_scores_nothing(alice: Person) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    view = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    result = await games.answer(alice, game.id, view.question_id,
                               await right_positions(game, view.question_id),
                               now=at(20 + 2 + 0.5), rules=RULES)
    assert not result.correct and result.points == 0
    assert result.outcome == games.AnswerOutcome.TOO_LATE


async def test_the_grace_period_still_counts_as_in_time(alice: Person) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    view = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    result = await games.answer(alice, game.id, view.question_id,
                               await right_positions(game, view.question_id),
                               now=at(21.5), rules=RULES)
    assert result.points == 50


async def test_a_resumed_game_shows_the_same_question_with_the_time_that_remains(
    alice: Person,
) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    first = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    # A refresh, or a second tab, 7 seconds later.
    again = await games.current_question(alice, game.id, now=at(7), rules=RULES)
    assert first is not None and again is not None
    assert again.question_id == first.question_id
    assert again.remaining == pytest.approx(13)
    resumed = await games.start(alice, (await basics()).id, now=at(8), rules=RULES)
    assert resumed.id == game.id


async def test_a_question_left_past_its_time_is_unanswered_and_the_game_moves_on(
    alice: Person,
) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    first = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    later = await games.current_question(alice, game.id, now=at(60), rules=RULES)
    assert first is not None and later is not None
    assert later.number == 2 and later.remaining == 20
    result = await games.answer(alice, game.id, first.question_id, [], now=at(61), rules=RULES)
    assert result.timed_out and result.points == 0


async def test_the_same_answer_twice_and_two_tabs_replayed_in_one_process_count_once(
    alice: Person,
) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    view = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    right = await right_positions(game, view.question_id)
    wrong = await wrong_positions(game, view.question_id)
    results = await asyncio.gather(
        games.answer(alice, game.id, view.question_id, right, now=at(1), rules=RULES),
        games.answer(alice, game.id, view.question_id, right, now=at(1), rules=RULES),
        games.answer(alice, game.id, view.question_id, wrong, now=at(2), rules=RULES),
    )
    assert len({(r.correct, r.points) for r in results}) == 1
    stored = await Game.get(id=game.id)
    assert stored.current == 1 and stored.points == results[0].points


async def test_a_retried_last_answer_credits_the_game_once(alice: Person) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    await play_through(alice, game)
    last = (await Game.get(id=game.id)).question_order[-1]
    fresh = await Game.get(id=game.id)
    again = await games.answer(alice, game.id, last, await right_positions(fresh, last),
                              now=at(100), rules=RULES)
    assert again.finished
    assert await Transfer.filter(key__startswith="quiz:").count() == 1


async def test_one_play_per_quiz(alice: Person) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    await play_through(alice, game)
    with pytest.raises(PlayError, match="already played"):
        await games.start(alice, (await basics()).id, now=at(300), rules=RULES)


async def test_a_game_past_its_deadline_is_abandoned_and_its_points_burn(
    alice: Person,
) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    view = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    await games.answer(alice, game.id, view.question_id,
                      await right_positions(game, view.question_id), now=at(1), rules=RULES)
    assert await games.expire_games(game.deadline + timedelta(seconds=1)) == 1
    assert await games.expire_games(game.deadline + timedelta(seconds=2)) == 0
    summary = await games.summary(alice, game.id)
    assert summary.status == GameStatus.ABANDONED and summary.points > 0
    assert summary.credited == 0 and await balance(alice) == 0
    unfinished = await games.unfinished_games(alice)
    assert [(g.game_id, g.points) for g in unfinished] == [(game.id, summary.points)]
    with pytest.raises(PlayError, match="over"):
        await games.answer(alice, game.id, (await Game.get(id=game.id)).question_order[1], [0],
                          now=game.deadline + timedelta(seconds=3), rules=RULES)


async def test_leaving_on_purpose_abandons_the_game(alice: Person) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    summary = await games.leave(alice, game.id, now=at(5))
    assert summary.status == GameStatus.ABANDONED and await balance(alice) == 0


async def test_nobody_can_touch_another_persons_game(alice: Person) -> None:
    erin = await make_person("erin@example.com")
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    with pytest.raises(NotFound):
        await games.current_question(erin, game.id, now=at(0), rules=RULES)
    with pytest.raises(NotFound):
        await games.answer(erin, game.id, game.question_order[0], [0], now=at(1), rules=RULES)


@pytest.mark.parametrize("positions", [[7], [-1], [0, 0]])
async def test_an_impossible_answer_is_refused(alice: Person, positions: list[int]) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    view = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    with pytest.raises(PlayError):
        await games.answer(alice, game.id, view.question_id, positions, now=at(1), rules=RULES)
    assert (await Game.get(id=game.id)).current == 0


async def test_two_answers_to_a_one_answer_question_are_refused(alice: Person) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    clock = 0.0
    while (view := await games.current_question(alice, game.id, now=at(clock), rules=RULES)):
        clock += 1
        if view.type != "multiple":
            with pytest.raises(PlayError, match="Choose one answer"):
                await games.answer(alice, game.id, view.question_id, [0, 1], now=at(clock),
                                  rules=RULES)
            return
        await games.answer(alice, game.id, view.question_id, [0], now=at(clock), rules=RULES)
    pytest.fail("the example quiz has single choice questions")


async def test_a_quiz_outside_its_pack_window_cannot_be_started(alice: Person) -> None:
    with pytest.raises(PlayError, match="not open"):
        await games.start(alice, (await basics()).id, now=datetime(2026, 3, 1, tzinfo=UTC),
                         rules=RULES)


async def test_an_answer_after_the_games_deadline_is_refused_and_nothing_is_credited(
    alice: Person,
) -> None:
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    clock = 0.0
    while True:
        view = await games.current_question(alice, game.id, now=at(clock), rules=RULES)
        assert view is not None
        if view.number == view.total:
            break
        clock += 1
        await games.answer(alice, game.id, view.question_id,
                          await right_positions(await Game.get(id=game.id), view.question_id),
                          now=at(clock), rules=RULES)
    late = game.deadline + timedelta(seconds=5)
    with pytest.raises(PlayError, match="over"):
        await games.answer(alice, game.id, view.question_id,
                          await right_positions(await Game.get(id=game.id), view.question_id),
                          now=late, rules=RULES)
    assert (await Game.get(id=game.id)).status == GameStatus.ABANDONED
    assert await balance(alice) == 0


async def test_a_game_finished_without_points_still_counts_as_activity(alice: Person) -> None:
    account = await ledger.account_of_person(alice.id)
    await ledger.earn(account, amount=100, reason="Old", reference="x", key="old",
                      now=T0 - timedelta(days=25))
    game = await games.start(alice, (await basics()).id, now=T0, rules=RULES)
    await play_through(alice, game, right=False)
    points = await ledger.summary(await ledger.account_of_person(alice.id),
                                  burn_after_days=30, now=T0)
    assert points.last_activity >= T0
