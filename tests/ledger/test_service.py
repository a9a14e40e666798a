"""The ledger's rules, one at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


async def test_history_pages_and_filters_by_kind() -> None:
    alice = await new_account()
    for i in range(5):
        await ledger.earn(alice, amount=10, reason=f"Quiz {i}", reference=f"quiz:{i}", key=f"e{i}")
    await ledger.spend(alice, amount=5, reason="Gift", reference="catalog:1", key="s")
    page, more = await ledger.history(alice, limit=4)
    assert [e.reason for e in page] == ["Gift", "Quiz 4", "Quiz 3", "Quiz 2"] and more
    rest, more = await ledger.history(alice, offset=4, limit=4)
    assert [e.reason for e in rest] == ["Quiz 1", "Quiz 0"] and not more
    spends, _ = await ledger.history(alice, kind=TransferKind.SPEND)
    assert [e.amount for e in spends] == [-5]


async def test_check_finds_nothing_on_a_healthy_ledger_and_names_a_broken_account() -> None:
    alice = await new_account(100)
    assert await ledger.check_invariants() == []
    # Tamper with the stored balance behind the ledger's back.
    await Account.filter(id=alice.id).update(balance=1000)
    problems = await ledger.check_invariants()
    assert any(p.account_id == alice.id and "sum of its transfers" in p.message
               for p in problems)
    assert any(p.account_id is None and "not 0" in p.message for p in problems)


async def test_the_next_burn_is_counted_from_the_last_earning_not_from_spending() -> None:
    alice = await new_account()
    earned_on = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    await ledger.earn(alice, amount=100, reason="Quiz", reference="quiz:9", key="e",
                      now=earned_on)
    await ledger.spend(alice, amount=10, reason="Gift", reference="catalog:1", key="s",
                       now=datetime(2026, 12, 5, tzinfo=UTC))
    points = await ledger.summary(await fresh(alice), burn_after_days=30,
                                  now=datetime(2026, 12, 6, tzinfo=UTC))
    assert points.last_activity == earned_on
    assert points.burn_due == datetime(2026, 12, 31, 10, 0, tzinfo=UTC)
    assert (points.available, points.earned_this_season) == (90, 100)


async def test_points_arriving_late_fall_due_no_sooner_than_the_notice_after() -> None:
    alice = await new_account()
    dave = await make_person("dave@example.com")
    earned_on = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    week = timedelta(days=7)
    await ledger.earn(alice, amount=100, reason="Quiz", reference="quiz:9", key="e",
                      now=earned_on)
    await ledger.adjust(alice, amount=5, reason="Correction", by_person_id=dave.id, key="a1",
                        now=datetime(2026, 12, 10, tzinfo=UTC))  # early: changes nothing
    points = await ledger.summary(await fresh(alice), burn_after_days=30, notice=week)
    assert points.burn_due == datetime(2026, 12, 31, 10, 0, tzinfo=UTC)
    await ledger.adjust(alice, amount=5, reason="Correction", by_person_id=dave.id, key="a2",
                        now=datetime(2026, 12, 28, 12, 0, tzinfo=UTC))
    points = await ledger.summary(await fresh(alice), burn_after_days=30, notice=week)
    assert points.burn_due == datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


async def test_a_released_bid_is_points_arriving() -> None:
    alice = await new_account()
    await ledger.earn(alice, amount=100, reason="Quiz", reference="quiz:9", key="e",
                      now=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    lot = await ledger.system_account("auction:9")
    bid = await ledger.hold(alice, target=lot, amount=60, reason="Bid", reference="lot:9",
                            key="b", now=datetime(2026, 12, 2, tzinfo=UTC))
    await ledger.release(bid.id, now=datetime(2026, 12, 30, tzinfo=UTC))
    points = await ledger.summary(await fresh(alice), burn_after_days=30,
                                  notice=timedelta(days=7))
    assert points.burn_due == datetime(2027, 1, 6, tzinfo=UTC)


async def test_nothing_burns_when_nothing_is_available() -> None:
    alice = await new_account()
    points = await ledger.summary(alice, burn_after_days=30)
    assert points.burn_due is None


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
