"""Bids and closes raced across processes, on SQLite and PostgreSQL: one leader, every
other hold released exactly once, the held total equal to the leader's bid, one
settlement however many closers, and a bid racing the close either in before the
settlement or refused."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from portal.auctions import service as auctions
from portal.auctions.models import Bid, Lot, LotStatus
from portal.jobs.scheduler import JOBS, run_job
from portal.ledger import service as ledger
from portal.ledger.models import Account, Hold, HoldStatus, Transfer, TransferKind
from tests.auctions.lots import NOW, SETTINGS, lot, player
from tests.racing import race

pytestmark = pytest.mark.usefixtures("any_db")


async def run_workers(db_url: str, *calls: dict[str, Any]) -> list[dict[str, Any]]:
    lines = await race("tests.auctions.bid_worker", *([db_url, json.dumps(c)] for c in calls))
    return [json.loads(line) for line in lines]


def at(moment: datetime) -> str:
    return moment.isoformat()


async def assert_one_leader_holding_exactly_the_high_bid(lot_id: int, bidders: list[int]
                                                         ) -> Lot:
    settled = await Lot.get(id=lot_id)
    accepted = await Bid.filter(lot_id=lot_id).order_by("id")
    assert accepted, "no bid was accepted"
    # Every accepted bid beat the one before it.
    assert [b.amount for b in accepted] == sorted(b.amount for b in accepted)
    assert len({b.amount for b in accepted}) == len(accepted)
    top = accepted[-1]
    assert (settled.high_bid, settled.leader_id) == (top.amount, top.person_id)
    assert settled.bids_count == len(accepted)
    holds = {h.id: h for h in await Hold.filter(target_id=settled.account_id)}
    assert set(holds) == {b.hold_id for b in accepted}
    open_holds = [h for h in holds.values() if h.status == HoldStatus.OPEN]
    assert [h.id for h in open_holds] == [top.hold_id]
    assert sum(h.status == HoldStatus.RELEASED for h in holds.values()) == len(accepted) - 1
    assert sum(h.amount for h in open_holds) == top.amount
    # Released exactly once: each account holds just its open holds, no more, no less.
    for account in await Account.filter(person_id__in=bidders):
        assert account.held == sum(h.amount for h in await Hold.filter(
            account_id=account.id, status=HoldStatus.OPEN))
    assert await ledger.check_invariants() == []
    return settled


async def test_many_bids_at_once_from_several_processes_leave_one_leader(any_db: str) -> None:
    on = await lot(starting_bid=100, increment=5, ends_in=timedelta(hours=1))
    players = [await player(10_000) for _ in range(12)]
    rng = random.Random(11)
    bids = [[p.id, 100 + 5 * rng.randrange(0, 200), at(NOW)] for p in players for _ in range(3)]
    rng.shuffle(bids)
    summaries = await run_workers(any_db, *({"op": "bid", "lot": on.id, "bids": bids[i::4]}
                                            for i in range(4)))
    assert [s["errors"] for s in summaries] == [[], [], [], []]
    outcomes = [o for s in summaries for o in s["outcomes"]]
    assert set(outcomes) <= {"ok", "too_low"}
    assert outcomes.count("ok") == await Bid.filter(lot_id=on.id).count()
    await assert_one_leader_holding_exactly_the_high_bid(on.id, [p.id for p in players])


async def test_bidders_racing_with_little_points_never_hold_more_than_they_have(
        any_db: str) -> None:
    first, second = await lot(starting_bid=50, increment=1), await lot(starting_bid=50,
                                                                         increment=1)
    players = [await player(120) for _ in range(3)]
    bids = [[p.id, amount, at(NOW)] for p in players for amount in (60, 70, 80, 90)]
    summaries = await run_workers(
        any_db, {"op": "bid", "lot": first.id, "bids": bids},
        {"op": "bid", "lot": second.id, "bids": list(reversed(bids))})
    assert [s["errors"] for s in summaries] == [[], []]
    for account in await Account.filter(person_id__in=[p.id for p in players]):
        assert 0 <= account.held <= account.balance == 120
    for each in (first, second):
        await assert_one_leader_holding_exactly_the_high_bid(each.id, [p.id for p in players])


async def test_the_close_job_run_at_once_by_two_processes_and_by_hand_settles_once(
        any_db: str) -> None:
    on = await lot(ends_in=timedelta(minutes=30))
    alice, bob = await player(1000), await player(1000)
    await auctions.place_bid(alice, on.id, amount=300, key="alice-bid-1", settings=SETTINGS,
                             now=NOW)
    await auctions.place_bid(bob, on.id, amount=400, key="bob-bid-1", settings=SETTINGS, now=NOW)
    close = at(on.ends_at)
    summaries = await run_workers(any_db, {"op": "job", "now": close}, {"op": "job", "now": close},
                                  {"op": "close", "lot": on.id, "now": close},
                                  {"op": "close", "lot": on.id, "now": close})
    by_hand = await run_job(JOBS["auction-close"], SETTINGS, now=on.ends_at)
    assert [s["errors"] for s in summaries] == [[], [], [], []]
    outcomes = [o for s in summaries for o in s["outcomes"]] + [by_hand.outcome.value]
    # Each job run did the minute's work, found it done or busy; a direct close either
    # settled or found it settled: one settlement in all.
    assert set(outcomes) <= {"done", "already done", "busy", "settled", "not_settled"}
    assert outcomes.count("settled") <= 1
    assert await Transfer.filter(kind=TransferKind.CAPTURE).count() == 1
    bob_account = await Account.get(person_id=bob.id)
    assert (bob_account.balance, bob_account.held) == (600, 0)
    assert (await Account.get(person_id=alice.id)).held == 0
    assert (await Lot.get(id=on.id)).status == LotStatus.CLOSED
    assert await ledger.check_invariants() == []


async def test_a_bid_racing_the_close_is_in_before_the_settlement_or_refused(
        any_db: str) -> None:
    for round_ in range(3):
        on = await lot(ends_in=timedelta(minutes=30), soft_close=0)
        alice, bob = await player(1000), await player(1000)
        await auctions.place_bid(alice, on.id, amount=200, key=f"alice-open-{round_}",
                                 settings=SETTINGS, now=NOW)
        just_before = at(on.ends_at - timedelta(milliseconds=1))
        summaries = await run_workers(
            any_db, {"op": "bid", "lot": on.id, "bids": [[bob.id, 300 + i, just_before]
                                                         for i in range(0, 50, 10)]},
            {"op": "close", "lot": on.id, "now": at(on.ends_at)})
        assert [s["errors"] for s in summaries] == [[], []]
        assert set(summaries[0]["outcomes"]) <= {"ok", "too_low", "ended"}
        assert summaries[1]["outcomes"] == ["settled"]
        settled = await Lot.get(id=on.id)
        # Whatever got in was settled with the lot: nothing is left held, the winner paid
        # the highest bid that got in, and nothing after the settlement was taken.
        assert await Hold.filter(target_id=settled.account_id, status=HoldStatus.OPEN
                                 ).count() == 0
        top = await Bid.filter(lot_id=on.id).order_by("-amount").first()
        assert top is not None and top.amount == settled.high_bid
        capture = await Transfer.get(kind=TransferKind.CAPTURE, target_id=settled.account_id)
        assert capture.amount == settled.high_bid
        for person in (alice, bob):
            assert (await Account.get(person_id=person.id)).held == 0
        assert await ledger.check_invariants() == []
