"""Ledger rules as properties: any sequence of operations keeps every invariant, and a
retried operation with the same key changes nothing."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.ledger import service as ledger
from portal.ledger.models import Account, AccountKind

pytestmark = pytest.mark.usefixtures("db")
_runs = itertools.count()

operation = st.tuples(
    st.sampled_from(["earn", "spend", "burn", "donate", "hold", "release", "capture"]),
    st.integers(min_value=0, max_value=2),  # which account
    st.integers(min_value=1, max_value=120),  # amount
    st.integers(min_value=0, max_value=5),  # which key: small, so keys get retried
)


@dataclass
class Model:
    """What the balances must be, computed the simplest possible way."""

    balance: list[int] = field(default_factory=lambda: [0, 0, 0])
    held: list[int] = field(default_factory=lambda: [0, 0, 0])
    keys: dict[str, tuple[object, ...]] = field(default_factory=dict)
    holds: list[tuple[int, int, int, str]] = field(default_factory=list)  # id, who, amount


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operation, min_size=1, max_size=25))
async def test_any_sequence_of_operations_keeps_every_invariant(
    ops: list[tuple[str, int, int, int]],
) -> None:
    run = next(_runs)
    people = [await Account.create(kind=AccountKind.PERSON, name=f"P{i}") for i in range(3)]
    cause = await ledger.system_account(f"charity:{run}")
    lot = await ledger.system_account(f"auction:{run}")
    model = Model()

    for name, who, amount, key_index in ops:
        key = f"{run}:{name}:{key_index}"
        signature = (name, who, amount)
        account = people[who]
        available = model.balance[who] - model.held[who]
        try:
            if name == "earn":
                await ledger.earn(account, amount=amount, reason="Quiz", reference="q", key=key)
            elif name in {"spend", "burn"}:
                operation_fn = ledger.spend if name == "spend" else ledger.burn
                await operation_fn(account, amount=amount, reason="x", reference="r", key=key)
            elif name == "donate":
                await ledger.donate(account, cause=cause, amount=amount, reason="Charity",
                                    reference="cause", key=key)
            elif name == "hold":
                result = await ledger.hold(account, target=lot, amount=amount, reason="Bid",
                                           reference="lot", key=key)
                if not result.replayed:
                    model.holds.append((result.id, who, amount, "open"))
            elif model.holds:
                index = amount % len(model.holds)
                hold_id, holder, held_amount, status = model.holds[index]
                resolve = ledger.release if name == "release" else ledger.capture
                wanted = "released" if name == "release" else "captured"
                try:
                    await resolve(hold_id)
                except ledger.HoldResolved:
                    assert status not in {"open", wanted}
                    continue
                if status == "open":
                    model.held[holder] -= held_amount
                    if name == "capture":
                        model.balance[holder] -= held_amount
                    model.holds[index] = (hold_id, holder, held_amount, wanted)
                continue
            else:
                continue
        except ledger.KeyReused:
            assert key in model.keys and model.keys[key] != signature
            continue
        except ledger.NotEnoughPoints:
            assert key not in model.keys
            assert name != "earn" and amount > available
            continue
        if key in model.keys:
            assert model.keys[key] == signature  # a replay: nothing may have moved
            continue
        model.keys[key] = signature
        if name == "earn":
            model.balance[who] += amount
        elif name == "hold":
            assert amount <= available
            model.held[who] += amount
        else:
            assert amount <= available
            model.balance[who] -= amount

    for i, account in enumerate(people):
        stored = await Account.get(id=account.id)
        assert (stored.balance, stored.held) == (model.balance[i], model.held[i])
    assert await ledger.check_invariants() == []
