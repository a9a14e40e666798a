"""Spends, holds and transfers sent at once, on SQLite and PostgreSQL. Points are money: no
overdraft, each key once, no lock errors, no deadlock.

The proof is the ``two_processes`` tests: separate processes, released together, each
with its own connections, so the writes really race on both databases. The
``in_one_process`` tests send the same calls from tasks of this process: on SQLite its one
connection takes one transaction at a time (Tortoise's connection lock), so there they
show the rules hold however the tasks interleave between transactions, not under a race;
on PostgreSQL they run on the pool's connections at once.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import pytest

from portal.ledger import service as ledger
from portal.ledger.models import Account, AccountKind, Transfer, TransferKind
from tests.racing import race

pytestmark = pytest.mark.usefixtures("any_db")


async def account_with(balance: int) -> Account:
    account = await Account.create(kind=AccountKind.PERSON, name="Alice")
    await ledger.earn(account, amount=balance, reason="Quiz", reference="quiz:1",
                      key=f"seed:{account.id}")
    return await Account.get(id=account.id)


async def test_fifty_spends_of_ten_from_seventy_five_sent_in_one_process_succeed_seven_times(
) -> None:
    alice = await account_with(75)

    async def spend(i: int) -> str:
        try:
            await ledger.spend(alice, amount=10, reason="Gift", reference="catalog:1",
                               key=f"spend:{i}")
        except ledger.NotEnoughPoints as exc:
            return str(exc)
        return "ok"

    outcomes = await asyncio.gather(*(spend(i) for i in range(50)))
    assert outcomes.count("ok") == 7
    refusals = [o for o in outcomes if o != "ok"]
    assert len(refusals) == 43
    assert all(o.startswith("Not enough points") for o in refusals)
    assert (await Account.get(id=alice.id)).balance == 5
    assert await ledger.check_invariants() == []


async def test_the_same_spend_sent_twenty_times_in_one_process_happens_once() -> None:
    alice = await account_with(100)
    results = await asyncio.gather(*(
        ledger.spend(alice, amount=30, reason="Gift", reference="catalog:1", key="tap")
        for _ in range(20)
    ))
    assert len({r.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert (await Account.get(id=alice.id)).balance == 70
    assert await Transfer.filter(kind=TransferKind.SPEND).count() == 1


async def test_holds_and_spends_sent_together_in_one_process_never_overdraw() -> None:
    alice = await account_with(100)
    lot = await ledger.system_account("auction:1")

    async def attempt(i: int) -> None:
        try:
            if i % 2:
                await ledger.hold(alice, target=lot, amount=15, reason="Bid",
                                  reference="lot:1", key=f"hold:{i}")
            else:
                await ledger.spend(alice, amount=15, reason="Gift", reference="catalog:1",
                                   key=f"spend:{i}")
        except ledger.NotEnoughPoints:
            pass

    await asyncio.gather(*(attempt(i) for i in range(30)))
    fresh = await Account.get(id=alice.id)
    assert fresh.balance - fresh.held == 10  # 6 of 15 fit into 100
    assert await ledger.check_invariants() == []


async def run_workers(db_url: str, *calls: dict[str, object]) -> list[dict[str, Any]]:
    """Each call in its own process (tests/ledger/race_worker.py), all released at once."""
    lines = await race("tests.ledger.race_worker", *([db_url, json.dumps(c)] for c in calls))
    return [json.loads(line) for line in lines]


def spends(account: Account, *, count: int, key: str, same_key: bool = False
           ) -> dict[str, object]:
    return {"call": "spend", "account": account.id, "count": count, "amount": 10, "key": key,
            "same_key": same_key}


async def test_two_processes_spending_from_one_account_never_overdraw(any_db: str) -> None:
    alice = await account_with(75)
    summaries = await run_workers(any_db, spends(alice, count=25, key="proc0-"),
                                  spends(alice, count=25, key="proc1-"))
    assert [s["errors"] for s in summaries] == [[], []]  # no "database is locked" for anyone
    assert sum(int(s["ok"]) for s in summaries) == 7
    assert sum(int(s["not_enough"]) for s in summaries) == 43
    assert (await Account.get(id=alice.id)).balance == 5
    assert await ledger.check_invariants() == []


async def test_two_processes_sending_the_same_key_spend_once(any_db: str) -> None:
    alice = await account_with(100)
    summaries = await run_workers(any_db,
                                  *[spends(alice, count=10, key="double-tap", same_key=True)] * 2)
    assert [s["errors"] for s in summaries] == [[], []]
    assert sum(int(s["ok"]) for s in summaries) == 1
    assert sum(int(s["replayed"]) for s in summaries) == 19
    assert (await Account.get(id=alice.id)).balance == 90


async def test_transfers_both_ways_sent_together_in_one_process_never_deadlock() -> None:
    from tests.factories import make_person

    dave = await make_person("dave@example.com")
    alice = await account_with(1000)

    async def earn(i: int) -> None:
        await ledger.earn(alice, amount=1, reason="Quiz", reference="quiz:2", key=f"e{i}")

    async def take(i: int) -> None:
        await ledger.adjust(alice, amount=-1, reason="Correction", by_person_id=dave.id,
                            key=f"a{i}")

    await asyncio.gather(*(f(i) for i in range(100) for f in (earn, take)))
    assert (await Account.get(id=alice.id)).balance == 1000
    assert await ledger.check_invariants() == []


async def test_two_bids_with_one_key_and_other_amounts_sent_in_one_process_are_not_both_ok(
) -> None:
    alice = await account_with(200)
    lot = await ledger.system_account("auction:9")
    outcomes = await asyncio.gather(
        ledger.hold(alice, target=lot, amount=50, reason="Bid", reference="lot:9", key="bid"),
        ledger.hold(alice, target=lot, amount=80, reason="Bid", reference="lot:9", key="bid"),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, ledger.KeyReused)]
    assert len(accepted) == 1 and len(refused) == 1
    # gather's results are typed HoldResult | BaseException; the one accepted is a HoldResult.
    assert (await Account.get(id=alice.id)).held == cast(ledger.HoldResult, accepted[0]).amount


async def test_two_processes_holding_and_spending_from_one_account_never_overdraw(
        any_db: str) -> None:
    alice = await account_with(100)
    await ledger.system_account("auction:1")
    attempts = {"call": "hold_or_spend", "account": alice.id, "count": 15, "amount": 15,
                "lot": "auction:1"}
    summaries = await run_workers(any_db, {**attempts, "key": "p0-"}, {**attempts, "key": "p1-"})
    assert [s["errors"] for s in summaries] == [[], []]
    assert sum(s["ok"] for s in summaries) == 6 and sum(s["not_enough"] for s in summaries) == 24
    fresh = await Account.get(id=alice.id)
    assert fresh.balance - fresh.held == 10  # 6 of 15 fit into 100
    assert await ledger.check_invariants() == []


async def test_two_processes_moving_points_both_ways_never_deadlock(any_db: str) -> None:
    from tests.factories import make_person

    dave = await make_person("dave@example.com")
    alice = await account_with(1000)
    both_ways = {"call": "earn_or_take", "account": alice.id, "count": 100, "by": dave.id}
    summaries = await run_workers(any_db, {**both_ways, "key": "p0-"},
                                  {**both_ways, "key": "p1-"})
    assert [s["errors"] for s in summaries] == [[], []]  # no deadlock, no "database is locked"
    assert sum(s["ok"] for s in summaries) == 200
    assert (await Account.get(id=alice.id)).balance == 1000
    assert await ledger.check_invariants() == []


async def test_two_processes_bidding_with_one_key_and_other_amounts_are_not_both_answered_ok(
        any_db: str) -> None:
    alice = await account_with(200)
    await ledger.system_account("auction:9")
    bid = {"call": "hold", "account": alice.id, "count": 1, "lot": "auction:9", "key": "bid",
           "same_key": True}
    summaries = await run_workers(any_db, {**bid, "amount": 50}, {**bid, "amount": 80})
    assert [s["errors"] for s in summaries] == [[], []]
    assert sum(s["ok"] for s in summaries) == 1 and sum(s["key_reused"] for s in summaries) == 1
    accepted = [amount for s in summaries for amount in s["amounts"]]
    assert (await Account.get(id=alice.id)).held == accepted[0]
