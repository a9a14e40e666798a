"""Redemptions raced across processes, on SQLite and PostgreSQL: as many orders as codes,
every code handed out once, the losers told it is sold out and charged nothing; a double
tap from several processes makes one order and one charge."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portal.catalog.models import Code, CodeStatus, Order
from portal.ledger import service as ledger
from portal.ledger.models import Account
from tests.catalog.stock import give, item
from tests.factories import make_person
from tests.racing import race

pytestmark = pytest.mark.usefixtures("any_db")


async def run_workers(db_url: str, *calls: dict[str, Any]) -> list[dict[str, Any]]:
    lines = await race("tests.catalog.redeem_worker", *([db_url, json.dumps(c)] for c in calls))
    return [json.loads(line) for line in lines]


async def test_many_players_racing_for_a_small_pool_get_exactly_as_many_codes(
        any_db: str) -> None:
    players = [await make_person() for _ in range(16)]
    for p in players:
        await give(p, 1000)
    card = await item(price=400, codes=5)
    groups = [[p.id for p in players[i::4]] for i in range(4)]
    summaries = await run_workers(any_db, *({"item": card.id, "people": g, "key": "race-"}
                                            for g in groups))
    assert [s["errors"] for s in summaries] == [[], [], [], []]
    won = [order for s in summaries for order in s["ok"]]
    assert len(won) == 5
    assert sum(s["sold_out"] for s in summaries) == 11
    orders = await Order.filter(id__in=won)
    assert len({o.code_id for o in orders}) == 5
    assert await Code.filter(item_id=card.id, status=CodeStatus.ISSUED).count() == 5
    winners = {o.person_id for o in orders}
    for p in players:
        balance = (await Account.get(person_id=p.id)).balance
        assert balance == (600 if p.id in winners else 1000)
    assert await ledger.check_invariants() == []


async def test_a_double_tap_from_several_processes_makes_one_order_and_one_charge(
        any_db: str) -> None:
    alice = await make_person()
    await give(alice, 1000)
    card = await item(price=300, codes=5)
    call = {"item": card.id, "people": [alice.id], "key": "the-same-tap", "same_key": True,
            "times": 5}
    summaries = await run_workers(any_db, call, call, call)
    assert [s["errors"] for s in summaries] == [[], [], []]
    assert len({o for s in summaries for o in s["ok"] + s["replayed"]}) == 1
    assert sum(len(s["ok"]) for s in summaries) == 1
    assert (await Account.get(person_id=alice.id)).balance == 700
    assert await Order.all().count() == 1


async def test_one_player_racing_their_own_points_never_overdraws(any_db: str) -> None:
    alice = await make_person()
    await give(alice, 1000)
    card = await item(price=300, codes=10)
    call = {"item": card.id, "people": [alice.id], "key": "own-", "times": 4}
    summaries = await run_workers(any_db, {**call, "key": "own-a-"}, {**call, "key": "own-b-"})
    assert [s["errors"] for s in summaries] == [[], []]
    assert sum(len(s["ok"]) for s in summaries) == 3
    assert sum(s["not_enough"] for s in summaries) == 5
    assert (await Account.get(person_id=alice.id)).balance == 100
