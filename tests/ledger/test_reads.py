"""Reading the ledger: histories, a transfer by its key, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from portal.ledger import reads
from portal.ledger import service as ledger
from portal.ledger.models import TransferKind
from tests.ledger.test_service import new_account

pytestmark = pytest.mark.usefixtures("any_db")


async def test_history_pages_and_filters_by_kind() -> None:
    alice = await new_account()
    for i in range(5):
        await ledger.earn(alice, amount=10, reason=f"Quiz {i}", reference=f"quiz:{i}", key=f"e{i}")
    await ledger.spend(alice, amount=5, reason="Gift", reference="catalog:1", key="s")
    page, more = await reads.history(alice, limit=4)
    assert [e.reason for e in page] == ["Gift", "Quiz 4", "Quiz 3", "Quiz 2"] and more
    rest, more = await reads.history(alice, offset=4, limit=4)
    assert [e.reason for e in rest] == ["Quiz 1", "Quiz 0"] and not more
    spends, _ = await reads.history(alice, kind=TransferKind.SPEND)
    assert [e.amount for e in spends] == [-5]


async def test_a_transfer_is_found_by_its_key_and_an_unused_key_finds_nothing() -> None:
    alice = await new_account()
    made = await ledger.earn(alice, amount=40, reason="Quiz", reference="game:3", key="quiz:3")
    found = await reads.transfer_by_key("quiz:3")
    assert found is not None
    assert (found.id, found.amount, found.reference, found.replayed) == (
        made.id, 40, "game:3", False)
    assert await reads.transfer_by_key("quiz:4") is None
