"""The game's hot path through the JSON API, on SQLite and PostgreSQL: a question and an
answer each read who asks and their game in one statement, and an answer that does not
end the game is written in one round trip (``gamesql.record``), all or nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime

import httpx
import pytest
from tortoise import connections
from tortoise.backends.sqlite.client import SqliteClient
from tortoise.exceptions import IntegrityError

from portal.accounts.models import Person
from portal.content.models import Question, Quiz
from portal.play import api, games, gamesql
from portal.play.models import Answer, Game
from tests.factories import token_for
from tests.play.playing import RULES
from tests.sql_log import sqlite_trace, statements


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


async def _game_id(bot: httpx.AsyncClient) -> int:
    quiz = await Quiz.get(slug="basics")
    response = await bot.post(f"/api/v1/play/quizzes/{quiz.id}/start")
    return int(response.json()["game_id"])


async def _right(game_id: int, question_id: int) -> list[int]:
    game, question = await Game.get(id=game_id), await Question.get(id=question_id)
    order = game.choice_order[str(question_id)]
    return [p for p, authored in enumerate(order) if question.choices[authored]["correct"]]


@asynccontextmanager
async def _sent() -> AsyncIterator[list[str]]:
    """The first word of every statement sent meanwhile: on SQLite as the connection runs
    them (the hot path's writes go past Tortoise, on the driver's thread), on PostgreSQL
    as Tortoise sends them."""
    client = connections.get("default")
    if not isinstance(client, SqliteClient):
        with statements() as sent:
            kinds: list[str] = []
            yield kinds
        kinds += [sql.split()[0].upper() for sql in sent]
        return
    async with sqlite_trace(client) as seen:
        yield seen
    seen[:] = [" ".join(sql.split()[:2]).upper() if sql.upper().startswith("BEGIN")
               else sql.split()[0].upper() for sql in seen
               if not sql.upper().startswith("PRAGMA")]


async def test_a_question_and_an_answer_each_read_who_asks_and_their_game_at_once(
    bot: httpx.AsyncClient,
) -> None:
    game_id = await _game_id(bot)
    sqlite = isinstance(connections.get("default"), SqliteClient)
    async with _sent() as shown:
        question = (await bot.get(f"/api/v1/play/games/{game_id}/question")).json()
    right = await _right(game_id, question["question_id"])
    async with _sent() as answered:
        result = (await bot.post(f"/api/v1/play/games/{game_id}/answer", json={
            "question_id": question["question_id"], "choices": right})).json()
    assert result["correct"] and not result["finished"]
    # One read (the session, the person, the game, its quiz and the question), then the
    # clock's write; an answer's two writes are one transaction. On PostgreSQL each write
    # is one statement, its own transaction (the step's RETURNING row inserts the answer).
    if sqlite:
        assert shown == ["SELECT", "BEGIN IMMEDIATE", "UPDATE", "COMMIT"]
        assert answered == ["SELECT", "BEGIN IMMEDIATE", "UPDATE", "INSERT", "COMMIT"]
    else:
        assert (shown, answered) == (["SELECT", "UPDATE"], ["SELECT", "WITH"])
    stored = await Answer.get(game_id=game_id)
    assert (stored.question_id, stored.correct, stored.points) == (
        question["question_id"], True, result["points"])
    game = await Game.get(id=game_id)
    assert (game.current, game.correct, game.points, game.sent_at) == (
        1, 1, result["points"], None)


async def test_a_replayed_answer_through_the_api_reads_once_and_answers_as_the_first(
    bot: httpx.AsyncClient,
) -> None:
    game_id = await _game_id(bot)
    question = (await bot.get(f"/api/v1/play/games/{game_id}/question")).json()
    body = {"question_id": question["question_id"],
            "choices": await _right(game_id, question["question_id"])}
    first = (await bot.post(f"/api/v1/play/games/{game_id}/answer", json=body)).json()
    async with _sent() as sent:
        again = await bot.post(f"/api/v1/play/games/{game_id}/answer", json=body)
    assert again.status_code == 200 and again.json() == first
    assert sent == ["SELECT"]
    assert await Answer.filter(game_id=game_id).count() == 1


async def test_another_players_game_is_not_found_through_the_api(
    bot: httpx.AsyncClient, client: httpx.AsyncClient,
) -> None:
    game_id = await _game_id(bot)
    question = (await bot.get(f"/api/v1/play/games/{game_id}/question")).json()
    erin = {"Authorization": f"Bearer {await token_for(client, 'erin@example.com')}"}
    seen = await client.get(f"/api/v1/play/games/{game_id}/question", headers=erin)
    answered = await client.post(f"/api/v1/play/games/{game_id}/answer", headers=erin,
                                 json={"question_id": question["question_id"],
                                       "choices": [0]})
    assert (seen.status_code, answered.status_code) == (404, 404)
    assert await Answer.filter(game_id=game_id).count() == 0
    assert (await Game.get(id=game_id)).current == 0


async def test_an_answer_without_a_valid_token_is_refused_before_its_body_is_judged(
    bot: httpx.AsyncClient,
) -> None:
    game_id = await _game_id(bot)
    response = await bot.post(f"/api/v1/play/games/{game_id}/answer",
                              headers={"Authorization": "Bearer not-a-token"},
                              json={"question_id": "x", "choices": "zero"})
    assert response.status_code == 401


async def _shown_game(bot: httpx.AsyncClient) -> tuple[int, gamesql.Found]:
    game_id = await _game_id(bot)
    await bot.get(f"/api/v1/play/games/{game_id}/question")
    game = await Game.get(id=game_id)
    found = await gamesql.read(game.person_id, game_id)
    assert found is not None and found.question is not None
    return game_id, found


def _answer(found: gamesql.Found) -> gamesql.AnswerRow:
    assert found.question is not None
    return gamesql.AnswerRow(question_id=found.question.id, chosen=[0], elapsed_ms=1000,
                             correct=False, points=0)


async def test_a_step_another_request_took_writes_no_answer(bot: httpx.AsyncClient) -> None:
    game_id, found = await _shown_game(bot)
    now = datetime.now(UTC)
    assert await gamesql.record(found.game, _answer(found), now=now)
    # The same game as read before: it has moved on, so nothing is written.
    assert not await gamesql.record(found.game, _answer(found), now=now)
    assert await Answer.filter(game_id=game_id).count() == 1
    assert (await Game.get(id=game_id)).current == 1


async def test_an_answer_already_stored_undoes_the_step_of_its_transaction(
    bot: httpx.AsyncClient,
) -> None:
    game_id, found = await _shown_game(bot)
    now = datetime.now(UTC)
    assert await gamesql.record(found.game, _answer(found), now=now)
    await Game.filter(id=game_id).update(current=0)  # as if the step had never been taken
    with pytest.raises(IntegrityError):
        await gamesql.record(found.game, _answer(found), now=now)
    # The step and the refused answer were one transaction: the step is undone too.
    game = await Game.get(id=game_id)
    assert (game.current, game.points) == (0, 0)
    assert await Answer.filter(game_id=game_id).count() == 1


async def test_the_replies_built_by_hand_are_their_models_dumps(
    bot: httpx.AsyncClient,
) -> None:
    game_id = await _game_id(bot)
    game = await Game.get(id=game_id)
    alice = await Person.get(id=game.person_id)
    now = datetime.now(UTC)
    view = await games.current_question(alice, game_id, now=now, rules=RULES)
    assert view is not None
    assert api.question_json(view) == api.QuestionOut.model_validate(asdict(view)).model_dump()
    for positions in (await _right(game_id, view.question_id), [0], []):
        found = await gamesql.read(alice.id, game_id, view.question_id)
        assert found is not None
        result = await games.answer(alice, game_id, view.question_id, positions, now=now,
                                    rules=RULES, found=found)
        model = api.AnswerOut.model_validate(result, from_attributes=True)
        assert json.dumps(api.answer_json(result)) == json.dumps(model.model_dump(mode="json"))
        assert isinstance(api.answer_json(result)["correct_positions"], list)
