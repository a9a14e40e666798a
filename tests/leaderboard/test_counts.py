"""The players per score that ranks sum (``score_count``), and per score and hour, minute
and second (``score_hour_count``, ``score_minute_count``, ``score_second_count``): kept by
migrations 0016's, 0020's and 0022's triggers in the statement that changes a score, and
filled by them from the scores there."""

from __future__ import annotations

import importlib
import itertools
from collections import Counter
from datetime import UTC, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import connections

from portal.db import write_transaction
from portal.leaderboard import ranking, standings
from portal.leaderboard.counts import count_problems
from portal.ledger import service as ledger
from portal.ledger.models import Account, SeasonScore
from tests.factories import make_person
from tests.leaderboard.players import MOMENTS, T0

pytestmark = pytest.mark.usefixtures("any_db")
migration = importlib.import_module("portal.migrations.0016_score_counts")
hour_migration = importlib.import_module("portal.migrations.0020_score_hour_counts")
moment_migration = importlib.import_module("portal.migrations.0022_score_moment_counts")
_runs = itertools.count()


async def _rows(sql: str) -> set[tuple[Any, ...]]:
    found = await connections.get("default").execute_query_dict(sql)
    return {tuple(row.values()) for row in found}


async def counts() -> set[tuple[Any, ...]]:
    """(board, points, players) of every score somebody holds."""
    return await _rows("SELECT board, points, players FROM score_count WHERE players > 0")


async def counted_by_hand() -> set[tuple[Any, ...]]:
    """The same, grouped from the scores the boards read."""
    return await _rows(
        "SELECT season, earned, COUNT(*) FROM season_score WHERE earned > 0 "
        "GROUP BY season, earned UNION ALL "
        "SELECT 'all-time', earned_total, COUNT(*) FROM account "
        "WHERE kind = 'person' AND earned_total > 0 GROUP BY earned_total")


async def hour_counts() -> set[tuple[Any, ...]]:
    """(season, points, hour, players) of every score and hour somebody holds."""
    return await _rows("SELECT season, points, hour, players FROM score_hour_count "
                       "WHERE players > 0")


async def hours_counted_by_hand() -> set[tuple[Any, ...]]:
    """The same, counted here from the season scores (the UTC hour as YYYYMMDDHH)."""
    held = Counter((s.season, s.earned, int(s.reached_at.astimezone(UTC).strftime("%Y%m%d%H")))
                   for s in await SeasonScore.filter(earned__gt=0))
    return {(*key, players) for key, players in held.items()}


async def moment_counts() -> set[tuple[Any, ...]]:
    """("minute" or "second", season, points, when, players) of every score and minute,
    and every score and second, somebody holds."""
    return await _rows(
        "SELECT 'minute', season, points, minute, players FROM score_minute_count "
        "WHERE players > 0 UNION ALL "
        "SELECT 'second', season, points, second, players FROM score_second_count "
        "WHERE players > 0")


async def moments_counted_by_hand() -> set[tuple[Any, ...]]:
    """The same, counted here from the season scores (minutes and seconds since 1970)."""
    held: Counter[tuple[Any, ...]] = Counter()
    for s in await SeasonScore.filter(earned__gt=0):
        second = int(s.reached_at.timestamp() // 1)
        held["minute", s.season, s.earned, second // 60] += 1
        held["second", s.season, s.earned, second] += 1
    return {(*key, players) for key, players in held.items()}


async def assert_every_count_is_a_recount() -> None:
    assert await counts() == await counted_by_hand()
    assert await hour_counts() == await hours_counted_by_hand()
    assert await moment_counts() == await moments_counted_by_hand()
    assert await count_problems() == []  # ``portal check`` agrees


@pytest.mark.parametrize("table", ["score_count", "score_hour_count", "score_minute_count",
                                   "score_second_count"])
async def test_portal_check_names_a_count_that_differs_from_the_scores(table: str) -> None:
    people = [await make_person(f"x{i}@example.com") for i in range(2)]
    for i, person in enumerate(people):
        await ledger.earn(await ledger.account_of_person(person.id), amount=100,
                          reason="Quiz", reference="q", key=f"x{i}", now=T0)
    assert await count_problems() == []
    conn = connections.get("default")
    await conn.execute_query(  # a count changed with its score left alone
        f"UPDATE {table} SET players = players - 1 WHERE id = "  # noqa: S608
        f"(SELECT MIN(id) FROM {table} WHERE players = 2)")
    problems = await count_problems()
    assert [p.table for p in problems] == [table]
    assert problems[0].message.startswith("2 row(s) differ")
    assert ", 100, " in problems[0].message and ", 1;" in problems[0].message


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(1, 3).map(lambda n: n * 25),
                          st.integers(0, 2), st.sampled_from(MOMENTS)),
                min_size=1, max_size=25))
async def test_the_counts_follow_every_earning_in_every_month(
    earnings: list[tuple[int, int, int, timedelta]],
) -> None:
    run = next(_runs)
    people = [await make_person(f"c{run}p{i}@example.com") for i in range(5)]
    accounts = [await ledger.account_of_person(p.id) for p in people]
    for n, (who, amount, month, after) in enumerate(earnings):
        # Three months, each at moments on both sides of an hour, a minute and a second;
        # equal amounts on purpose, so scores are shared within each level and across,
        # and counts grow.
        await ledger.earn(accounts[who], amount=amount, reason="Quiz", reference="q",
                          key=f"c{run}:{n}", now=T0 + timedelta(days=31 * month) + after)
    await assert_every_count_is_a_recount()


async def test_a_score_corrected_or_removed_by_hand_moves_its_counts_too() -> None:
    people = [await make_person(f"h{i}@example.com") for i in range(3)]
    for i, person in enumerate(people):
        await ledger.earn(await ledger.account_of_person(person.id), amount=100 * (i + 1),
                          reason="Quiz", reference="q", key=f"h{i}", now=T0)
    first = await ledger.account_of_person(people[0].id)
    async with write_transaction() as conn:  # a correction, made as the ledger keeps both
        await SeasonScore.filter(account_id=first.id).using_db(conn).update(earned=300)
        await Account.filter(id=first.id).using_db(conn).update(earned_total=300)
    assert await counts() >= {("2026-12", 300, 2), ("all-time", 300, 2)}
    await assert_every_count_is_a_recount()
    async with write_transaction() as conn:
        await SeasonScore.filter(account_id=first.id).using_db(conn).delete()
        await Account.filter(id=first.id).using_db(conn).update(earned_total=0)
    await assert_every_count_is_a_recount()
    assert ("2026-12", 300, 1) in await counts()
    assert await hour_counts() == await hours_counted_by_hand() == {
        ("2026-12", 200, 2026120100, 1), ("2026-12", 300, 2026120100, 1)}


async def test_a_moment_moved_by_hand_moves_its_hour_count() -> None:
    people = [await make_person(f"k{i}@example.com") for i in range(3)]
    for i, person in enumerate(people):
        await ledger.earn(await ledger.account_of_person(person.id), amount=100,
                          reason="Quiz", reference="q", key=f"k{i}",
                          now=T0 + timedelta(minutes=10 * i))
    first, second = [(await ledger.account_of_person(p.id)).id for p in people[:2]]
    assert await hour_counts() == {("2026-12", 100, 2026120100, 3)}
    moves = [(first, T0 + timedelta(minutes=59, seconds=59, microseconds=999_999)),
             (first, T0 + timedelta(hours=1)),  # the next hour's very first moment
             (second, T0 + timedelta(days=2, hours=23, minutes=30)),
             (second, T0 + timedelta(minutes=5)),
             # Within its second, to the next second, the next minute: moved or not.
             (second, T0 + timedelta(minutes=5, microseconds=999_999)),
             (second, T0 + timedelta(minutes=5, seconds=1)),
             (second, T0 + timedelta(minutes=6, seconds=1))]
    for account_id, moment in moves:
        async with write_transaction() as conn:
            await SeasonScore.filter(account_id=account_id).using_db(conn).update(
                reached_at=moment)
        assert await hour_counts() == await hours_counted_by_hand()
        assert await moment_counts() == await moments_counted_by_hand()
    assert await hour_counts() == {("2026-12", 100, 2026120100, 2),
                                   ("2026-12", 100, 2026120101, 1)}
    async with write_transaction() as conn:  # another month, and a score back to nothing
        await SeasonScore.filter(account_id=first).using_db(conn).update(season="2026-11")
        await SeasonScore.filter(account_id=second).using_db(conn).update(earned=0)
    assert await hour_counts() == await hours_counted_by_hand() == {
        ("2026-11", 100, 2026120101, 1), ("2026-12", 100, 2026120100, 1)}
    assert await moment_counts() == await moments_counted_by_hand()


async def test_the_migration_fills_the_counts_from_the_scores_already_there() -> None:
    people = [await make_person(f"m{i}@example.com") for i in range(4)]
    for i, person in enumerate(people):
        account = await ledger.account_of_person(person.id)
        for month in range(i % 2 + 1):
            await ledger.earn(account, amount=50 + 50 * (i // 2), reason="Quiz",
                              reference="q", key=f"m{i}:{month}",
                              now=T0 + timedelta(days=31 * month))
    expected = await counted_by_hand()
    assert len(expected) > 3
    async with write_transaction() as conn:
        await conn.execute_script("DELETE FROM score_count")
        await migration.backfill(conn)
    assert await counts() == expected


async def test_migration_0020_fills_the_hour_counts_from_the_scores_already_there() -> None:
    people = [await make_person(f"u{i}@example.com") for i in range(6)]
    for i, person in enumerate(people):
        await ledger.earn(await ledger.account_of_person(person.id), amount=50 * (i % 2 + 1),
                          reason="Quiz", reference="q", key=f"u{i}",
                          now=T0 + timedelta(minutes=40 * i, microseconds=i))
    expected = await hours_counted_by_hand()
    assert len(expected) > 3
    async with write_transaction() as conn:
        await conn.execute_script("DELETE FROM score_hour_count")
        await hour_migration.backfill(conn)
    assert await hour_counts() == expected


async def test_migration_0022_fills_the_minute_and_second_counts_from_the_scores() -> None:
    people = [await make_person(f"w{i}@example.com") for i in range(8)]
    for i, person in enumerate(people):
        # Pairs in one second, in one minute, in one hour; two scores.
        await ledger.earn(await ledger.account_of_person(person.id), amount=50 * (i // 4 + 1),
                          reason="Quiz", reference="q", key=f"w{i}",
                          now=T0 + MOMENTS[i // 2 * 4 % len(MOMENTS)] + timedelta(
                              microseconds=i))
    expected = await moments_counted_by_hand()
    assert {2, 4} <= {row[4] for row in expected}
    async with write_transaction() as conn:
        await conn.execute_script("DELETE FROM score_minute_count")
        await conn.execute_script("DELETE FROM score_second_count")
        await moment_migration.backfill(conn)
    assert await moment_counts() == expected


async def test_a_frozen_month_gives_each_player_the_rank_it_froze() -> None:
    people = [await make_person(f"z{i}@example.com") for i in range(12)]
    for i, person in enumerate(people):
        await ledger.earn(await ledger.account_of_person(person.id), amount=10 * (i % 4 + 1),
                          reason="Quiz", reference="q", key=f"z{i}",
                          now=T0 + timedelta(minutes=i))
    later = T0 + timedelta(days=40)
    live = [await ranking.board(p, kind="season", season="2026-12", now=later)
            for p in people]
    assert await standings.freeze_season("2026-12", now=later)
    frozen = [await ranking.board(p, kind="season", season="2026-12", now=later)
              for p in people]
    assert all(board.frozen for board in frozen)
    assert [b.me.rank if b.me else None for b in frozen] == [
        b.me.rank if b.me else None for b in live]
    assert sorted(b.me.rank for b in frozen if b.me) == list(range(1, 13))
