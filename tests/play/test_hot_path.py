"""The game's hot path (portal/play/gamesql.py) on SQLite and PostgreSQL: what showing a
question and answering it send to the database, and the clock's commit that does not wait
for the disk while the answer's does."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.sqlite.client import SqliteClient
from tortoise.transactions import in_transaction

from portal.accounts.models import Person
from portal.content.models import Question, Quiz
from portal.play import games, gamesql
from portal.play.models import Answer, Game
from portal.settings import PROJECT_ROOT
from tests.factories import make_person
from tests.play.playing import RULES, T0, at, publish_example, right_positions
from tests.sql_log import sqlite_trace

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


@pytest.fixture
async def alice(tmp_path: Path) -> Person:
    await publish_example(tmp_path)
    return await make_person("alice@example.com")


async def _game(alice: Person) -> Game:
    quiz = await Quiz.get(slug="basics")
    return await games.start(alice, quiz.id, now=T0, rules=RULES)


def _sqlite() -> SqliteClient:
    client = connections.get("default")
    if not isinstance(client, SqliteClient):
        pytest.skip("SQLite's statement trace")
    return client


def _postgres() -> BaseDBAsyncClient:
    conn = connections.get("default")
    if conn.capabilities.dialect != "postgres":
        pytest.skip("PostgreSQL's synchronous_commit")
    return conn


def _statements() -> AbstractAsyncContextManager[list[str]]:
    """Every statement SQLite runs meanwhile on the portal's connection, as sent."""
    return sqlite_trace(_sqlite())


def _kinds(seen: list[str]) -> Iterator[str]:
    for sql in seen:
        yield " ".join(sql.split()[:2]).upper() if sql.upper().startswith(
            ("PRAGMA", "BEGIN")) else sql.split()[0].upper()


async def _synchronous() -> int:
    rows = await connections.get("default").execute_query_dict("PRAGMA synchronous")
    return int(next(iter(rows[0].values())))


async def test_a_question_is_one_read_and_its_first_view_one_commit_that_skips_the_fsync(
    alice: Person,
) -> None:
    _sqlite()
    game = await _game(alice)
    level = await _synchronous()
    async with _statements() as seen:
        view = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None and view.number == 1
    # One read; then the clock's write in a transaction of its own at synchronous=NORMAL
    # (1): WAL frames written, no fsync; the connection's level is back right after.
    assert list(_kinds(seen)) == ["SELECT", "PRAGMA SYNCHRONOUS", "PRAGMA SYNCHRONOUS=NORMAL",
                                  "BEGIN IMMEDIATE", "UPDATE", "COMMIT",
                                  f"PRAGMA SYNCHRONOUS={level}"]
    assert level == 2 and await _synchronous() == 2  # FULL, as portal.db configures it
    async with _statements() as seen:  # a reload reads and writes nothing more
        again = await games.current_question(alice, game.id, now=at(5), rules=RULES)
    assert again is not None and again.remaining == pytest.approx(15)
    assert list(_kinds(seen)) == ["SELECT"]


async def test_an_answer_is_one_read_and_one_durable_transaction_of_two_writes(
    alice: Person,
) -> None:
    game = await _game(alice)
    view = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    right = await right_positions(game, view.question_id)
    async with _statements() as seen:
        result = await games.answer(alice, game.id, view.question_id, right, now=at(2),
                                    rules=RULES)
    assert result.correct and not result.finished
    assert list(_kinds(seen)) == ["SELECT", "BEGIN IMMEDIATE", "UPDATE", "INSERT", "COMMIT"]
    assert await _synchronous() == 2  # the answer committed at FULL: it survives a power cut
    async with _statements() as seen:  # a replay reads once and writes nothing
        replay = await games.answer(alice, game.id, view.question_id, right, now=at(3),
                                    rules=RULES)
    assert replay == result and list(_kinds(seen)) == ["SELECT"]


async def test_the_clocks_commit_leaves_postgresql_committing_synchronously(
    alice: Person,
) -> None:
    conn = _postgres()
    game = await _game(alice)
    assert await games.current_question(alice, game.id, now=at(0), rules=RULES) is not None
    # SET LOCAL: off for the clock's transaction only, never for the next on that connection.
    rows = await conn.execute_query_dict("SHOW synchronous_commit")
    assert rows == [{"synchronous_commit": "on"}]
    stored = await Game.get(id=game.id)
    assert stored.sent_at == at(0)


async def test_the_clocks_statement_turns_postgresqls_synchronous_commit_off_as_it_writes(
    alice: Person,
) -> None:
    conn = _postgres()
    game = await _game(alice)
    values = [at(0), game.id, game.current]
    async with in_transaction() as tx:  # to look inside the statement's transaction
        moved, _ = await tx.execute_query(gamesql._SHOW_POSTGRES, values)
        inside = await tx.execute_query_dict("SHOW synchronous_commit")
    assert moved == 1 and inside == [{"synchronous_commit": "off"}]
    assert await conn.execute_query_dict("SHOW synchronous_commit") == [
        {"synchronous_commit": "on"}]
    async with in_transaction() as tx:  # a clock already started: nothing written
        moved, _ = await tx.execute_query(gamesql._SHOW_POSTGRES, values)
    assert moved == 0


async def test_a_second_tab_at_the_same_moment_keeps_the_first_clock(alice: Person) -> None:
    game = await _game(alice)
    found = await gamesql.read(alice.id, game.id)
    assert found is not None and found.game.sent_at is None
    assert await gamesql.show(found.game, at(0))
    assert not await gamesql.show(found.game, at(4))  # the clock has started: kept
    first, second = await asyncio.gather(
        games.current_question(alice, game.id, now=at(6), rules=RULES),
        games.current_question(alice, game.id, now=at(9), rules=RULES))
    assert first is not None and second is not None
    assert (first.remaining, second.remaining) == (pytest.approx(14), pytest.approx(11))
    assert (await Game.get(id=game.id)).sent_at == at(0)


async def test_two_tabs_showing_a_new_question_at_once_start_one_clock(alice: Person) -> None:
    game = await _game(alice)
    views = await asyncio.gather(*(
        games.current_question(alice, game.id, now=at(seconds), rules=RULES)
        for seconds in (1, 2, 3)))
    started = (await Game.get(id=game.id)).sent_at
    assert started in {at(1), at(2), at(3)}
    for seconds, view in zip((1, 2, 3), views, strict=True):
        assert view is not None and view.number == 1
        assert view.remaining == pytest.approx(20 - (at(seconds) - started).total_seconds())


async def test_reading_another_persons_game_finds_nothing(alice: Person) -> None:
    game = await _game(alice)
    bob = await make_person("bob@example.com")
    assert await gamesql.read(bob.id, game.id) is None
    assert await gamesql.read(alice.id, game.id) is not None


async def test_an_answer_to_a_question_of_another_game_is_refused_and_not_stored(
    alice: Person,
) -> None:
    game = await _game(alice)
    view = await games.current_question(alice, game.id, now=at(0), rules=RULES)
    assert view is not None
    other = await Question.exclude(quiz_id=game.quiz_id).first()
    assert other is not None
    foreign = other.id
    with pytest.raises(games.PlayError):
        await games.answer(alice, game.id, foreign, [0], now=at(1), rules=RULES)
    assert await Answer.filter(game_id=game.id).count() == 0


def _race(db_url: str, person: Person, game: Game, processes: int, each: int
          ) -> list[dict[str, list[object]]]:
    """``processes`` workers, each showing and answering ``each`` times at once, all
    released together; process n shows the question n seconds after T0, answers at 10 s."""
    workers = [subprocess.Popen(
        [sys.executable, "-m", "tests.play.answer_worker", db_url, str(person.id),
         str(game.id), at(n).isoformat(), at(10).isoformat(), str(each)],
        cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for n in range(processes)]
    for worker in workers:  # every process connected before any shows or answers
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready", worker.communicate()[1]
    summaries = []
    for worker in workers:
        out, err = worker.communicate("go\n", timeout=120)
        assert worker.returncode == 0, err
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    return summaries


async def test_shows_and_answers_racing_in_four_processes_start_one_clock_and_count_once(
    db_url: str, alice: Person,
) -> None:
    game = await _game(alice)
    summaries = await asyncio.to_thread(_race, db_url, alice, game, 4, 3)
    assert [s["errors"] for s in summaries] == [[]] * 4
    stored = await Game.get(id=game.id)
    answers = await Answer.filter(game_id=game.id)
    assert stored.current == 1 and len(answers) == 1  # one step, one answer
    (answer,) = answers
    # One clock: the answer was timed from the one view that started it (process n showed
    # at n seconds), and every reply, winner's or replayed, is that answer's.
    assert answer.correct and answer.elapsed_ms in {10_000, 9_000, 8_000, 7_000}
    assert stored.points == answer.points
    replies = [reply for s in summaries for reply in s["replies"]]
    assert len(replies) == 12 and {json.dumps(r, sort_keys=True) for r in replies} == {
        json.dumps({"outcome": "correct", "points": answer.points,
                    "question": answer.question_id}, sort_keys=True)}
