"""The ledger's rules, one at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.ledger import service as ledger
from portal.ledger.models import Account, AccountKind, HoldStatus, Transfer, TransferKind
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("any_db")


async def new_account(balance: int = 0) -> Account:
    account = await Account.create(kind=AccountKind.PERSON, name="Alice")
    if balance:
        await ledger.earn(account, amount=balance, reason="Quiz", reference="quiz:1",
                          key=f"seed:{account.id}")
    return await Account.get(id=account.id)


async def fresh(account: Account) -> Account:
    return await Account.get(id=account.id)


async def test_earning_credits_the_balance_and_counts_as_earned_this_season() -> None:
    alice = await new_account()
    now = datetime(2026, 12, 3, tzinfo=UTC)
    await ledger.earn(alice, amount=120, reason="Quiz: pumps", reference="quiz:7", key="a", now=now)
    alice = await fresh(alice)
    assert (alice.balance, alice.held, alice.earned_total) == (120, 0, 120)
    assert await ledger.earned_in_season(alice, "2026-12") == 120
    assert await ledger.earned_in_season(alice, "2026-11") == 0


async def test_spending_never_lowers_points_earned() -> None:
    alice = await new_account(300)
    await ledger.spend(alice, amount=200, reason="Gift card", reference="catalog:1", key="s")
    alice = await fresh(alice)
    assert alice.balance == 100
    assert alice.earned_total == 300


async def test_a_spend_beyond_the_available_balance_is_refused_and_changes_nothing() -> None:
    alice = await new_account(75)
    with pytest.raises(ledger.NotEnoughPoints, match="75 available, 100 needed"):
        await ledger.spend(alice, amount=100, reason="Gift", reference="catalog:1", key="big")
    assert (await fresh(alice)).balance == 75
    assert not await Transfer.exists(key="big")


async def test_a_retried_operation_answers_as_the_first_time_and_moves_nothing() -> None:
    alice = await new_account(100)
    first = await ledger.spend(alice, amount=30, reason="Gift", reference="catalog:1", key="once")
    again = await ledger.spend(alice, amount=30, reason="Gift", reference="catalog:1", key="once")
    assert again.id == first.id
    assert (first.replayed, again.replayed) == (False, True)
    assert (await fresh(alice)).balance == 70


async def test_the_same_key_with_other_values_is_an_error() -> None:
    alice = await new_account(100)
    await ledger.spend(alice, amount=30, reason="Gift", reference="catalog:1", key="k")
    with pytest.raises(ledger.KeyReused):
        await ledger.spend(alice, amount=31, reason="Gift", reference="catalog:1", key="k")
    assert (await fresh(alice)).balance == 70


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, 10**12])
async def test_amounts_are_positive_whole_numbers(amount: object) -> None:
    alice = await new_account(100)
    with pytest.raises(ledger.InvalidAmount):
        # Deliberately not always an int: the service must refuse what its type hint forbids.
        await ledger.spend(alice, amount=amount, reason="x", reference="y", key="bad")  # type: ignore[arg-type]
    assert await Transfer.filter(key="bad").count() == 0


async def test_a_hold_leaves_available_at_once_and_blocks_spending_it() -> None:
    alice = await new_account(100)
    lot = await ledger.system_account("auction:1")
    await ledger.hold(alice, target=lot, amount=80, reason="Bid", reference="lot:1", key="h")
    alice = await fresh(alice)
    assert (alice.balance, alice.held) == (100, 80)
    with pytest.raises(ledger.NotEnoughPoints, match="20 available"):
        await ledger.spend(alice, amount=30, reason="Gift", reference="catalog:1", key="s")


async def test_a_released_hold_gives_the_points_back_once() -> None:
    alice = await new_account(100)
    lot = await ledger.system_account("auction:1")
    held = await ledger.hold(alice, target=lot, amount=80, reason="Bid", reference="lot:1",
                             key="h")
    released = await ledger.release(held.id)
    again = await ledger.release(held.id)
    assert (released.status, again.replayed) == (HoldStatus.RELEASED, True)
    alice = await fresh(alice)
    assert (alice.balance, alice.held) == (100, 0)


async def test_a_captured_hold_becomes_one_spend_and_cannot_then_be_released() -> None:
    alice = await new_account(100)
    lot = await ledger.system_account("auction:1")
    held = await ledger.hold(alice, target=lot, amount=80, reason="Bid", reference="lot:1",
                             key="h")
    await ledger.capture(held.id)
    await ledger.capture(held.id)
    with pytest.raises(ledger.HoldResolved):
        await ledger.release(held.id)
    alice = await fresh(alice)
    assert (alice.balance, alice.held) == (20, 0)
    assert await Transfer.filter(kind=TransferKind.CAPTURE).count() == 1
    assert (await fresh(lot)).balance == 80


async def test_an_adjustment_needs_a_reason_and_is_guarded_like_a_spend() -> None:
    alice = await new_account(50)
    dave = await make_person("dave@example.com")
    with pytest.raises(ledger.LedgerError, match="reason"):
        await ledger.adjust(alice, amount=10, reason="  ", by_person_id=dave.id, key="a1")
    with pytest.raises(ledger.NotEnoughPoints):
        await ledger.adjust(alice, amount=-60, reason="Duplicate award", by_person_id=dave.id,
                            key="a2")
    await ledger.adjust(alice, amount=-20, reason="Duplicate award", by_person_id=dave.id, key="a3")
    assert (await fresh(alice)).balance == 30
    rows, _ = await ledger.adjustments()
    assert [row.reason for row in rows] == ["Duplicate award"]


async def test_a_burn_takes_points_to_the_burn_account_with_its_reason() -> None:
    alice = await new_account(90)
    await ledger.burn(alice, amount=90, reason="No game for 30 days", reference="burn:2026-12",
                      key="b")
    entries, _ = await ledger.history(alice)
    assert [(e.kind, e.amount, e.reason) for e in entries][0] == (
        TransferKind.BURN, -90, "No game for 30 days")
    assert (await fresh(await ledger.system_account(ledger.BURNS))).balance == 90


async def test_the_same_key_with_another_reason_is_an_error() -> None:
    alice = await new_account(100)
    await ledger.spend(alice, amount=10, reason="Gift", reference="catalog:1", key="k")
    with pytest.raises(ledger.KeyReused):
        await ledger.spend(alice, amount=10, reason="Other", reference="catalog:1", key="k")


async def test_values_too_long_to_store_are_refused_not_cut() -> None:
    alice = await new_account(100)
    with pytest.raises(ledger.LedgerError, match="reference"):
        await ledger.spend(alice, amount=10, reason="Gift", reference="r" * 201, key="k")
    with pytest.raises(ledger.LedgerError, match="key"):
        await ledger.spend(alice, amount=10, reason="Gift", reference="r", key="k" * 201)
    lot = await ledger.system_account("auction:1")
    with pytest.raises(ledger.LedgerError, match="key"):
        await ledger.hold(alice, target=lot, amount=10, reason="Bid", reference="r", key="")
    assert await Transfer.filter(kind=TransferKind.SPEND).count() == 0


async def test_a_callers_key_cannot_take_the_name_of_a_hold_capture() -> None:
    alice = await new_account(100)
    lot = await ledger.system_account("auction:1")
    held = await ledger.hold(alice, target=lot, amount=10, reason="Bid", reference="lot:1",
                             key="bid")
    with pytest.raises(ledger.LedgerError):
        await ledger.spend(alice, amount=5, reason="Gift", reference="x",
                           key=f"{ledger.SYSTEM_KEY_PREFIX}capture:{held.id}")
    await ledger.capture(held.id)
    assert (await fresh(alice)).balance == 90


async def test_a_hold_on_its_own_account_is_refused() -> None:
    alice = await new_account(100)
    with pytest.raises(ledger.LedgerError, match="two different accounts"):
        await ledger.hold(alice, target=alice, amount=10, reason="Bid", reference="r", key="h")
