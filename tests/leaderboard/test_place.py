"""A player's place on this month's board after a game: the rank, the places it moved,
and the points to the next place."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import connections

from portal.leaderboard import place, ranking, scores
from portal.ledger import service as ledger
from tests.factories import make_person
from tests.leaderboard.players import MOMENTS, T0, alice_and_bob

pytestmark = pytest.mark.usefixtures("any_db")
_runs = itertools.count()


async def test_points_that_pass_two_players_move_a_player_up_two_places() -> None:
    alice, bob = await alice_and_bob()  # 300 and 200
    carol = await make_person("carol@example.com")
    account = await ledger.account_of_person(carol.id)
    await ledger.earn(account, amount=100, reason="Quiz", reference="q", key="c1",
                      now=T0 + timedelta(minutes=3))
    before = await ranking.season_place(carol, season="2026-12")
    assert before is not None and (before.rank, before.to_next) == (3, 101)
    await ledger.earn(account, amount=250, reason="Quiz", reference="q", key="c2",
                      now=T0 + timedelta(minutes=4))
    place = await ranking.season_place(carol, season="2026-12", gained=250)
    assert place is not None
    assert (place.rank, place.previous_rank, place.places_up, place.points) == (1, 3, 2, 350)
    assert place.to_next is None  # at the top


async def test_first_points_of_the_month_put_a_player_on_the_board() -> None:
    await alice_and_bob()
    carol = await make_person("carol@example.com")
    assert await ranking.season_place(carol, season="2026-12") is None
    account = await ledger.account_of_person(carol.id)
    await ledger.earn(account, amount=200, reason="Quiz", reference="q", key="c1",
                      now=T0 + timedelta(minutes=5))
    place = await ranking.season_place(carol, season="2026-12", gained=200)
    assert place is not None
    # Level with Bob, who got there first: one point more passes him.
    assert (place.rank, place.previous_rank, place.places_up, place.to_next) == (3, None, 0, 1)


async def test_points_that_pass_nobody_keep_the_place() -> None:
    alice, bob = await alice_and_bob()
    account = await ledger.account_of_person(bob.id)
    await ledger.earn(account, amount=50, reason="Quiz", reference="q", key="b2",
                      now=T0 + timedelta(minutes=6))
    place = await ranking.season_place(bob, season="2026-12", gained=50)
    assert place is not None
    assert (place.rank, place.previous_rank, place.places_up, place.to_next) == (2, 2, 0, 51)


async def test_the_board_says_the_points_to_the_next_place() -> None:
    alice, bob = await alice_and_bob()
    board = await ranking.board(bob, kind="season", season="2026-12", now=T0)
    assert board.to_next == 101
    top = await ranking.board(alice, kind="season", season="2026-12", now=T0)
    assert top.to_next is None


def _by_side(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(sorted(row.items())) for row in rows)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 11), st.integers(1, 3).map(lambda n: n * 50),
                          st.sampled_from(MOMENTS)), min_size=1, max_size=30),
       st.sampled_from((None, 50, 100)))
async def test_the_hand_written_place_reads_what_the_built_one_reads(
    earnings: list[tuple[int, int, timedelta]], gained: int | None,
) -> None:
    # The live month's place is hand-written (place.statement); any other board's is
    # built (scores.place), which counts the viewer's own hour row by row. Same rows,
    # ranks and neighbours at every tie-breaker: equal scores reached at the same moment,
    # in the same hour, minute or second or not, and at the floor.
    run = next(_runs)
    people = [await make_person(f"hw{run}p{i}@example.com") for i in range(12)]
    accounts = [(await ledger.account_of_person(p.id)).id for p in people]
    for n, (who, amount, after) in enumerate(earnings):
        await ledger.earn(await ledger.account_of_person(people[who].id), amount=amount,
                          reason="Quiz", reference="q", key=f"hw{run}:{n}", now=T0 + after)
    conn = connections.get("default")
    for account in accounts:
        for above, below in ((5, 5), (1, 0)):
            built = await conn.execute_query_dict(*scores.sql(scores.place(
                scores.season("2026-12"), account, above=above, below=below, gained=gained),
                conn))
            written = await conn.execute_query_dict(*place.statement(
                conn, "2026-12", account, above=above, below=below, gained=gained))
            assert _by_side(written) == _by_side(built)
