"""A gift won in an auction or a raffle becomes an order without an address: the winner
is told to give one, and gives it once on the order's page."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.auctions import prizes
from portal.catalog.models import ItemKind, Order, OrderStatus
from portal.notifications.models import Notification
from tests.catalog.stock import SETTINGS, item
from tests.factories import People, SignIn, csrf


async def test_the_winner_of_a_gift_is_told_and_gives_the_address_once(
        people: People, sign_in: SignIn) -> None:
    gift = await item(kind=ItemKind.GIFT, price=900, stock=2, title="Garden hose")
    now = datetime.now(UTC)
    order_id, problem = await prizes.deliver(people.alice, gift.id, key="auction-prize:77",
                                             settings=SETTINGS, now=now)
    assert order_id is not None and problem == ""
    # A resumed run delivers and tells nothing twice.
    assert await prizes.deliver(people.alice, gift.id, key="auction-prize:77",
                                settings=SETTINGS, now=now) == (order_id, "")
    told = await Notification.filter(person_id=people.alice.id, kind="prize_address")
    assert len(told) == 1 and told[0].params == {"title": "Garden hose"}

    alice = await sign_in("alice@example.com")
    mine = await alice.get("/rewards/mine")  # the notice links here: the order asks for it
    assert "Give your delivery address" in mine.text and "−0" not in mine.text
    page = await alice.get(f"/rewards/orders/{order_id}")
    assert 'data-testid="prize-address"' in page.text
    assert "A prize: nothing to pay" in page.text and "<dd>0 points</dd>" not in page.text
    url = f"/auctions/prizes/{order_id}/address"
    empty = await alice.post(url, data={"csrftoken": csrf(alice), "address": "  "})
    assert empty.status_code == 400 and "Say where the gift should be delivered." in empty.text
    assert "autofocus" in empty.text  # a phone scrolls down to the field and its error
    too_long = await alice.post(url, data={"csrftoken": csrf(alice), "address": "x" * 501})
    assert too_long.status_code == 400 and "longer than 500" in too_long.text
    given = await alice.post(url, data={"csrftoken": csrf(alice),
                                        "address": "1 River Road, Kazan"})
    assert given.status_code == 303
    assert given.headers["location"].endswith(f"/rewards/orders/{order_id}?address=given")
    order = await Order.get(id=order_id)
    assert (order.address, order.status) == ("1 River Road, Kazan", OrderStatus.AWAITING)
    shown = await alice.get(given.headers["location"])
    assert "1 River Road, Kazan" in shown.text and 'data-testid="prize-address"' not in shown.text
    assert "Your gift will be sent to the address below." in shown.text
    mine = await alice.get("/rewards/mine")
    assert "Give your delivery address" not in mine.text
    again = await alice.post(url, data={"csrftoken": csrf(alice), "address": "Elsewhere"})
    assert again.status_code == 400 and "already has its delivery address" in again.text
    assert (await Order.get(id=order_id)).address == "1 River Road, Kazan"

    erin = await sign_in("erin@example.com")  # another player's order is not found
    other = await erin.post(url, data={"csrftoken": csrf(erin), "address": "Mine now"})
    assert other.status_code == 404


async def test_a_code_prize_asks_for_no_address(people: People) -> None:
    card = await item(price=100, codes=1, title="Cinema code")
    order_id, _ = await prizes.deliver(people.alice, card.id, key="raffle-prize:5:1",
                                       settings=SETTINGS, now=datetime.now(UTC))
    assert order_id is not None
    assert not await Notification.filter(kind="prize_address").exists()
