"""Redeeming, on SQLite and PostgreSQL: one order and one charge per key, codes handed out
once and only to their owner, nothing charged when anything refuses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from tortoise import connections

from portal.accounts.models import Role
from portal.catalog import service as catalog
from portal.catalog.models import Code, CodeStatus, ItemKind, Order, OrderStatus, Reveal
from portal.ledger import service as ledger
from portal.ledger.models import Account, Transfer, TransferKind
from portal.notifications.models import Email, Notification
from tests.catalog.stock import SETTINGS, give, item
from tests.factories import make_company, make_outlet, make_person

pytestmark = pytest.mark.usefixtures("any_db")
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


async def player(points: int = 1000) -> catalog.Viewer:
    person = await make_person()
    if points:
        await give(person, points)
    return await catalog.as_player(person)


async def balance(viewer: catalog.Viewer) -> int:
    return (await Account.get(id=viewer.account.id)).balance


async def test_redeeming_a_certificate_hands_out_one_code_charges_the_price_and_mails_it(
) -> None:
    alice = await player(1000)
    card = await item(price=300, codes=3)
    done = await catalog.redeem(alice, card.id, key="tap-00000001", settings=SETTINGS, now=NOW)
    order = await Order.get(id=done.order_id)
    assert order.status == OrderStatus.ISSUED and order.code_id is not None
    assert (await Code.get(id=order.code_id)).status == CodeStatus.ISSUED
    assert await balance(alice) == 700
    spend = await Transfer.get(id=order.transfer_id)
    assert spend.kind == TransferKind.SPEND and spend.amount == 300
    assert await catalog.mail_codes(NOW, SETTINGS) == 1  # the mail job's first step
    revealed = await catalog.reveal(alice, order.id, via="web", settings=SETTINGS)
    assert revealed.code.endswith("-SECRET") and revealed.value == "50 EUR"
    email = await Email.get(key=f"email:catalog-order:{order.id}")
    assert revealed.code not in email.text and revealed.code not in email.html
    assert catalog.CODE_PLACEHOLDER in email.text and email.sealed
    assert await Reveal.filter(order_id=order.id).count() == 2  # e-mailed, then shown


async def test_the_database_holds_no_plain_code() -> None:
    alice = await player(1000)
    card = await item(price=100, codes=5)
    done = await catalog.redeem(alice, card.id, key="tap-00000002", settings=SETTINGS, now=NOW)
    code = (await catalog.reveal(alice, done.order_id, via="web", settings=SETTINGS)).code
    assert await catalog.mail_codes(NOW, SETTINGS) == 1
    conn = connections.get("default")
    for table in ("catalog_code", "catalog_order", "email", "transfer", "notification"):
        rows = await conn.execute_query_dict(f"SELECT * FROM {table}")  # noqa: S608
        assert all(code not in str(row) for row in rows), table
        assert all("000001-SECRET" not in str(row) for row in rows), table


async def test_a_double_tap_with_one_key_makes_one_order_and_one_charge() -> None:
    alice = await player(1000)
    card = await item(price=250, codes=5)
    results = await asyncio.gather(*(
        catalog.redeem(alice, card.id, key="double-tap-1", settings=SETTINGS, now=NOW)
        for _ in range(8)))
    assert len({r.order_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert await balance(alice) == 750
    assert await Order.all().count() == 1


async def test_the_same_key_for_another_item_is_refused() -> None:
    alice = await player(1000)
    first, second = await item(price=10, codes=1), await item(price=10, codes=1)
    await catalog.redeem(alice, first.id, key="same-key-1", settings=SETTINGS, now=NOW)
    with pytest.raises(ledger.KeyReused):
        await catalog.redeem(alice, second.id, key="same-key-1", settings=SETTINGS, now=NOW)


async def test_points_held_in_a_bid_cannot_be_spent_in_the_catalog() -> None:
    alice = await player(500)
    lot = await ledger.system_account("auction:1")
    await ledger.hold(alice.account, target=lot, amount=300, reason="Bid", reference="lot:1",
                      key="bid-1")
    card = await item(price=300, codes=2)
    with pytest.raises(ledger.NotEnoughPoints):
        await catalog.redeem(alice, card.id, key="held-tap-1", settings=SETTINGS, now=NOW)
    assert await Order.all().count() == 0
    assert await Code.filter(status=CodeStatus.AVAILABLE).count() == 2  # the claim undone
    fresh = await Account.get(id=alice.account.id)
    assert (fresh.balance, fresh.held) == (500, 300)


async def test_a_sold_out_pool_says_so_and_charges_nothing() -> None:
    alice, bob = await player(1000), await player(1000)
    card = await item(price=100, codes=1)
    await catalog.redeem(alice, card.id, key="first-tap-1", settings=SETTINGS, now=NOW)
    with pytest.raises(catalog.SoldOut):
        await catalog.redeem(bob, card.id, key="second-tap", settings=SETTINGS, now=NOW)
    assert await balance(bob) == 1000


async def test_a_gift_takes_a_unit_needs_an_address_and_waits_for_shipping() -> None:
    alice = await player(1000)
    gift = await item(kind=ItemKind.GIFT, price=200, stock=1)
    with pytest.raises(catalog.BadRequest):
        await catalog.redeem(alice, gift.id, key="gift-tap-1", settings=SETTINGS, now=NOW)
    done = await catalog.redeem(alice, gift.id, key="gift-tap-2", address="1 Main St",
                                settings=SETTINGS, now=NOW)
    order = await Order.get(id=done.order_id)
    assert (order.status, order.address) == (OrderStatus.AWAITING, "1 Main St")
    with pytest.raises(catalog.SoldOut):
        await catalog.redeem(alice, gift.id, key="gift-tap-3", address="1 Main St",
                             settings=SETTINGS, now=NOW)
    await catalog.advance(order.id, to=OrderStatus.SHIPPED)
    await catalog.advance(order.id, to=OrderStatus.DELIVERED)
    assert (await catalog.order(alice, order.id)).status == OrderStatus.DELIVERED
    assert await balance(alice) == 800


async def test_below_the_threshold_redeeming_is_locked_and_says_how_far() -> None:
    alice = await player(2000)
    card = await item(price=100, codes=1)
    settings = SETTINGS.model_copy(update={"redemption_threshold": 2500})
    with pytest.raises(catalog.BelowThreshold) as refused:
        await catalog.redeem(alice, card.id, key="thresh-tap", settings=settings, now=NOW)
    assert "500 to go" in str(refused.value)
    listing = await catalog.listing(alice, threshold=2500)
    assert listing.threshold.locked and listing.threshold.missing == 500
    await give(alice.person, 500)
    await catalog.redeem(alice, card.id, key="thresh-tap2", settings=settings, now=NOW)


async def test_two_redemptions_at_once_never_take_a_player_below_the_threshold() -> None:
    """Both may pass the first read (on PostgreSQL nothing is locked for an item with no
    monthly limit); the payment's guard keeps the threshold, so only one goes through."""
    alice = await player(2550)
    card = await item(price=100, codes=4)
    settings = SETTINGS.model_copy(update={"redemption_threshold": 2500})
    results = await asyncio.gather(*(
        catalog.redeem(alice, card.id, key=f"thresh-race-{n}", settings=settings, now=NOW)
        for n in range(4)), return_exceptions=True)
    assert sum(isinstance(r, catalog.Redeemed) for r in results) == 1, results
    assert all(isinstance(r, catalog.BelowThreshold) for r in results
               if not isinstance(r, catalog.Redeemed)), results
    assert await balance(alice) == 2450
    assert await Order.filter(item_id=card.id).count() == 1
    assert await ledger.check_invariants() == []


async def test_a_monthly_limit_counts_this_months_orders_per_person() -> None:
    alice = await player(1000)
    card = await item(price=10, codes=5, monthly_limit=2)
    for n in range(2):
        await catalog.redeem(alice, card.id, key=f"limit-tap-{n}", settings=SETTINGS, now=NOW)
    with pytest.raises(catalog.LimitReached):
        await catalog.redeem(alice, card.id, key="limit-tap-9", settings=SETTINGS, now=NOW)
    next_month = datetime(2027, 1, 2, tzinfo=UTC)
    await catalog.redeem(alice, card.id, key="limit-tap-a", settings=SETTINGS, now=next_month)
    other = await player(1000)
    await catalog.redeem(other, card.id, key="limit-tap-b", settings=SETTINGS, now=NOW)


async def test_another_players_order_is_not_found_and_its_code_never_shown() -> None:
    alice, erin = await player(1000), await player(1000)
    card = await item(price=10, codes=2)
    done = await catalog.redeem(alice, card.id, key="mine-tap-1", settings=SETTINGS, now=NOW)
    with pytest.raises(catalog.NoSuchOrder):
        await catalog.order(erin, done.order_id)
    with pytest.raises(catalog.NoSuchOrder):
        await catalog.reveal(erin, done.order_id, via="web", settings=SETTINGS)
    assert await catalog.my_orders(erin) == ([], False)


async def test_cancelling_refunds_once_and_the_code_is_never_handed_out_again() -> None:
    alice, bob = await player(1000), await player(1000)
    card = await item(price=300, codes=1)
    done = await catalog.redeem(alice, card.id, key="cancel-tap", settings=SETTINGS, now=NOW)
    results = await asyncio.gather(*(catalog.cancel(done.order_id, reason="Wrong item")
                                     for _ in range(4)))
    assert results.count(True) == 1
    assert await balance(alice) == 1000
    assert await Transfer.filter(kind=TransferKind.REFUND).count() == 1
    order = await Order.get(id=done.order_id)
    assert order.status == OrderStatus.CANCELLED
    assert (await Code.get(id=order.code_id)).status == CodeStatus.VOID
    with pytest.raises(catalog.SoldOut):
        await catalog.redeem(bob, card.id, key="after-cancel", settings=SETTINGS, now=NOW)
    with pytest.raises(catalog.CatalogRefusal):
        await catalog.reveal(alice, done.order_id, via="web", settings=SETTINGS)
    assert await ledger.check_invariants() == []
    [told] = await Notification.filter(person_id=alice.person.id, kind="order_cancelled")
    assert told.params == {"title": card.title, "reason": "Wrong item", "points": 300}


async def test_payers_credit_catalog_accounts_by_their_id_and_a_refund_comes_back_from_it(
) -> None:
    """Racing buyers spread over ``ledger.CATALOG_SHARDS`` catalog accounts (one row lock
    each); a cancelled order's points come back from the one its payment credited."""
    buyers = [await player(1000) for _ in range(ledger.CATALOG_SHARDS + 1)]
    card = await item(price=100, codes=len(buyers))
    done = [await catalog.redeem(b, card.id, key=f"shard-{n:04d}", settings=SETTINGS, now=NOW)
            for n, b in enumerate(buyers)]
    credited: dict[str, int] = {}
    for buyer, made in zip(buyers, done, strict=True):
        paid = await Transfer.get(id=(await Order.get(id=made.order_id)).transfer_id)
        target = await Account.get(id=paid.target_id)
        code = ledger.catalog_code(buyer.account.id)
        assert target.code == code
        credited[code] = target.balance
    assert len(credited) == ledger.CATALOG_SHARDS  # one payer more than shards: every one
    assert sum(credited.values()) == 100 * len(buyers)
    last = buyers[-1]
    assert await catalog.cancel(done[-1].order_id, reason="Changed my mind")
    shard = await Account.get(code=ledger.catalog_code(last.account.id))
    assert shard.balance == credited[ledger.catalog_code(last.account.id)] - 100
    assert await balance(last) == 1000
    assert await ledger.check_invariants() == []


async def test_a_cancel_waits_for_the_buyers_redemption_in_flight_without_a_deadlock(
        any_db: str) -> None:
    """A redemption locks its buyer's account first and credits the catalog's last, while
    a refund changes accounts in id order (the catalog's first, when it is the older).
    They still cannot deadlock on PostgreSQL: the refund's transfer row is written before
    any balance and references the buyer's account, which takes a key-share lock on it, so
    the cancel waits for the buyer before it touches the catalog. Held here on a connection
    of its own: the buyer locked as a redemption does, then the catalog credited while the
    cancel waits."""
    if not any_db.startswith("postgres"):
        pytest.skip("SQLite's one write lock cannot deadlock")
    import asyncpg

    alice = await player(1000)
    card = await item(price=300, codes=2)
    done = await catalog.redeem(alice, card.id, key="cancel-in-flight", settings=SETTINGS,
                                now=NOW)
    catalog_account = await ledger.system_account(ledger.catalog_code(alice.account.id))
    redemption = await asyncpg.connect(any_db)
    try:
        async with redemption.transaction():
            await redemption.execute("SELECT 1 FROM account WHERE id = $1 FOR UPDATE",
                                     alice.account.id)
            cancelling = asyncio.create_task(catalog.cancel(done.order_id, reason="Late"))
            await asyncio.sleep(0.3)  # the cancel gets as far as it can
            await redemption.execute("SET LOCAL lock_timeout = '3s'")
            await redemption.execute("UPDATE account SET balance = balance WHERE id = $1",
                                     catalog_account.id)
        assert await cancelling is True
    finally:
        await redemption.close()
    assert await balance(alice) == 1000
    assert await ledger.check_invariants() == []


async def test_an_item_hidden_until_a_quiz_appears_once_the_quiz_is_finished() -> None:
    from tests.catalog.stock import finish_quiz

    alice = await player(1000)
    quiz_id = await finish_quiz(None)
    hidden = await item(price=10, codes=1, unlock_quiz_id=quiz_id)
    assert hidden.id not in [c.id for c in (await catalog.listing(alice, threshold=0)).cards]
    with pytest.raises(catalog.NoSuchItem):
        await catalog.redeem(alice, hidden.id, key="hidden-tap", settings=SETTINGS, now=NOW)
    await finish_quiz(alice.person, quiz_id)
    assert hidden.id in [c.id for c in (await catalog.listing(alice, threshold=0)).cards]
    await catalog.redeem(alice, hidden.id, key="hidden-tap2", settings=SETTINGS, now=NOW)


async def test_a_manager_spends_the_companys_points_on_company_items_only() -> None:
    acme = await make_company()
    outlet = await make_outlet(acme)
    bob = await make_person(roles={Role.MANAGER, Role.PLAYER}, outlet=outlet)
    alice = await make_person(outlet=outlet)
    await give(bob, 1000)
    company = await Account.get(company_id=acme.id)
    await ledger.earn(company, amount=5000, reason="Sales", reference="sales:1", key="co-1")
    for_company = await item(price=1000, codes=2, for_companies=True)
    for_players = await item(price=10, codes=2)
    manager = await catalog.as_company(bob)
    done = await catalog.redeem(manager, for_company.id, key="co-tap-01", settings=SETTINGS,
                                now=NOW)
    assert (await Account.get(id=company.id)).balance == 4000
    assert (await Account.get(person_id=bob.id)).balance == 1000  # his own untouched
    orders, _ = await catalog.company_orders(acme.id)
    assert [(o.id, o.person_name) for o in orders] == [(done.order_id, bob.full_name)]
    # The company's history names who redeemed; a player's own spend says only the reward.
    paid = await Transfer.get(id=(await Order.get(id=done.order_id)).transfer_id)
    assert paid.reason == f"Reward: {for_company.title}, redeemed by {bob.full_name}"
    own = await catalog.redeem(await catalog.as_player(bob), for_players.id, key="co-tap-04",
                               settings=SETTINGS, now=NOW)
    mine = await Transfer.get(id=(await Order.get(id=own.order_id)).transfer_id)
    assert mine.reason == f"Reward: {for_players.title}"
    with pytest.raises(catalog.NoSuchItem):  # players' items are not the company's
        await catalog.redeem(manager, for_players.id, key="co-tap-02", settings=SETTINGS)
    with pytest.raises(catalog.NotAManager):  # a player cannot act for the company
        await catalog.as_company(alice)
    as_bob_player = await catalog.as_player(bob)
    with pytest.raises(catalog.NoSuchItem):  # nor spend on company items as a player
        await catalog.redeem(as_bob_player, for_company.id, key="co-tap-03",
                             settings=SETTINGS)
    with pytest.raises(catalog.NoSuchOrder):  # the company's code is not his own order
        await catalog.reveal(as_bob_player, done.order_id, via="web", settings=SETTINGS)
    assert (await catalog.reveal(manager, done.order_id, via="web", settings=SETTINGS)).code


async def test_the_threshold_is_a_players_rule_not_a_companys() -> None:
    acme = await make_company()
    bob = await make_person(roles={Role.MANAGER, Role.PLAYER}, outlet=await make_outlet(acme))
    company = await Account.get(company_id=acme.id)
    await ledger.earn(company, amount=1500, reason="Sales", reference="sales:t", key="co-t")
    await give(bob, 1500)
    for_company = await item(price=1000, codes=1, for_companies=True)
    for_players = await item(price=1000, codes=1)
    strict = SETTINGS.model_copy(update={"redemption_threshold": 2500})
    await catalog.redeem(await catalog.as_company(bob), for_company.id, key="co-thr-01",
                         settings=strict, now=NOW)
    assert (await Account.get(id=company.id)).balance == 500
    with pytest.raises(catalog.BelowThreshold):
        await catalog.redeem(await catalog.as_player(bob), for_players.id, key="co-thr-02",
                             settings=strict, now=NOW)
