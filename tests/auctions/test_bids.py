"""Bidding, closing and cancelling, through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.auctions import service as auctions
from portal.auctions.models import Bid, Lot, LotStatus
from portal.burns import service as burns
from portal.catalog import service as catalog
from portal.catalog.models import Order
from portal.ledger import service as ledger
from portal.ledger.models import Account, Hold, HoldStatus, Transfer, TransferKind
from portal.notifications.models import Notification
from tests.auctions.lots import NOW, SETTINGS, account, available, bid, lot, player
from tests.catalog.stock import item

pytestmark = pytest.mark.usefixtures("any_db")


async def test_a_bid_holds_the_points_at_once() -> None:
    alice = await player(500)
    on = await lot()
    placed = await bid(alice, on, 120)
    assert not placed.replayed
    assert await available(alice) == 380
    assert (await account(alice)).held == 120
    lot_now = await Lot.get(id=on.id)
    assert (lot_now.high_bid, lot_now.leader_id, lot_now.bidders) == (120, alice.id, 1)


async def test_being_outbid_releases_the_points_at_once_and_tells_the_player() -> None:
    alice, bob = await player(500), await player(500)
    on = await lot()
    await bid(alice, on, 120)
    await bid(bob, on, 130)
    assert await available(alice) == 500
    assert await available(bob) == 370
    notice = await Notification.get(person_id=alice.id, kind="outbid")
    assert notice.params == {"title": on.title, "points": 120}
    assert not await Notification.exists(person_id=bob.id)


async def test_raising_your_own_bid_holds_only_the_difference() -> None:
    alice = await player(300)
    on = await lot()
    await bid(alice, on, 200)
    # 290 would need 290 available if the old hold stayed: only 90 more are free.
    await bid(alice, on, 290)
    assert (await account(alice)).held == 290
    assert await Hold.filter(account_id=(await account(alice)).id,
                             status=HoldStatus.OPEN).count() == 1
    assert (await Lot.get(id=on.id)).bidders == 1
    assert not await Notification.exists(person_id=alice.id, kind="outbid")


async def test_a_bid_must_beat_the_highest_by_the_increment() -> None:
    alice, bob = await player(1000), await player(1000)
    on = await lot(starting_bid=100, increment=25)
    with pytest.raises(auctions.BidTooLow) as low:
        await bid(alice, on, 99)
    assert low.value.minimum == 100
    await bid(alice, on, 100)
    with pytest.raises(auctions.BidTooLow) as low:
        await bid(bob, on, 124)
    assert low.value.minimum == 125
    await bid(bob, on, 125)
    assert await available(bob) == 875


async def test_a_bid_beyond_the_available_points_is_refused_and_leaves_nothing() -> None:
    alice, bob = await player(150), await player(500)
    on = await lot()
    await bid(bob, on, 120)
    with pytest.raises(ledger.NotEnoughPoints):
        await bid(alice, on, 200)
    lot_now = await Lot.get(id=on.id)
    assert (lot_now.high_bid, lot_now.leader_id) == (120, bob.id)
    assert await available(bob) == 380  # bob's hold was not released by the refused bid
    assert await Bid.filter(lot_id=on.id).count() == 1


async def test_a_player_cannot_hold_more_across_lots_than_they_have() -> None:
    alice = await player(300)
    first, second = await lot(), await lot()
    await bid(alice, first, 200)
    with pytest.raises(ledger.NotEnoughPoints):
        await bid(alice, second, 101)
    await bid(alice, second, 100)
    assert (await account(alice)).held == 300
    assert await available(alice) == 0


async def test_held_points_cannot_be_spent_in_the_catalog() -> None:
    alice = await player(300)
    await bid(alice, await lot(), 250)
    reward = await item(price=100, codes=2)
    viewer = await catalog.as_player(alice)
    with pytest.raises(ledger.NotEnoughPoints):
        await catalog.redeem(viewer, reward.id, key="redeem-held-1", settings=SETTINGS)
    with pytest.raises(ledger.NotEnoughPoints):
        await ledger.spend(await account(alice), amount=51, reason="Gift",
                           reference="catalog:1", key="spend-held")
    assert await Order.all().count() == 0


async def test_a_burn_leaves_held_points_alone() -> None:
    long_ago = NOW - timedelta(days=60)
    alice = await player(500, at=long_ago)
    on = await lot(now=long_ago, ends_in=timedelta(days=90))
    await bid(alice, on, 200, now=long_ago)
    assert await burns.burn_inactive(NOW, days=30) == 1
    after = await account(alice)
    assert (after.balance, after.held) == (200, 200)
    assert (await Hold.get(account_id=after.id)).status == HoldStatus.OPEN


async def test_a_bid_counts_as_activity() -> None:
    alice = await player(500)
    await bid(alice, await lot(), 100)
    assert (await account(alice)).last_active_at == NOW


async def test_the_same_key_bids_once_and_another_amount_with_it_is_refused() -> None:
    alice = await player(500)
    on = await lot()
    first = await bid(alice, on, 150, key="tap-tap-tap")
    again = await bid(alice, on, 150, key="tap-tap-tap")
    assert again.replayed and again.bid_id == first.bid_id
    with pytest.raises(ledger.KeyReused):
        await bid(alice, on, 200, key="tap-tap-tap")
    assert (await account(alice)).held == 150


async def test_bad_bids_are_refused_with_a_reason() -> None:
    alice = await player(500)
    on = await lot()
    for amount in (0, -5, True, 10**12):
        with pytest.raises(auctions.BadBid):
            await bid(alice, on, amount)
    with pytest.raises(auctions.BadBid):
        await bid(alice, on, 150, key="short")
    with pytest.raises(auctions.NoSuchLot):
        await auctions.place_bid(alice, 999999, amount=150, key="a-good-key", settings=SETTINGS,
                                 now=NOW)
    assert await Bid.all().count() == 0


async def test_an_upcoming_lot_takes_no_bids() -> None:
    alice = await player(500)
    on = await lot(starts_at=NOW + timedelta(minutes=10))
    with pytest.raises(auctions.NotStarted):
        await bid(alice, on, 150)


async def test_a_bid_just_before_the_end_is_taken_and_extends_the_soft_close() -> None:
    alice, bob = await player(500), await player(500)
    on = await lot(ends_in=timedelta(minutes=10), soft_close=2)
    end = on.ends_at
    early = await bid(alice, on, 100, now=end - timedelta(minutes=5))
    assert not early.extended and early.ends_at == end
    late = await bid(bob, on, 110, now=end - timedelta(seconds=1))
    assert late.extended and late.ends_at == end + timedelta(minutes=2)
    assert (await Lot.get(id=on.id)).ends_at == end + timedelta(minutes=2)


async def test_a_bid_just_after_the_end_is_refused() -> None:
    alice = await player(500)
    on = await lot(ends_in=timedelta(minutes=10))
    with pytest.raises(auctions.LotEnded):
        await bid(alice, on, 100, now=on.ends_at)
    with pytest.raises(auctions.LotEnded):
        await bid(alice, on, 100, now=on.ends_at + timedelta(microseconds=1))
    assert await available(alice) == 500


async def test_closing_captures_the_winners_hold_and_tells_winner_and_losers() -> None:
    alice, bob = await player(500), await player(500)
    on = await lot()
    await bid(alice, on, 100)
    await bid(bob, on, 150)
    assert await auctions.close_due(on.ends_at, SETTINGS) == 1
    closed = await Lot.get(id=on.id)
    assert closed.status == LotStatus.CLOSED and closed.told_at is not None
    bob_account = await account(bob)
    assert (bob_account.balance, bob_account.held) == (350, 0)
    assert await available(alice) == 500
    capture = await Transfer.get(kind=TransferKind.CAPTURE)
    assert (capture.source_id, capture.target_id, capture.amount) == (
        bob_account.id, closed.account_id, 150)
    assert await Notification.exists(person_id=bob.id, kind="auction_won")
    assert await Notification.exists(person_id=alice.id, kind="auction_lost")
    assert await ledger.check_invariants() == []


async def test_closing_twice_settles_once() -> None:
    alice = await player(500)
    on = await lot()
    await bid(alice, on, 100)
    assert await auctions.close_lot(on.id, settings=SETTINGS, now=on.ends_at)
    assert not await auctions.close_lot(on.id, settings=SETTINGS, now=on.ends_at)
    assert await auctions.close_due(on.ends_at, SETTINGS) == 0
    assert await Transfer.filter(kind=TransferKind.CAPTURE).count() == 1
    assert (await account(alice)).balance == 400


async def test_a_lot_is_not_closed_before_its_end() -> None:
    on = await lot()
    assert await auctions.close_due(on.ends_at - timedelta(seconds=1), SETTINGS) == 0
    assert (await Lot.get(id=on.id)).status == LotStatus.OPEN


async def test_a_lot_without_bids_closes_empty() -> None:
    on = await lot()
    assert await auctions.close_due(on.ends_at, SETTINGS) == 1
    closed = await Lot.get(id=on.id)
    assert (closed.status, closed.leader_id, closed.order_id) == (LotStatus.CLOSED, None, None)
    assert await Transfer.filter(kind=TransferKind.CAPTURE).count() == 0


async def test_the_prize_is_delivered_as_a_catalog_order() -> None:
    alice = await player(500)
    reward = await item(price=999, codes=1)
    on = await lot(prize_item_id=reward.id)
    await bid(alice, on, 100)
    await auctions.close_due(on.ends_at, SETTINGS)
    closed = await Lot.get(id=on.id)
    order = await Order.get(id=closed.order_id)
    assert (order.person_id, order.item_id, order.price, order.code_id is not None) == (
        alice.id, reward.id, 0, True)
    assert (await account(alice)).balance == 400  # the bid, not the item's price
    # A resumed run delivers nothing twice.
    await Lot.filter(id=on.id).update(told_at=None, delivered_at=None)
    await auctions.close_due(on.ends_at, SETTINGS)
    assert await Order.all().count() == 1


async def test_a_sold_out_prize_is_recorded_as_a_problem_and_the_winner_still_pays() -> None:
    alice = await player(500)
    reward = await item(price=999, codes=0)
    on = await lot(prize_item_id=reward.id)
    await bid(alice, on, 100)
    await auctions.close_due(on.ends_at, SETTINGS)
    closed = await Lot.get(id=on.id)
    assert closed.order_id is None and "sold out" in closed.delivery_problem
    assert (await account(alice)).balance == 400


async def test_a_cancelled_lot_returns_every_hold() -> None:
    alice, bob, carol = await player(500), await player(500), await player(500)
    on = await lot()
    await bid(alice, on, 100)
    await bid(bob, on, 200)
    await bid(carol, on, 300)
    await bid(bob, on, 310)
    assert await auctions.cancel_lot(on.id, settings=SETTINGS, now=NOW) == 1
    for person in (alice, bob, carol):
        found = await account(person)
        assert (found.balance, found.held) == (500, 0)
        assert await Notification.exists(person_id=person.id, kind="auction_cancelled")
    assert await Hold.filter(status=HoldStatus.OPEN).count() == 0
    with pytest.raises(auctions.LotEnded):
        await bid(alice, on, 400)
    with pytest.raises(auctions.CannotCancel):
        await auctions.cancel_lot(on.id, settings=SETTINGS, now=NOW)
    assert await ledger.check_invariants() == []


async def test_the_history_shows_display_names_and_amounts_only() -> None:
    alice, bob = await player(500, name="Alice"), await player(500, name="Bob")
    on = await lot()
    await bid(alice, on, 100)
    await bid(bob, on, 120)
    lines, more = await auctions.history(on.id)
    assert [(line.display_name.split()[0], line.amount) for line in lines] == [
        ("Bob", 120), ("Alice", 100)]
    assert not more
    assert all("@" not in line.display_name for line in lines)


async def test_the_live_state_says_where_the_viewer_stands() -> None:
    alice, bob = await player(500), await player(500)
    on = await lot()
    await bid(alice, on, 100)
    await bid(bob, on, 150)
    mine = await auctions.lot_state(on.id, alice, now=NOW)
    assert (mine.high_bid, mine.minimum, mine.mine, mine.leading, mine.outbid,
            mine.available, mine.bidders) == (150, 160, 100, False, True, 500, 2)
    theirs = await auctions.lot_state(on.id, bob, now=NOW)
    assert (theirs.leading, theirs.outbid, theirs.available) == (True, False, 350)
    assert (await Account.get(id=on.account_id)).balance == 0


async def test_a_lot_or_raffle_whose_prize_is_no_catalog_reward_is_refused() -> None:
    from tests.auctions.lots import raffle

    with pytest.raises(catalog.NoSuchItem):
        await lot(prize_item_id=2**31 - 1)
    with pytest.raises(catalog.NoSuchItem):
        await raffle(prize_item_id=2**31 - 1)
    assert await Lot.all().count() == 0
