"""The whole-ledger check behind ``portal check``, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from portal.ledger.invariants import check_invariants
from portal.ledger.models import Account
from tests.ledger.test_service import new_account

pytestmark = pytest.mark.usefixtures("any_db")


async def test_check_finds_nothing_on_a_healthy_ledger_and_names_a_broken_account() -> None:
    alice = await new_account(100)
    assert await check_invariants() == []
    # Tamper with the stored balance behind the ledger's back.
    await Account.filter(id=alice.id).update(balance=1000)
    problems = await check_invariants()
    assert any(p.account_id == alice.id and "sum of its transfers" in p.message
               for p in problems)
    assert any(p.account_id is None and "not 0" in p.message for p in problems)
