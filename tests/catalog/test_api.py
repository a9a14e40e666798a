"""The catalog through the JSON API: listing, detail, redeem with an Idempotency-Key, my
orders, and revealing a code, only to its owner."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from portal.ledger.models import Account
from tests.catalog.stock import give, item
from tests.factories import People, token_for


async def bearer(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(client, email)}"}


async def test_a_player_lists_redeems_once_per_key_and_reveals_the_code(
        app: Starlette, client: httpx.AsyncClient, people: People) -> None:
    await give(people.alice, 3000)
    card = await item(price=700, codes=2, title="Fuel card")
    alice = await bearer(client, "alice@example.com")
    listing = (await client.get("/api/v1/catalog/items", headers=alice)).json()
    assert [i["title"] for i in listing["items"]] == ["Fuel card"]
    assert listing["available"] == 3000 and listing["items"][0]["affordable"]
    headers = {**alice, "Idempotency-Key": "api-tap-000001"}
    first = await client.post(f"/api/v1/catalog/items/{card.id}/redeem", json={},
                              headers=headers)
    again = await client.post(f"/api/v1/catalog/items/{card.id}/redeem", json={},
                              headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["order"]["id"] == again.json()["order"]["id"]
    assert again.json()["replayed"] is True
    assert (await Account.get(person_id=people.alice.id)).balance == 2300
    order_id = first.json()["order"]["id"]
    orders = (await client.get("/api/v1/catalog/orders", headers=alice)).json()
    assert [o["id"] for o in orders["orders"]] == [order_id]
    shown = await client.post(f"/api/v1/catalog/orders/{order_id}/reveal", headers=alice)
    assert shown.status_code == 200 and shown.json()["code"].endswith("-SECRET")
    assert shown.headers["cache-control"] == "no-store"
    erin = await bearer(client, "erin@example.com")
    other = await client.post(f"/api/v1/catalog/orders/{order_id}/reveal", headers=erin)
    assert other.status_code == 404 and "SECRET" not in other.text


async def test_redeeming_without_a_key_or_when_sold_out_is_refused_with_json(
        app: Starlette, client: httpx.AsyncClient, people: People) -> None:
    await give(people.alice, 3000)
    await give(people.erin, 3000)
    card = await item(price=100, codes=1)
    alice = await bearer(client, "alice@example.com")
    no_key = await client.post(f"/api/v1/catalog/items/{card.id}/redeem", json={},
                               headers=alice)
    assert no_key.status_code == 400 and "Idempotency-Key" in no_key.json()["error"]["message"]
    await client.post(f"/api/v1/catalog/items/{card.id}/redeem", json={},
                      headers={**alice, "Idempotency-Key": "api-tap-000002"})
    erin = await bearer(client, "erin@example.com")
    sold = await client.post(f"/api/v1/catalog/items/{card.id}/redeem", json={},
                             headers={**erin, "Idempotency-Key": "api-tap-000003"})
    assert sold.status_code == 409 and "sold out" in sold.json()["error"]["message"]
    assert (await Account.get(person_id=people.erin.id)).balance == 3000
    missing = await client.get("/api/v1/catalog/items/999999", headers=alice)
    assert missing.status_code == 404


async def test_every_idempotent_operation_documents_the_one_key_header(
        client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    operations = [document["paths"][path]["post"] for path in (
        "/catalog/items/{item_id}/redeem", "/charity/causes/{cause_id}/donate",
        "/auctions/{lot_id}/bids", "/raffles/{raffle_id}/tickets")]
    for operation in operations:
        header = [p for p in operation["parameters"] if p["in"] == "header"]
        assert [(p["name"], p["required"], p["schema"]["pattern"]) for p in header] == [
            ("Idempotency-Key", True, "^[A-Za-z0-9_-]{8,100}$")]
        assert "400" in operation["responses"]
    listing = document["paths"]["/catalog/items"]["get"]
    assert all(p["in"] != "header" for p in listing["parameters"])
