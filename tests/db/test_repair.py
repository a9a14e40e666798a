"""Migration 0007 repairs a database whose game table lost its unique key and indexes.

The database is damaged as SQLite's table rebuild in 0004 damaged it: the key and indexes
dropped by hand. Games are then doubled as a double tap on Start doubled them, and 0007's
operations must leave one game per attempt, every ledger entry as it was, and the key and
indexes back in place. The damage is made on a database migrated to the end, with 0007's
operations run again after it, because the games are played by today's code, which writes
the columns later migrations add.
"""

from __future__ import annotations

import importlib
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import pytest
from tortoise import Tortoise, connections
from tortoise.exceptions import IntegrityError
from tortoise.migrations.api.migrate import migrate
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

from portal.accounts.models import Person
from portal.content import schema, service
from portal.content.models import Question, Quiz
from portal.db import migrate_database, tortoise_config
from portal.ledger import service as ledger
from portal.ledger.models import Transfer
from portal.play import games
from portal.play.errors import PlayError
from portal.play.models import Game, GameStatus
from portal.settings import PROJECT_ROOT
from tests.conftest import _close_orm, _drop, create_database, require_postgres
from tests.db.introspect import Index, Table, read_postgres, read_sqlite
from tests.factories import make_person

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
RULES = games.Rules(grace_seconds=2, extra_minutes=15, welcome_bonus=100)
GAME_INDEXES = [
    Index("idx_game_deadlin_e0ada6", (("deadline", False),)),
    Index("idx_game_finishe_64b0f8", (("finished_at", False),)),
    Index("idx_game_person__b9bde4", (("person_id", False), ("status", False))),
]


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: nothing migrated yet."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'portal.sqlite3'}"
    else:
        require_postgres()
        name = f"portal_repair_{uuid.uuid4().hex[:12]}"
        yield await create_database(name)
        await _drop(name)
    await _close_orm()


@asynccontextmanager
async def orm(url: str) -> AsyncIterator[None]:
    """The ORM on ``url`` for a block of the test, closed whatever happens in it: a
    connection opened in the test's own context would outlive the fixture's teardown and
    keep the process from exiting."""
    await Tortoise.init(config=tortoise_config(url))
    try:
        yield
    finally:
        await _close_orm()


async def game_table(url: str) -> Table:
    if url.startswith("sqlite://"):
        return read_sqlite(url.removeprefix("sqlite://"))["game"]
    return (await read_postgres(url))["game"]


async def migrated_and_damaged(url: str) -> None:
    await migrate_database(url)
    if url.startswith("postgres"):  # as SQLite's rebuild of the table in 0004 left it
        conn = await asyncpg.connect(url)
        await conn.execute('ALTER TABLE game DROP CONSTRAINT "uid_game_person__204845"')
        for index in GAME_INDEXES:
            await conn.execute(f'DROP INDEX "{index.name}"')
        await conn.close()
    else:
        with closing(sqlite3.connect(url.removeprefix("sqlite://"))) as db:
            for name in ("uid_game_person__204845", *(index.name for index in GAME_INDEXES)):
                db.execute(f'DROP INDEX "{name}"')
            db.commit()


async def repair(url: str) -> None:
    """Migration 0007's operations, run on the damaged database."""
    repair_schema = importlib.import_module("portal.migrations.0007_repair_schema")
    async with orm(url):
        editor = cast(BaseSchemaEditor, SimpleNamespace(client=connections.get("default")))
        for operation in repair_schema.Migration.operations:
            await operation.code(None, editor)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def double_of(game: Game, **changes: Any) -> Game:
    """The second game a double tap on Start made for the same attempt."""
    fields: dict[str, Any] = {
        "person_id": game.person_id, "quiz_id": game.quiz_id, "attempt": game.attempt,
        "question_order": game.question_order, "choice_order": game.choice_order,
        "started_at": game.started_at, "deadline": game.deadline}
    return await Game.create(**(fields | changes))


async def answer_one(person: Person, game: Game, seconds: float) -> None:
    view = await games.current_question(person, game.id, now=at(seconds), rules=RULES)
    assert view is not None
    await games.answer(person, game.id, view.question_id, [0], now=at(seconds + 1), rules=RULES)


async def finish_right(person: Person, game: Game, seconds: float) -> None:
    while (view := await games.current_question(person, game.id, now=at(seconds),
                                               rules=RULES)) is not None:
        fresh = await Game.get(id=game.id)
        question = await Question.get(id=view.question_id)
        order = fresh.choice_order[str(question.id)]
        right = [p for p, authored in enumerate(order) if question.choices[authored]["correct"]]
        seconds += 2
        await games.answer(person, game.id, view.question_id, right, now=at(seconds),
                          rules=RULES)


async def games_of(person: Person) -> list[tuple[int, int, str]]:
    return [(g.id, g.attempt, g.status) for g in
            await Game.filter(person_id=person.id).order_by("id")]


async def test_duplicate_games_are_resolved_without_touching_the_ledger_and_the_key_returns(
        empty_url: str, tmp_path: Path) -> None:
    await migrated_and_damaged(empty_url)
    damaged = await game_table(empty_url)
    assert damaged.unique == [] and damaged.indexes == []

    async with orm(empty_url):
        await service.publish(schema.read_pack(PROJECT_ROOT / "quizzes" / "example"),
                              media_dir=tmp_path, now=T0)
        quiz = await Quiz.get(slug="basics")
        alice, bob, carol, dave, erin, frank = [
            await make_person(f"{n}@example.com")
            for n in ("alice", "bob", "carol", "dave", "erin", "frank")]

        # Alice cheats: she gives up her first game to see an answer, then scores in its double.
        a1 = await games.start(alice, quiz.id, now=T0, rules=RULES)
        a2 = await double_of(a1)
        await answer_one(alice, a1, 0)
        await games.leave(alice, a1.id, now=at(5))
        await finish_right(alice, a2, 10)
        # Bob's two games are both still being played.
        b1 = await games.start(bob, quiz.id, now=T0, rules=RULES)
        b2 = await double_of(b1)
        # Carol gave up her first game; its double is still open.
        c1 = await games.start(carol, quiz.id, now=T0, rules=RULES)
        c2 = await double_of(c1)
        await answer_one(carol, c1, 0)
        await games.leave(carol, c1.id, now=at(5))
        # Frank gave up the double; the first game is still open.
        f1 = await games.start(frank, quiz.id, now=T0, rules=RULES)
        f2 = await double_of(f1)
        await answer_one(frank, f2, 0)
        await games.leave(frank, f2.id, now=at(5))
        # Dave finished and was credited; one double finished with nothing, one is open.
        d1 = await games.start(dave, quiz.id, now=T0, rules=RULES)
        await finish_right(dave, d1, 0)
        d2 = await double_of(d1, status=GameStatus.FINISHED, finished_at=at(60))
        d3 = await double_of(d1)
        # Erin played once, as everybody should.
        e1 = await games.start(erin, quiz.id, now=T0, rules=RULES)
        await finish_right(erin, e1, 0)

        ledger_before = await Transfer.all().order_by("id").values()
        credit = await Transfer.get(key=f"quiz:{quiz.id}:person:{alice.id}")
        assert credit.reference == f"game:{a2.id}" and credit.amount > 0  # the cheat worked

    await repair(empty_url)
    async with orm(empty_url):
        assert await Transfer.all().order_by("id").values() == ledger_before
        assert await ledger.check_invariants() == []
        # The credited game keeps the attempt; its double moves after it, as it was.
        assert await games_of(alice) == [(a1.id, 2, "abandoned"), (a2.id, 1, "finished")]
        assert (await games.summary(alice, a2.id)).credited == credit.amount
        assert (await games.summary(alice, a1.id)).credited == 0
        # Two open games: the first stays open, the double is abandoned.
        assert await games_of(bob) == [(b1.id, 1, "active"), (b2.id, 2, "abandoned")]
        assert (await Game.get(id=b2.id)).finished_at is not None
        assert (await games.start(bob, quiz.id, now=at(30), rules=RULES)).id == b1.id
        # Answers seen in a game given up are not scored in its double.
        assert await games_of(carol) == [(c1.id, 1, "abandoned"), (c2.id, 2, "abandoned")]
        with pytest.raises(PlayError, match="already played"):
            await games.start(carol, quiz.id, now=at(30), rules=RULES)
        assert await games_of(frank) == [(f1.id, 1, "abandoned"), (f2.id, 2, "abandoned")]
        assert await games_of(dave) == [(d1.id, 1, "finished"), (d2.id, 2, "finished"),
                                        (d3.id, 3, "abandoned")]
        assert await games_of(erin) == [(e1.id, 1, "finished")]

        repaired = await game_table(empty_url)
        assert repaired.unique == [("person_id", "quiz_id", "attempt")]
        assert repaired.indexes == GAME_INDEXES
        with pytest.raises(IntegrityError):
            await double_of(e1)


async def test_the_repair_changes_nothing_on_a_database_that_kept_its_key(
        empty_url: str) -> None:
    await migrate(config=tortoise_config(empty_url), target="portal.0006_last_active")
    await _close_orm()
    before = await game_table(empty_url)
    if empty_url.startswith("postgres"):
        assert before.unique and before.indexes  # PostgreSQL kept them
    await migrate_database(empty_url)
    after = await game_table(empty_url)
    assert after.unique == [("person_id", "quiz_id", "attempt")]
    assert after.indexes == GAME_INDEXES
    if empty_url.startswith("postgres"):
        assert after == before
