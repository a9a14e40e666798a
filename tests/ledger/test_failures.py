"""A failure between writing the transfer and changing the balance leaves neither.

The failure is real: a database trigger refuses the balance update, after the transfer
row was inserted in the same transaction.
"""

from __future__ import annotations

import pytest
from tortoise import connections

from portal.ledger import service as ledger
from portal.ledger.models import Account, AccountKind, Transfer
from portal.seasons import season_of

pytestmark = pytest.mark.usefixtures("any_db")


async def break_balance_updates(account_id: int) -> None:
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_script(
            f"CREATE TRIGGER injected_failure BEFORE UPDATE OF balance ON account "
            f"WHEN NEW.id = {account_id} BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        )
    else:
        await conn.execute_script(
            "CREATE FUNCTION injected_failure() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql;"
            "CREATE TRIGGER injected_failure BEFORE UPDATE OF balance ON account "
            f"FOR EACH ROW WHEN (NEW.id = {account_id}) EXECUTE FUNCTION injected_failure();"
        )


async def repair_balance_updates() -> None:
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_script("DROP TRIGGER injected_failure;")
    else:
        await conn.execute_script("DROP TRIGGER injected_failure ON account;")


async def test_a_failed_balance_update_leaves_no_transfer_and_a_retry_then_works() -> None:
    alice = await Account.create(kind=AccountKind.PERSON, name="Alice")
    await ledger.earn(alice, amount=100, reason="Quiz", reference="quiz:1", key="seed")
    await break_balance_updates(alice.id)

    with pytest.raises(Exception, match="injected failure"):
        await ledger.spend(alice, amount=40, reason="Gift", reference="catalog:1", key="gift")

    assert not await Transfer.exists(key="gift")
    assert (await Account.get(id=alice.id)).balance == 100
    assert (await ledger.system_account(ledger.CATALOG)).balance == 0
    assert await ledger.check_invariants() == []

    await repair_balance_updates()
    result = await ledger.spend(alice, amount=40, reason="Gift", reference="catalog:1",
                                key="gift")
    assert not result.replayed
    assert (await Account.get(id=alice.id)).balance == 60
    assert await ledger.check_invariants() == []


async def test_a_failure_while_crediting_an_earning_leaves_no_trace_of_it() -> None:
    alice = await Account.create(kind=AccountKind.PERSON, name="Alice")
    await break_balance_updates(alice.id)
    with pytest.raises(Exception, match="injected failure"):
        await ledger.earn(alice, amount=100, reason="Quiz", reference="quiz:1", key="win")
    assert not await Transfer.exists(key="win")
    assert await ledger.earned_in_season(alice, season_of(alice.created_at)) == 0
    issuance = await ledger.system_account(ledger.ISSUANCE)
    assert issuance.balance == 0
    assert await ledger.check_invariants() == []
