"""``ledger.replace_hold`` and ``ledger.spend_statements``, the hand-written hot paths of a
bid and a redemption, write what ``release``, ``hold`` and ``spend`` write, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.exceptions import IntegrityError

from portal.db import execute_together, is_postgres, write_transaction
from portal.ledger import service as ledger
from portal.ledger.models import Account, AccountKind, Hold, HoldStatus, Transfer
from portal.ledger.reasons import Reason

pytestmark = pytest.mark.usefixtures("any_db")

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
REASON = Reason("Bid on “%(title)s”", title="Pump")


async def account(balance: int) -> Account:
    made = await Account.create(kind=AccountKind.PERSON, name="Player")
    await ledger.earn(made, amount=balance, reason="Quiz", reference="quiz:1",
                      key=f"seed:{made.id}")
    return await Account.get(id=made.id)


async def lot() -> Account:
    return await ledger.system_account("auction:test", name="Auction: Pump")


async def replace(holder: Account, target: Account, amount: int, key: str,
                  releasing: Account | None = None, *, active: bool = False) -> int:
    async with write_transaction() as conn:
        return await ledger.replace_hold(
            conn, holder.id, target_id=target.id, amount=amount, reason=REASON,
            reference="auction-lot:1", key=key, now=NOW,
            releasing=None if releasing is None else releasing.id, active=active)


async def held(*accounts: Account) -> list[int]:
    return [(await Account.get(id=a.id)).held for a in accounts]


async def test_a_first_hold_is_the_row_hold_writes() -> None:
    alice, target = await account(500), await lot()
    made = await replace(alice, target, 120, "bid:1")
    ledger_made = await ledger.hold(alice, target=target, amount=80, reason=REASON,
                                    reference="auction-lot:1", key="bid:2", now=NOW)
    ours, theirs = await Hold.get(id=made), await Hold.get(id=ledger_made.id)
    columns = ("account_id", "target_id", "reason", "reason_message", "reason_params",
               "reference", "status", "created_at", "resolved_at")
    assert [getattr(ours, c) for c in columns] == [getattr(theirs, c) for c in columns]
    assert (ours.amount, ours.key) == (120, "bid:1")
    assert await held(alice) == [200]
    assert await ledger.check_invariants() == []


async def test_the_previous_leaders_hold_is_released_once_and_theirs_is_made() -> None:
    alice, bob, target = await account(500), await account(500), await lot()
    first = await replace(alice, target, 100, "bid:a")
    second = await replace(bob, target, 150, "bid:b", releasing=alice)
    assert await held(alice, bob) == [0, 150]
    released = await Hold.get(id=first)
    assert (released.status, released.resolved_at) == (HoldStatus.RELEASED, NOW)
    assert (await Hold.get(id=second)).status == HoldStatus.OPEN
    # It is released: a second release of it finds nothing open and changes nothing.
    with pytest.raises(ledger.LedgerError):
        await replace(bob, target, 200, "bid:c", releasing=alice)
    assert await held(alice, bob) == [0, 150]
    assert await ledger.check_invariants() == []


async def test_raising_your_own_hold_needs_only_the_difference() -> None:
    alice, target = await account(100), await lot()
    await replace(alice, target, 80, "bid:1")
    await replace(alice, target, 100, "bid:2", releasing=alice)  # 20 more, 20 available
    assert await held(alice) == [100]
    assert await Hold.filter(account_id=alice.id, status=HoldStatus.OPEN).count() == 1
    assert await ledger.check_invariants() == []


async def test_more_than_is_available_is_refused_and_the_transaction_leaves_nothing() -> None:
    alice, bob, target = await account(300), await account(100), await lot()
    await replace(alice, target, 90, "bid:a")
    with pytest.raises(ledger.NotEnoughPoints) as refused:
        await replace(bob, target, 101, "bid:b", releasing=alice)
    assert (refused.value.available, refused.value.amount) == (100, 101)
    assert await held(alice, bob) == [90, 0]
    assert await Hold.filter(key="bid:b").count() == 0
    assert (await Hold.get(key="bid:a")).status == HoldStatus.OPEN


async def test_a_key_used_before_fails_the_insert() -> None:
    alice, target = await account(300), await lot()
    await replace(alice, target, 90, "bid:a")
    with pytest.raises(IntegrityError):
        await replace(alice, target, 95, "bid:a", releasing=alice)
    assert await held(alice) == [90]


async def test_a_bid_is_activity_when_asked() -> None:
    alice, bob, target = await account(300), await account(300), await lot()
    await replace(alice, target, 90, "bid:a")
    earned_at = (await Account.get(id=alice.id)).last_active_at  # the seed earning's
    assert earned_at != NOW
    await replace(bob, target, 95, "bid:b", releasing=alice, active=True)
    assert (await Account.get(id=bob.id)).last_active_at == NOW
    assert (await Account.get(id=alice.id)).last_active_at == earned_at


async def test_bad_requests_are_refused_before_any_write() -> None:
    alice, target = await account(300), await lot()
    for amount, key in ((0, "bid:z"), (10, ""), (10, "ledger:capture:1")):
        with pytest.raises(ledger.LedgerError):
            await replace(alice, target, amount, key)
    with pytest.raises(ledger.LedgerError):
        await replace(alice, alice, 10, "bid:self")
    assert await Hold.all().count() == 0


# -- ledger.spend_statements, the catalog's hot path ----------------------------------------


async def spend_raw(payer: Account, target: Account, amount: int, key: str) -> int:
    """The spend statements run as the catalog runs them: the transfer's id taken first,
    one round trip, then ``check_spent``."""
    async with write_transaction() as conn:
        transfer_id = int((await conn.execute_query_dict(
            f"SELECT {ledger.next_transfer_id_sql(is_postgres(conn))} AS id"))[0]["id"])  # noqa: S608
        statements = ledger.spend_statements(
            conn, payer.id, target_id=target.id, amount=amount,
            reason=Reason("Reward: %(title)s", title="Mug"), reference="catalog-order:1",
            key=key, now=NOW, transfer_id=transfer_id)
        await ledger.check_spent(conn, await execute_together(conn, statements), payer.id,
                                 target.id, amount)
        return transfer_id


async def test_a_raw_spend_writes_what_spend_writes() -> None:
    alice, catalog = await account(500), await ledger.system_account(ledger.CATALOG)
    ours = await Transfer.get(id=await spend_raw(alice, catalog, 120, "order:1"))
    theirs = await Transfer.get(id=(await ledger.spend(
        alice, amount=80, reason=Reason("Reward: %(title)s", title="Mug"),
        reference="catalog-order:1", key="order:2", target=catalog, now=NOW)).id)
    columns = ("kind", "source_id", "target_id", "reason", "reason_message", "reason_params",
               "reference", "season", "created_at", "created_by_id")
    assert [getattr(ours, c) for c in columns] == [getattr(theirs, c) for c in columns]
    assert (await Account.get(id=alice.id)).balance == 300
    assert (await Account.get(id=catalog.id)).balance == 200
    assert await ledger.check_invariants() == []


async def test_a_raw_spend_never_takes_held_points_and_leaves_nothing_when_refused() -> None:
    alice, target, catalog = await account(100), await lot(), await ledger.system_account(
        ledger.CATALOG)
    await replace(alice, target, 60, "bid:a")
    with pytest.raises(ledger.NotEnoughPoints) as refused:
        await spend_raw(alice, catalog, 41, "order:1")
    assert (refused.value.available, refused.value.amount) == (40, 41)
    assert await Transfer.filter(key="order:1").count() == 0
    assert (await Account.get(id=alice.id)).balance == 100
    await spend_raw(alice, catalog, 40, "order:2")
    assert [(a.balance, a.held) for a in [await Account.get(id=alice.id)]] == [(60, 60)]
    with pytest.raises(IntegrityError):  # the key names one spend
        await spend_raw(alice, catalog, 1, "order:2")
    assert await ledger.check_invariants() == []
