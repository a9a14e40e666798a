"""What play tells other capabilities about who has been playing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypika_tortoise import Query, Table
from pypika_tortoise.queries import QueryBuilder
from tortoise import connections

from portal.accounts.models import Person
from portal.content.models import Quiz
from portal.play import activity
from portal.play.models import Game, GameStatus
from tests.factories import make_person, publish_live_copy

pytestmark = pytest.mark.usefixtures("any_db")
START = datetime(2026, 12, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)
_attempts = itertools.count(1)


async def played(person: Person, status: GameStatus, finished_at: datetime | None) -> None:
    """A game row as play leaves it, without playing it through."""
    quiz = await Quiz.first()
    assert quiz is not None
    at = finished_at or START
    await Game.create(person=person, quiz=quiz, attempt=next(_attempts), status=status,
                      question_order=[], choice_order={}, started_at=at - timedelta(minutes=5),
                      deadline=at + timedelta(hours=1), finished_at=finished_at)


@pytest.fixture
async def quiz(any_db: str, tmp_path: Path) -> None:
    await publish_live_copy("example", tmp_path / "pack", tmp_path / "media")


async def rows(query: QueryBuilder) -> list[dict[str, object]]:
    conn = connections.get("default")
    sql, params = query.get_parameterized_sql(conn.query_class.SQL_CONTEXT)
    return list(await conn.execute_query_dict(sql, params))


@pytest.mark.usefixtures("quiz")
async def test_players_are_those_who_finished_a_game_within_the_month() -> None:
    first, last, twice, before, after, gave_up, playing = [
        await make_person(f"{name}@example.com") for name in
        ("first", "last", "twice", "before", "after", "gave-up", "playing")]
    await played(first, GameStatus.FINISHED, START)  # the first moment counts
    await played(last, GameStatus.FINISHED, END - timedelta(microseconds=1))
    await played(twice, GameStatus.FINISHED, START + timedelta(days=2))
    await played(twice, GameStatus.FINISHED, START + timedelta(days=3))
    await played(before, GameStatus.FINISHED, START - timedelta(microseconds=1))
    await played(after, GameStatus.FINISHED, END)  # the next month's first moment
    await played(gave_up, GameStatus.ABANDONED, START + timedelta(days=1))
    await played(playing, GameStatus.ACTIVE, None)
    found = await rows(activity.players_between(start=START, end=END))
    assert sorted(int(str(r["person_id"])) for r in found) == sorted(
        [first.id, last.id, twice.id])


@pytest.mark.usefixtures("quiz")
async def test_games_finished_counts_each_persons_finished_games_in_a_subquery() -> None:
    alice, bob = await make_person("alice@example.com"), await make_person("bob@example.com")
    for day in (1, 2, 40):
        await played(alice, GameStatus.FINISHED, START + timedelta(days=day))
    await played(bob, GameStatus.ABANDONED, START + timedelta(days=1))
    person = Table("person", alias="p")
    query = Query.from_(person).select(
        person.email, activity.games_finished(person.id, start=START, end=END).as_("games"))
    counted = {str(r["email"]): int(str(r["games"])) for r in await rows(query)}
    assert counted == {"alice@example.com": 2, "bob@example.com": 0}
