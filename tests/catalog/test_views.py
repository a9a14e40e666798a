"""The catalog's pages: browsing, confirming, redeeming, my rewards and codes."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from portal.catalog.models import ItemKind, Order
from portal.ledger.models import Account
from tests.catalog.stock import give, item
from tests.factories import People, SignIn, csrf


def key_of(page: str) -> str:
    found = re.search(r'name="key" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def redeem(client: httpx.AsyncClient, item_id: int, **extra: str) -> httpx.Response:
    confirm = await client.get(f"/rewards/items/{item_id}/redeem")
    assert confirm.status_code == 200, confirm.text
    return await client.post(f"/rewards/items/{item_id}/redeem",
                             data={"csrftoken": csrf(client), "key": key_of(confirm.text),
                                   **extra})


async def test_a_player_browses_redeems_and_sees_the_code_only_on_request(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    await give(people.alice, 3000)
    card = await item(price=500, codes=2, title="Coffee card")
    alice = await sign_in("alice@example.com")
    listing = await alice.get("/rewards")
    assert listing.status_code == 200 and "Coffee card" in listing.text
    assert "You can afford it" in listing.text
    done = await redeem(alice, card.id)
    assert done.status_code == 303
    order_page = await alice.get(done.headers["location"])
    assert order_page.headers["cache-control"] == "no-store"
    assert 'hx-history="false"' in order_page.text
    assert "-SECRET" not in order_page.text  # shown only when asked
    order = await Order.get(person_id=people.alice.id)
    shown = await alice.post(f"/rewards/orders/{order.id}/reveal",
                             data={"csrftoken": csrf(alice)}, headers={"HX-Request": "true"})
    assert shown.status_code == 200 and "-SECRET" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert (await Account.get(person_id=people.alice.id)).balance == 2500
    mine = await alice.get("/rewards/mine")
    assert "Coffee card" in mine.text and mine.headers["cache-control"] == "no-store"


async def test_another_players_order_is_a_404(app: Starlette, people: People,
                                             sign_in: SignIn) -> None:
    await give(people.alice, 3000)
    card = await item(price=100, codes=1)
    alice, erin = await sign_in("alice@example.com"), await sign_in("erin@example.com")
    await redeem(alice, card.id)
    order = await Order.get(person_id=people.alice.id)
    assert (await erin.get(f"/rewards/orders/{order.id}")).status_code == 404
    revealed = await erin.post(f"/rewards/orders/{order.id}/reveal",
                               data={"csrftoken": csrf(erin)})
    assert revealed.status_code == 404 and "-SECRET" not in revealed.text


async def test_below_the_threshold_the_catalog_says_how_far_and_redeeming_is_refused(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    await give(people.alice, 2000)  # the default threshold is 2,500
    card = await item(price=100, codes=1)
    alice = await sign_in("alice@example.com")
    listing = await alice.get("/rewards")
    assert "Redeeming opens at 2,500 points: 500 to go." in listing.text
    refused = await redeem(alice, card.id)
    assert refused.status_code == 409 and "500 to go" in refused.text
    assert await Order.all().count() == 0


async def test_a_gift_without_an_address_is_refused_with_the_form_kept(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    await give(people.alice, 3000)
    gift = await item(kind=ItemKind.GIFT, price=100, stock=3, title="Cap")
    alice = await sign_in("alice@example.com")
    refused = await redeem(alice, gift.id, address="  ")
    assert refused.status_code == 400 and "delivered" in refused.text
    done = await redeem(alice, gift.id, address="1 Main St, Springfield")
    assert done.status_code == 303
    page = await alice.get(done.headers["location"])
    assert "Awaiting shipping" in page.text and "1 Main St" in page.text


async def test_a_goal_is_pinned_and_shown_on_the_dashboard(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    await give(people.alice, 3000)
    dream = await item(price=9000, codes=1, title="Weekend away")
    await item(price=1000, codes=1, title="Cinema tickets")
    alice = await sign_in("alice@example.com")
    pinned = await alice.post(f"/rewards/items/{dream.id}/goal", data={"csrftoken": csrf(alice)})
    assert pinned.status_code == 303
    home = await alice.get("/")
    assert "Weekend away" in home.text and "6,000 points to go" in home.text
    assert "Cinema tickets" in home.text  # what the points buy now


async def test_the_cards_show_webp_thumbnails_made_for_a_picture_stored_before_them(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    from pathlib import Path

    from tests.web.test_pictures import image_bytes

    media = Path(app.state.settings.media_dir)
    (media / "pictures").mkdir(parents=True, exist_ok=True)
    (media / "pictures" / "legacy.png").write_bytes(image_bytes("PNG", (800, 600)))
    await item(price=500, codes=1, title="Pictured", picture="/media/pictures/legacy.png")
    alice = await sign_in("alice@example.com")
    page = (await alice.get("/rewards")).text
    found = re.search(r'<img class="reward-picture" src="([^"]+)" srcset="([^"]+)"', page)
    assert found, page
    assert found.group(1) == "/media/pictures/thumbs/legacy-240.webp"
    assert found.group(2).endswith("/media/pictures/thumbs/legacy-480.webp 480w")
    thumb = await alice.get(found.group(1))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    assert len(thumb.content) < 10_000


async def test_a_manager_sees_the_companys_orders_named_as_the_companys(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    from portal.ledger import service as ledger

    company = await Account.get(company_id=people.acme.id)
    await ledger.earn(company, amount=5000, reason="Sales", reference="sales:1", key="co-v-1")
    voucher = await item(price=1200, codes=1, title="Team voucher", for_companies=True)
    bob = await sign_in("bob@example.com")
    empty = await bob.get("/rewards/company/orders")
    assert "Nothing redeemed for the company yet." in empty.text
    assert "Your rewards and their codes" not in empty.text  # that is a player's own list
    confirm = await bob.get(f"/rewards/company/items/{voucher.id}/redeem")
    done = await bob.post(f"/rewards/company/items/{voucher.id}/redeem",
                          data={"csrftoken": csrf(bob), "key": key_of(confirm.text)})
    assert done.status_code == 303
    order_page = await bob.get(done.headers["location"])
    assert "Done! 1,200 of the company's points were spent." in order_page.text
    costly = await item(price=9000, codes=1, title="Big voucher", for_companies=True)
    short = await bob.get(f"/rewards/company/items/{costly.id}/redeem")
    assert "5,200 points to go" in short.text  # the disabled button says why
