"""Seasons on boards: which month a board may show, freezing (the job's alone), badges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.leaderboard import ranking, standings
from portal.leaderboard.models import SeasonFreeze, SeasonStanding
from portal.ledger import service as ledger
from tests.factories import make_company, make_outlet, make_person, make_region
from tests.leaderboard.players import T0, alice_and_bob

pytestmark = pytest.mark.usefixtures("any_db")
NEXT_MONTH = T0 + timedelta(days=40)


async def test_a_finished_season_is_frozen_once_whoever_asks() -> None:
    alice, _ = await alice_and_bob()
    later = T0 + timedelta(days=40)
    assert await standings.freeze_season("2026-12", now=later) is True
    assert await standings.freeze_season("2026-12", now=later) is False
    account = await ledger.account_of_person(alice.id)
    # Points booked into the old season afterwards cannot change the frozen standings.
    await ledger.earn(account, amount=5000, reason="Late", reference="q", key="late",
                      now=T0 + timedelta(days=2))
    board = await ranking.board(alice, kind="season", season="2026-12", now=later)
    assert board.frozen and board.me is not None and board.me.points == 300
    assert await standings.badges(alice) == [("2026-12", 1)]


async def test_reading_a_finished_month_never_freezes_it() -> None:
    alice, _ = await alice_and_bob()
    board = await ranking.board(alice, kind="season", season="2026-12", now=NEXT_MONTH)
    assert board.frozen and board.me is not None and board.me.rank == 1
    assert not await SeasonFreeze.exists(season="2026-12")
    assert await SeasonStanding.all().count() == 0


async def test_last_month_is_offered_before_it_is_frozen_and_older_ones_once_frozen() -> None:
    assert await standings.past_seasons(now=NEXT_MONTH) == []  # no scores: nothing to show
    alice, _ = await alice_and_bob()
    assert await standings.past_seasons(now=NEXT_MONTH) == ["2026-12"]
    await standings.freeze_season("2026-12", now=NEXT_MONTH)
    assert await standings.past_seasons(now=NEXT_MONTH) == ["2026-12"]
    two_months_on = NEXT_MONTH + timedelta(days=31)
    assert await standings.past_seasons(now=two_months_on) == ["2026-12"]
    await ledger.earn(await ledger.account_of_person(alice.id), amount=5, reason="Quiz",
                      reference="q", key="jan", now=NEXT_MONTH)
    assert await standings.past_seasons(now=two_months_on) == ["2027-01", "2026-12"]


async def test_a_finished_month_reads_the_same_before_and_after_the_freeze() -> None:
    company, north, south = await make_company(), await make_region(), await make_region()
    here, there = await make_outlet(company, north), await make_outlet(company, south)
    people = [await make_person(f"m{i}@example.com", outlet=here if i % 3 else there)
              for i in range(24)]
    for i, person in enumerate(people):
        account = await ledger.account_of_person(person.id)
        # Equal scores reached at equal and at different times: every tie-break is used.
        await ledger.earn(account, amount=100 * (1 + i % 4), reason="Quiz", reference="q",
                          key=f"m{i}", now=T0 + timedelta(minutes=i // 5))
    viewers = [people[0], people[13], people[23],
               await make_person("never-played@example.com", outlet=here)]
    filters = [ranking.Filters(), ranking.Filters(outlet_id=here.id),
               ranking.Filters(region_id=south.id)]

    async def boards() -> list[ranking.Board]:
        return [await ranking.board(viewer, kind="season", season="2026-12", filters=f,
                                    page=page, size=7, now=NEXT_MONTH)
                for viewer in viewers for f in filters for page in (1, 2)]

    live = await boards()
    assert await standings.freeze_season("2026-12", now=NEXT_MONTH)
    frozen = await boards()
    assert frozen == live
    assert await SeasonStanding.filter(season="2026-12").count() == 24
    middle = live[6]  # people[13] on the whole board, page 1
    assert middle.me is not None and len(middle.around_me) == 11


@pytest.mark.parametrize("raw", ["2026-13", "2026-00", "2027-01", "0000-01", "2026-12\n",
                                 "٢٠٢٦-12", "2026-1", "", "2026-12-01"])
def test_a_season_must_be_a_past_or_the_current_month(raw: str) -> None:
    with pytest.raises(standings.BadSeason):
        standings.parse_season(raw, now=T0)


def test_no_season_named_is_the_current_one_and_a_past_one_is_kept() -> None:
    assert standings.parse_season(None, now=T0 + timedelta(days=3)) == "2026-12"
    assert standings.parse_season("2019-02", now=T0) == "2019-02"
