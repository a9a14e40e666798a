"""Marketing's catalog pages: items with pictures, code files refused whole or imported,
masked lists, gift fulfilment, cancellations that refund once, the formula-safe export,
and low stock told once per crossing."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from portal.catalog import service as catalog
from portal.catalog.models import Category, Code, Item, ItemKind, Order, OrderStatus
from portal.ledger.models import Account, Transfer, TransferKind
from portal.notifications.models import Notification
from tests.catalog.stock import SETTINGS, give, item
from tests.factories import People, SignIn, csrf
from tests.web.test_pictures import image_bytes


async def post(client: httpx.AsyncClient, url: str, data: dict[str, str],
               files: dict[str, tuple[str, bytes, str]] | None = None) -> httpx.Response:
    if files:  # uploads carry the token in the header, as HTMX sends it
        return await client.post(url, data=data, files=files,
                                 headers={"x-csrftoken": csrf(client)})
    return await client.post(url, data={"csrftoken": csrf(client), **data})


async def test_marketing_adds_a_category_and_an_item_with_a_picture(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    carol = await sign_in("carol@example.com")
    await carol.get("/marketing/catalog")
    assert (await post(carol, "/marketing/catalog/categories",
                       {"name": "Gift cards", "position": "1"})).status_code == 303
    category = await Category.get(name="Gift cards")
    saved = await post(carol, "/marketing/catalog/items/new", {
        "category_id": str(category.id), "kind": "certificate", "title": "Book voucher",
        "price": "800", "description": "Any bookshop", "how_to_use": "Show it at the till",
        "active": "true", "stock": "", "monthly_limit": "2", "low_stock_at": "5",
        "unlock_quiz_id": "", "unlock_course_id": ""},
        files={"picture": ("card.png", image_bytes("PNG"), "image/png")})
    assert saved.status_code == 303, saved.text
    made = await Item.get(title="Book voucher")
    assert made.picture.startswith("/media/pictures/") and made.monthly_limit == 2
    assert (await carol.get(made.picture)).status_code == 200
    page = await carol.get(f"/marketing/catalog/items/{made.id}")
    assert page.status_code == 200 and "Book voucher" in page.text


async def test_an_item_form_with_bad_values_names_the_field_and_saves_nothing(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    category = await catalog.save_category("Merch")
    carol = await sign_in("carol@example.com")
    await carol.get("/marketing/catalog")
    refused = await post(carol, "/marketing/catalog/items/new", {
        "category_id": str(category.id), "kind": "certificate", "title": "Cap",
        "price": "-5"})
    assert refused.status_code == 400 and "field-error" in refused.text
    svg = await post(carol, "/marketing/catalog/items/new", {
        "category_id": str(category.id), "kind": "gift", "title": "Cap", "price": "5"},
        files={"picture": ("x.png", b"<svg onload='alert(1)'/>", "image/png")})
    assert svg.status_code == 400 and "PNG, JPEG or WebP" in svg.text
    assert await Item.all().count() == 0


async def test_a_code_file_with_a_bad_line_is_refused_naming_it_and_a_good_one_imported(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    card = await item(price=100)
    carol = await sign_in("carol@example.com")
    await carol.get("/marketing/catalog")
    url = f"/marketing/catalog/items/{card.id}/codes"
    bad = b"code,value,expiry\nAB-0001,10 EUR,2099-01-01\nAB-0002,10 EUR,tomorrow\n"
    refused = await post(carol, url, {}, files={"codes": ("codes.csv", bad, "text/csv")})
    assert refused.status_code == 400
    assert "Line 3: the expiry tomorrow is not a date" in refused.text
    assert await Code.filter(item_id=card.id).count() == 0
    good = b"code,value,expiry\nAB-0001,10 EUR,2099-01-01\nAB-0002,10 EUR,\n"
    done = await post(carol, url, {}, files={"codes": ("codes.csv", good, "text/csv")})
    assert done.status_code == 303
    page = await carol.get(done.headers["location"])
    assert "2 codes imported" in page.text
    assert "•••• 0001" in page.text and "AB-0001" not in page.text


async def test_marketing_ships_and_delivers_a_gift_and_the_player_sees_each_state(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    await give(people.alice, 3000)
    gift = await item(kind=ItemKind.GIFT, price=300, stock=2, title="Water bottle")
    alice = await catalog.as_player(people.alice)
    done = await catalog.redeem(alice, gift.id, key="ship-tap-01", address="5 Pump Lane",
                                settings=SETTINGS)
    carol = await sign_in("carol@example.com")
    listing = await carol.get("/marketing/catalog/orders?status=awaiting")
    assert "Water bottle" in listing.text and "5 Pump Lane" in listing.text
    for step in ("shipped", "delivered"):
        moved = await post(carol, f"/marketing/catalog/orders/{done.order_id}/advance",
                           {"to": step})
        assert moved.status_code == 303
    assert (await Order.get(id=done.order_id)).status == OrderStatus.DELIVERED
    again = await post(carol, f"/marketing/catalog/orders/{done.order_id}/advance",
                       {"to": "delivered"})
    assert again.status_code == 409


async def test_cancelling_from_the_orders_page_refunds_once_with_the_reason(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    await give(people.alice, 3000)
    card = await item(price=400, codes=2)
    alice = await catalog.as_player(people.alice)
    done = await catalog.redeem(alice, card.id, key="cancel-page", settings=SETTINGS)
    carol = await sign_in("carol@example.com")
    await carol.get("/marketing/catalog/orders")
    url = f"/marketing/catalog/orders/{done.order_id}/cancel"
    assert (await post(carol, url, {"reason": ""})).status_code == 400
    for _ in range(2):
        assert (await post(carol, url, {"reason": "Partner closed"})).status_code == 303
    assert (await Account.get(person_id=people.alice.id)).balance == 3000
    assert await Transfer.filter(kind=TransferKind.REFUND).count() == 1
    view = await catalog.order(alice, done.order_id)
    assert view.status == OrderStatus.CANCELLED and view.cancel_reason == "Partner closed"


async def test_the_orders_export_is_formula_safe_and_masks_codes(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    await give(people.alice, 3000)
    gift = await item(kind=ItemKind.GIFT, price=100, stock=5, title="=HYPERLINK(\"x\")")
    card = await item(price=100, codes=1)
    alice = await catalog.as_player(people.alice)
    await catalog.redeem(alice, gift.id, key="export-tap1", address="@SUM(A1)",
                         settings=SETTINGS)
    await catalog.redeem(alice, card.id, key="export-tap2", settings=SETTINGS)
    carol = await sign_in("carol@example.com")
    export = await carol.get("/marketing/catalog/orders.csv")
    assert export.status_code == 200 and export.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0][0] == "order" and len(rows) == 3
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    assert "-SECRET" not in export.text and "•••• CRET" in export.text


async def test_low_stock_tells_marketing_once_per_crossing(
        app: Starlette, people: People) -> None:
    for p in (people.alice, people.erin):
        await give(p, 5000)
    card = await item(price=10, codes=4, low_stock_at=2)
    alice, erin = await catalog.as_player(people.alice), await catalog.as_player(people.erin)
    await catalog.redeem(alice, card.id, key="low-tap-01", settings=SETTINGS)  # 3 left
    assert await Notification.filter(kind="low_stock").count() == 0
    await catalog.redeem(alice, card.id, key="low-tap-02", settings=SETTINGS)  # 2 left
    await catalog.redeem(erin, card.id, key="low-tap-03", settings=SETTINGS)  # 1 left
    told = await Notification.filter(kind="low_stock", person_id=people.carol.id)
    assert len(told) == 1 and told[0].params["left"] == 2
    await catalog.import_codes(card.id, b"code,value,expiry\nMORE-1,1,\nMORE-2,1,\n",
                               settings=SETTINGS)  # 3 left: above the mark again
    await catalog.redeem(erin, card.id, key="low-tap-04", settings=SETTINGS)  # 2 left
    assert await Notification.filter(kind="low_stock", person_id=people.carol.id).count() == 2


async def test_the_reveal_log_lists_who_saw_which_code_masked_and_pages(
        app: Starlette, people: People, sign_in: SignIn) -> None:
    carol = await sign_in("carol@example.com")
    empty = await carol.get("/marketing/catalog/reveals")
    assert empty.status_code == 200 and "No code has been revealed yet" in empty.text
    await give(people.alice, 5000)
    card = await item(price=10, codes=3, title="Cinema code")
    alice = await catalog.as_player(people.alice)
    done = await catalog.redeem(alice, card.id, key="log-tap-01", settings=SETTINGS)
    assert await catalog.mail_codes(datetime.now(UTC), SETTINGS) == 1
    code = (await catalog.reveal(alice, done.order_id, via="web", settings=SETTINGS)).code
    await catalog.reveal(alice, done.order_id, via="api", settings=SETTINGS)
    page = await carol.get("/marketing/catalog/reveals")
    assert page.status_code == 200 and code not in page.text
    lines = re.findall(r'data-testid="reveal">.*?</li>', page.text, re.S)
    # Newest first: the API reveal, the web one, the e-mail sent with the order.
    assert [("app (API)" in li, "website" in li, "e-mail" in li) for li in lines] == [
        (True, False, False), (False, True, False), (False, False, True)]
    assert all(f"#{done.order_id} Cinema code" in li and "Alice Archer" in li
               and f"•••• {code[-4:]}" in li for li in lines)
    for _ in range(app.state.settings.page_size):
        await catalog.reveal(alice, done.order_id, via="web", settings=SETTINGS)
    first = await carol.get("/marketing/catalog/reveals")
    assert "?page=2" in first.text
    second = await carol.get("/marketing/catalog/reveals?page=2")
    assert second.text.count('data-testid="reveal"') == 3 and "?page=1" in second.text
    assert (await carol.get("/marketing/catalog/reveals?page=0")).status_code == 400
