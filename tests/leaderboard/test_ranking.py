"""Player boards: ranks against a brute-force count from the ledger, ties, neighbours, filters."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.leaderboard import ranking
from portal.ledger import service as ledger
from portal.ledger.models import Transfer, TransferKind
from tests.factories import make_company, make_outlet, make_person, make_region
from tests.leaderboard.players import T0, alice_and_bob

pytestmark = pytest.mark.usefixtures("any_db")
_runs = itertools.count()


def brute_force(transfers: list[Transfer], *, season: str | None) -> list[int]:
    """Account ids in rank order, computed from the earn transfers alone."""
    earned: dict[int, int] = {}
    reached: dict[int, datetime] = {}
    for t in sorted(transfers, key=lambda t: t.id):
        if t.kind != TransferKind.EARN or (season and t.season != season):
            continue
        earned[t.target_id] = earned.get(t.target_id, 0) + t.amount
        reached[t.target_id] = t.created_at
    return sorted(earned, key=lambda a: (-earned[a], reached[a], a))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(1, 4).map(lambda n: n * 50),
                          st.integers(0, 40).map(lambda n: n * 5)), min_size=1, max_size=30))
async def test_ranks_match_a_brute_force_count_from_the_ledger(
    earnings: list[tuple[int, int, int]],
) -> None:
    run = next(_runs)
    people = [await make_person(f"r{run}p{i}@example.com") for i in range(6)]
    accounts = [await ledger.account_of_person(p.id) for p in people]
    for n, (who, amount, minutes) in enumerate(earnings):
        # Equal amounts on purpose (multiples of 50), so ties happen, in one hour or
        # across hours (some 3 hours).
        await ledger.earn(accounts[who], amount=amount, reason="Quiz", reference="q",
                          key=f"r{run}:{n}", now=T0 + timedelta(minutes=minutes, seconds=n))
    mine = {a.id for a in accounts}
    transfers = [t for t in await Transfer.all() if t.target_id in mine]
    for kind, season in (("season", "2026-12"), ("all-time", None)):
        expected = brute_force(transfers, season=season)
        for person, account in zip(people, accounts, strict=True):
            board = await ranking.board(person, kind=kind, season=season, size=500,
                                       now=T0 + timedelta(days=1))
            ranked = [row.account_id for row in board.page if row.account_id in mine]
            assert ranked == expected
            if account.id in expected:
                assert board.me is not None
                others_ahead = [r for r in board.page if r.account_id not in mine
                                and r.rank < board.me.rank]
                assert board.me.rank == expected.index(account.id) + 1 + len(others_ahead)
            else:
                assert board.me is None


async def test_a_spend_or_a_burn_never_changes_a_rank_and_an_earn_moves_it() -> None:
    alice, bob = await alice_and_bob()
    account = await ledger.account_of_person(alice.id)
    await ledger.spend(account, amount=250, reason="Gift", reference="c", key="s",
                       now=T0 + timedelta(minutes=5))
    await ledger.burn(account, amount=50, reason="Idle", reference="b", key="b",
                      now=T0 + timedelta(minutes=6))
    board = await ranking.board(bob, kind="season", now=T0 + timedelta(days=1))
    assert [row.name for row in board.top] == ["Test", "Test"] and board.me is not None
    assert board.me.rank == 2
    bob_account = await ledger.account_of_person(bob.id)
    await ledger.earn(bob_account, amount=101, reason="Quiz", reference="q", key="more",
                      now=T0 + timedelta(minutes=7))
    board = await ranking.board(bob, kind="season", now=T0 + timedelta(days=1))
    assert board.me is not None and board.me.rank == 1


async def test_a_tie_goes_to_whoever_reached_the_score_first() -> None:
    alice, bob = await alice_and_bob()
    bob_account = await ledger.account_of_person(bob.id)
    await ledger.earn(bob_account, amount=100, reason="Quiz", reference="q", key="tie",
                      now=T0 + timedelta(minutes=9))
    board = await ranking.board(bob, kind="season", now=T0 + timedelta(days=1))
    assert board.me is not None and board.me.rank == 2  # 300 each; Alice got there first


async def test_the_viewer_sees_their_neighbours_deep_down_the_board() -> None:
    people = [await make_person(f"n{i}@example.com") for i in range(30)]
    for i, person in enumerate(people):
        account = await ledger.account_of_person(person.id)
        await ledger.earn(account, amount=1000 - i * 10, reason="Quiz", reference="q",
                          key=f"n{i}", now=T0)
    board = await ranking.board(people[20], kind="season", now=T0 + timedelta(days=1))
    assert board.me is not None and board.me.rank == 21
    assert [row.rank for row in board.around_me] == list(range(16, 27))
    assert [row.rank for row in board.top] == list(range(1, 11))


async def test_a_filtered_board_ranks_the_region_or_outlet_among_themselves() -> None:
    company, north, south = await make_company(), await make_region(), await make_region()
    here, there = await make_outlet(company, north), await make_outlet(company, south)
    people = [await make_person(f"f{i}@example.com", outlet=here if i % 2 else there)
              for i in range(8)]
    for i, person in enumerate(people):
        account = await ledger.account_of_person(person.id)
        await ledger.earn(account, amount=800 - i * 50, reason="Quiz", reference="q",
                          key=f"f{i}", now=T0)
    viewer = people[5]  # sixth of everyone, third in their outlet and region
    everyone = await ranking.board(viewer, kind="season", now=T0 + timedelta(days=1))
    assert everyone.me is not None and everyone.me.rank == 6
    for filters in (ranking.Filters(outlet_id=here.id), ranking.Filters(region_id=north.id)):
        board = await ranking.board(viewer, kind="season", filters=filters,
                                   now=T0 + timedelta(days=1))
        assert [row.account_id for row in board.top] == [
            (await ledger.account_of_person(p.id)).id for p in people[1::2]]
        assert board.me is not None and board.me.rank == 3
        assert [row.rank for row in board.around_me] == [1, 2, 3, 4]
    elsewhere = await ranking.board(viewer, kind="season", filters=ranking.Filters(
        region_id=south.id), now=T0 + timedelta(days=1))
    assert elsewhere.me is None and len(elsewhere.top) == 4
