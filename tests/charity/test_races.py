"""Donations sent at once from several processes, on SQLite and PostgreSQL: one balance
never overdraws, a double tap gives once, and a cause's total is the sum of its donations.
"""

from __future__ import annotations

import json

import pytest

from portal.charity import service as charity
from portal.charity.models import Donation
from portal.ledger import service as ledger
from portal.ledger.models import Account, Transfer, TransferKind
from tests import factories
from tests.charity.causes import give_points, make_cause
from tests.racing import race

pytestmark = pytest.mark.usefixtures("any_db")


async def test_forty_donations_from_four_processes_never_overdraw_one_balance(
        any_db: str) -> None:
    people = await factories.personas()
    water = await make_cause(people.carol)
    trees = await make_cause(people.carol, title="Trees")
    await give_points(people.alice, 1000)

    lines = await race("tests.charity.donate_worker", *[
        [any_db, json.dumps({"person": people.alice.id,
                             "cause": (water if p % 2 else trees).id,
                             "count": 10, "amount": 100, "key": f"p{p}-"})]
        for p in range(4)])

    results = [json.loads(line) for line in lines]
    assert [r["errors"] for r in results] == [[], [], [], []]
    assert sum(r["ok"] for r in results) == 10
    assert sum(r["not_enough"] for r in results) == 30
    alice = await ledger.account_of_person(people.alice.id)
    assert (alice.balance, alice.held) == (0, 0)
    for cause in (water, trees):
        given = sum(d.amount for d in await Donation.filter(cause_id=cause.id))
        balance = (await Account.get(id=cause.account_id)).balance
        assert balance == given == (await charity.cause(cause.id, minimum=1)).total
    assert await Donation.all().count() == await Transfer.filter(
        kind=TransferKind.DONATE).count() == 10
    assert await ledger.check_invariants() == []


async def test_one_donation_tapped_in_four_processes_at_once_gives_once(any_db: str) -> None:
    people = await factories.personas()
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)

    lines = await race("tests.charity.donate_worker", *[
        [any_db, json.dumps({"person": people.alice.id, "cause": cause.id, "count": 3,
                             "amount": 300, "key": "tap", "same_key": True})]
        for _ in range(4)])

    results = [json.loads(line) for line in lines]
    assert [r["errors"] for r in results] == [[], [], [], []]
    assert sum(r["ok"] for r in results) == 1
    assert sum(r["replayed"] for r in results) == 11
    assert await Donation.all().count() == 1
    assert (await ledger.account_of_person(people.alice.id)).balance == 700
    assert (await charity.cause(cause.id, minimum=1)).total == 300
    assert await ledger.check_invariants() == []
