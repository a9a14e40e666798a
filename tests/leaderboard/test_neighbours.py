"""A player's place with their neighbours (``scores.place``, one statement): the rows just
above and below match a brute-force ordering of the ledger, at ties (same score, in the
same hour or not, and at the same moment) and at both ends of the board, on every kind of
board."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.accounts.models import Person
from portal.leaderboard import ranking, standings
from portal.ledger import service as ledger
from portal.ledger.models import Transfer
from tests.factories import make_company, make_outlet, make_person
from tests.leaderboard.players import MOMENTS, T0
from tests.leaderboard.test_ranking import brute_force

pytestmark = pytest.mark.usefixtures("any_db")
_runs = itertools.count()
LATER = T0 + timedelta(days=1)


def window(expected: list[int], account_id: int) -> list[tuple[int, int]]:
    """(rank, account id) of the viewer and up to NEIGHBOURS on each side, brute force."""
    at = expected.index(account_id)
    low = max(0, at - ranking.NEIGHBOURS)
    return [(n + 1, a) for n, a in enumerate(expected)][low:at + ranking.NEIGHBOURS + 1]


async def players(count: int, tag: str) -> tuple[list[Person], list[int]]:
    people = [await make_person(f"{tag}{i}@example.com") for i in range(count)]
    return people, [(await ledger.account_of_person(p.id)).id for p in people]


async def earn(person: Person, amount: int, key: str, minutes: int = 0, *,
               after: timedelta | None = None) -> None:
    """``person`` earns ``amount``, ``minutes`` (or exactly ``after``) past T0."""
    await ledger.earn(await ledger.account_of_person(person.id), amount=amount,
                      reason="Quiz", reference="q", key=key,
                      now=T0 + (timedelta(minutes=minutes) if after is None else after))


def seen(board: ranking.Board) -> list[tuple[int, int]]:
    return [(row.rank, row.account_id) for row in board.around_me]


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 13), st.integers(1, 3).map(lambda n: n * 50),
                          st.sampled_from(MOMENTS)), min_size=1, max_size=40))
async def test_neighbours_match_a_brute_force_order_of_the_ledger(
    earnings: list[tuple[int, int, timedelta]],
) -> None:
    run = next(_runs)
    people, accounts = await players(14, f"nb{run}p")
    for n, (who, amount, after) in enumerate(earnings):
        # Few amounts and few moments on purpose: equal scores reached at the same moment
        # are common, so every tie-breaker (the moment, then the account) is exercised,
        # within and across each hour, minute and second (a rank counts each level apart).
        await earn(people[who], amount, f"nb{run}:{n}", after=after)
    transfers = await Transfer.all()  # earlier examples' players are on the board too
    for kind, season in (("season", "2026-12"), ("all-time", None)):
        expected = brute_force(transfers, season=season)
        for person, account in zip(people, accounts, strict=True):
            board = await ranking.board(person, kind=kind, season=season, now=LATER)
            if account not in expected:
                assert board.me is None and board.around_me == [] and board.to_next is None
                continue
            assert seen(board) == window(expected, account)
            assert board.me is not None and board.me.is_me
            assert [row.is_me for row in board.around_me].count(True) == 1
            if kind == "season":
                place = await ranking.season_place(person, season="2026-12")
                assert place is not None
                assert (place.rank, place.to_next) == (board.me.rank, board.to_next)


async def test_ties_at_the_same_moment_go_to_the_older_account_on_both_sides() -> None:
    people, accounts = await players(13, "tie")
    for i, person in enumerate(people):
        await earn(person, 100, f"tie{i}")  # all 100 points, all at T0
    board = await ranking.board(people[6], kind="season", now=LATER)
    assert seen(board) == [(n + 1, accounts[n]) for n in range(1, 12)]
    first = await ranking.board(people[0], kind="season", now=LATER)
    assert seen(first) == [(n + 1, accounts[n]) for n in range(6)] and first.to_next is None
    last = await ranking.board(people[12], kind="season", now=LATER)
    assert seen(last) == [(n + 1, accounts[n]) for n in range(7, 13)]
    assert last.to_next == 1  # one more point passes everyone who got there at once


async def test_neighbours_across_every_tie_breaker_at_once() -> None:
    people, accounts = await players(9, "mix")
    # 200 early; 100 early twice (same moment: by account); the viewer's 100 later;
    # 100 later still; 100 at the viewer's moment by a newer account; 50s below.
    plan = [(200, 0), (100, 1), (100, 1), (100, 5), (100, 5), (100, 9), (50, 0), (50, 0),
            (50, 2)]
    for i, (amount, minute) in enumerate(plan):
        await earn(people[i], amount, f"mix{i}", minute)
    board = await ranking.board(people[3], kind="season", now=LATER)
    assert board.me is not None and board.me.rank == 4
    assert seen(board) == [(n + 1, accounts[n]) for n in range(9)]
    assert board.to_next == 1


async def test_ties_within_and_across_hours_rank_by_the_moment_to_the_microsecond() -> None:
    people, accounts = await players(12, "hour")
    # All on 100 points: the hour before, both sides of 01:00 (to the microsecond), the
    # hour's first moment twice (by account), within the hour, the next day; 50s below.
    hour, tick = timedelta(hours=1), timedelta(microseconds=1)
    plan = [(100, timedelta()), (100, hour - tick), (100, hour), (100, hour),
            (100, hour + tick), (100, 1.5 * hour), (100, 2 * hour - tick), (100, 24 * hour),
            (50, timedelta()), (50, hour), (50, hour + tick), (150, 1.5 * hour)]
    for i, (amount, after) in enumerate(plan):
        await earn(people[i], amount, f"hour{i}", after=after)
    expected = brute_force(await Transfer.all(), season="2026-12")
    assert expected == [accounts[i] for i in (11, *range(11))]
    for person, account in zip(people, accounts, strict=True):
        board = await ranking.board(person, kind="season", now=LATER)
        assert seen(board) == window(expected, account)
        place = await ranking.season_place(person, season="2026-12")
        assert place is not None and place.rank == expected.index(account) + 1


async def test_ties_within_and_across_minutes_and_seconds_rank_by_the_moment() -> None:
    people, accounts = await players(14, "sec")
    # All on 100 points, in one hour: both sides of a second, of a minute, of the next
    # second (to the microsecond); a second's first moment twice (by account); the
    # minute's last second; a later minute; 50s below, 150 above, in the same seconds.
    second, minute, tick = timedelta(seconds=1), timedelta(minutes=1), timedelta(microseconds=1)
    plan = [(100, second - tick), (100, second), (100, second), (100, second + tick),
            (100, 2 * second - tick), (100, 2 * second), (100, minute - second),
            (100, minute - tick), (100, minute), (100, minute + tick),
            (100, 59 * minute + 59 * second), (50, second), (50, second + tick),
            (150, second + tick)]
    for i, (amount, after) in enumerate(reversed(plan)):  # later moments earned first
        await earn(people[len(plan) - 1 - i], amount, f"sec{i}", after=after)
    expected = brute_force(await Transfer.all(), season="2026-12")
    assert expected == [accounts[i] for i in (13, *range(13))]
    for person, account in zip(people, accounts, strict=True):
        board = await ranking.board(person, kind="season", now=LATER)
        assert seen(board) == window(expected, account)
        place = await ranking.season_place(person, season="2026-12")
        assert place is not None and place.rank == expected.index(account) + 1


async def test_the_place_before_some_points_ranks_the_old_score_in_its_own_hour() -> None:
    people, _ = await players(6, "was")
    for i, minutes in enumerate((0, 30, 70, 130, 200)):  # 100 each, over four hours
        await earn(people[i], 100, f"was{i}", minutes)
    await earn(people[5], 60, "was5a", 10)
    await earn(people[5], 40, "was5b", 100)  # 100 at 01:40: 4th, after 01:10
    await earn(people[5], 50, "was5c", 100)  # 150, still at 01:40
    place = await ranking.season_place(people[5], season="2026-12", gained=50)
    assert place is not None and (place.rank, place.previous_rank) == (1, 4)


async def test_the_ends_of_the_board_and_a_board_of_one() -> None:
    people, accounts = await players(4, "end")
    await earn(people[0], 80, "end0")
    alone = await ranking.board(people[0], kind="season", now=LATER)
    assert seen(alone) == [(1, accounts[0])] and alone.to_next is None
    for i, person in enumerate(people[1:], start=1):
        await earn(person, 80 - 10 * i, f"end{i}")
    top = await ranking.board(people[0], kind="all-time", now=LATER)
    assert seen(top) == [(n + 1, accounts[n]) for n in range(4)]
    bottom = await ranking.board(people[3], kind="all-time", now=LATER)
    assert seen(bottom) == [(n + 1, accounts[n]) for n in range(4)]
    assert bottom.to_next == 11
    nobody = await make_person("nobody@example.com")
    off = await ranking.board(nobody, kind="season", now=LATER)
    assert off.me is None and off.around_me == [] and len(off.top) == 4


async def test_a_frozen_month_and_a_filtered_board_show_the_same_neighbours() -> None:
    company = await make_company()
    here, there = await make_outlet(company), await make_outlet(company)
    people = [await make_person(f"fz{i}@example.com", outlet=here if i % 3 else there)
              for i in range(15)]
    for i, person in enumerate(people):
        await earn(person, 10 * (i % 5 + 1), f"fz{i}", i % 2)
    later = T0 + timedelta(days=40)
    live = [await ranking.board(p, kind="season", season="2026-12", now=later) for p in people]
    assert await standings.freeze_season("2026-12", now=later)
    for person, before in zip(people, live, strict=True):
        frozen = await ranking.board(person, kind="season", season="2026-12", now=later)
        assert frozen.frozen and seen(frozen) == seen(before)
    viewer = people[4]  # in the outlet "here"
    everyone = await ranking.board(viewer, kind="season", now=LATER)
    outlet = await ranking.board(viewer, kind="season", now=LATER,
                                 filters=ranking.Filters(outlet_id=here.id))
    order = [row.account_id for row in everyone.page]
    kept = [a for a in order
            if a in {(await ledger.account_of_person(p.id)).id for p in people[1::3]
                     + people[2::3]}]
    assert outlet.me is not None
    assert seen(outlet) == window(kept, outlet.me.account_id)
