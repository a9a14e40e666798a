"""The catalog through the JSON API: listing, detail, redeem with an Idempotency-Key, my
orders, and revealing a code, only to its owner."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from portal.ledger import service as ledger
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


async def _company_points(people: People, points: int) -> Account:
    company = await Account.get(company_id=people.acme.id)
    await ledger.earn(company, amount=points, reason="Sales", reference="sales:api",
                      key=f"sales:api:{points}")
    return company


async def test_a_manager_redeems_for_the_company_once_per_key_and_lists_its_orders(
        app: Starlette, client: httpx.AsyncClient, people: People) -> None:
    company = await _company_points(people, 5000)
    await give(people.bob, 3000)
    voucher = await item(price=1200, codes=2, title="Training voucher", for_companies=True)
    await item(price=10, codes=1, title="Player's card")
    bob = await bearer(client, "bob@example.com")
    listing = (await client.get("/api/v1/catalog/company/items", headers=bob)).json()
    assert [i["title"] for i in listing["items"]] == ["Training voucher"]
    assert (listing["available"], listing["threshold"]) == (5000, 0)
    detail = await client.get(f"/api/v1/catalog/company/items/{voucher.id}", headers=bob)
    assert detail.json()["affordable"] is True
    headers = {**bob, "Idempotency-Key": "company-tap-01"}
    url = f"/api/v1/catalog/company/items/{voucher.id}/redeem"
    first, again = [await client.post(url, json={}, headers=headers) for _ in range(2)]
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["order"]["id"] == again.json()["order"]["id"]
    assert (await Account.get(id=company.id)).balance == 3800  # charged once
    assert (await Account.get(person_id=people.bob.id)).balance == 3000  # his own untouched
    orders = await client.get("/api/v1/catalog/company/orders", headers=bob)
    assert orders.headers["cache-control"] == "no-store"
    assert [(o["id"], o["redeemed_by"]) for o in orders.json()["orders"]] == [
        (first.json()["order"]["id"], "Bob Baker")]
    order_id = first.json()["order"]["id"]
    shown = await client.post(f"/api/v1/catalog/company/orders/{order_id}/reveal",
                              headers=bob)
    assert shown.status_code == 200 and shown.json()["code"].endswith("-SECRET")
    # The company's order is not Bob's own: the player side does not find it.
    mine = await client.post(f"/api/v1/catalog/orders/{order_id}/reveal", headers=bob)
    assert mine.status_code == 404 and "SECRET" not in mine.text


async def test_players_cannot_spend_company_points_nor_managers_a_players(
        app: Starlette, client: httpx.AsyncClient, people: People) -> None:
    company = await _company_points(people, 5000)
    await give(people.alice, 3000)
    voucher = await item(price=1000, codes=2, for_companies=True)
    card = await item(price=500, codes=2)
    alice = await bearer(client, "alice@example.com")
    for url in ("/api/v1/catalog/company/items", f"/api/v1/catalog/company/items/{voucher.id}",
                "/api/v1/catalog/company/orders"):
        refused = await client.get(url, headers=alice)
        assert refused.status_code == 403, url
        assert "partner managers" in refused.json()["error"]["message"]
    spend = await client.post(f"/api/v1/catalog/company/items/{voucher.id}/redeem", json={},
                              headers={**alice, "Idempotency-Key": "alice-company-1"})
    assert spend.status_code == 403
    # A player's endpoint never sells a company item, to a player or to a manager.
    bob = await bearer(client, "bob@example.com")
    for who in (alice, bob):
        hidden = await client.post(f"/api/v1/catalog/items/{voucher.id}/redeem", json={},
                                   headers={**who, "Idempotency-Key": "player-side-01"})
        assert hidden.status_code == 404
    # Nor does the company's endpoint sell a player's item with the company's points.
    other = await client.post(f"/api/v1/catalog/company/items/{card.id}/redeem", json={},
                              headers={**bob, "Idempotency-Key": "company-side-01"})
    assert other.status_code == 404
    assert (await Account.get(id=company.id)).balance == 5000
    assert (await Account.get(person_id=people.alice.id)).balance == 3000
    # Marketing is no partner manager of any company.
    carol = await bearer(client, "carol@example.com")
    assert (await client.get("/api/v1/catalog/company/items", headers=carol)).status_code == 403


@pytest.mark.parametrize(("body", "key", "status", "message"), [
    ({}, None, 400, "Idempotency-Key"),
    ({}, "short", 400, "Idempotency-Key"),
    ({"address": 5}, "company-bad-01", 422, "Some fields"),
    ({"to": "me"}, "company-bad-02", 422, "Some fields"),
    ({}, "company-bad-03", 409, "Not enough points"),
])
async def test_bad_company_redemptions_are_refused_as_json_and_charge_nothing(
        app: Starlette, client: httpx.AsyncClient, people: People,
        body: dict[str, object], key: str | None, status: int, message: str) -> None:
    company = await _company_points(people, 500)
    voucher = await item(price=1000, codes=2, for_companies=True)
    headers = await bearer(client, "bob@example.com")
    if key is not None:
        headers["Idempotency-Key"] = key
    response = await client.post(f"/api/v1/catalog/company/items/{voucher.id}/redeem",
                                 json=body, headers=headers)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]
    assert (await Account.get(id=company.id)).balance == 500


@pytest.mark.parametrize("url", ["/api/v1/catalog/company/items?page=0",
                                 "/api/v1/catalog/company/items?sort=price",
                                 "/api/v1/catalog/company/orders?page=x",
                                 "/api/v1/catalog/company/items/1?x=1"])
async def test_bad_company_query_parameters_are_a_400(
        app: Starlette, client: httpx.AsyncClient, people: People, url: str) -> None:
    await item(price=10, for_companies=True)
    response = await client.get(url, headers=await bearer(client, "bob@example.com"))
    assert response.status_code == 400


async def test_the_company_operations_are_in_the_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert {"/catalog/company/items", "/catalog/company/items/{item_id}",
            "/catalog/company/items/{item_id}/redeem", "/catalog/company/orders",
            "/catalog/company/orders/{order_id}/reveal"} <= set(paths)
    listed = paths["/catalog/company/orders"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"]["$ref"].endswith(
        "CompanyOrdersOut")
