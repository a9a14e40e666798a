"""Auctions and raffles through the JSON API: the same rules as the pages, a bid and a
ticket purchase once per Idempotency-Key, and bad input answered with its reason."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from portal.auctions.models import Bid, Ticket
from portal.ledger.models import Account
from tests.auctions.lots import give, lot, raffle
from tests.factories import People, token_for


async def bearer(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(client, email)}"}


def now() -> datetime:
    return datetime.now(UTC)


async def test_a_player_lists_bids_once_per_key_and_sees_their_position(
        app: Starlette, client: httpx.AsyncClient, people: People) -> None:
    on = await lot(now=now(), title="Signed jersey", starting_bid=100, increment=10)
    await give(people.alice, 1000, at=now())
    alice = await bearer(client, "alice@example.com")
    listing = (await client.get("/api/v1/auctions", headers=alice)).json()
    assert [(x["title"], x["state"], x["minimum_bid"]) for x in listing["lots"]] == [
        ("Signed jersey", "open", 100)]
    headers = {**alice, "Idempotency-Key": "api-bid-000001"}
    first = await client.post(f"/api/v1/auctions/{on.id}/bids", json={"amount": 150},
                              headers=headers)
    again = await client.post(f"/api/v1/auctions/{on.id}/bids", json={"amount": 150},
                              headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["bid_id"] == again.json()["bid_id"] and again.json()["replayed"]
    detail = (await client.get(f"/api/v1/auctions/{on.id}", headers=alice)).json()
    assert (detail["high_bid"], detail["minimum_bid"], detail["my_bid"], detail["leading"],
            detail["available"]) == (150, 160, 150, True, 850)
    assert detail["history"][0]["display_name"] == people.alice.display_name
    assert "alice@example.com" not in str(detail)
    assert await Bid.all().count() == 1


@pytest.mark.parametrize(("body", "key", "status", "message"), [
    ({"amount": 150}, "", 400, "Idempotency-Key"),
    ({"amount": 150}, "bad key!", 400, "Idempotency-Key"),
    ({"amount": 99}, "api-bid-000002", 409, "Bid at least 100 points."),
    ({"amount": 5000}, "api-bid-000003", 409, "Not enough points"),
    ({"amount": "many"}, "api-bid-000004", 422, "Some fields are missing or not valid."),
    ({"amount": 150, "role": "admin"}, "api-bid-000005", 422, "not valid"),
    ({}, "api-bid-000006", 422, "not valid"),
])
async def test_a_bad_bid_is_refused_with_its_reason(
        app: Starlette, client: httpx.AsyncClient, people: People, body: dict[str, object],
        key: str, status: int, message: str) -> None:
    on = await lot(now=now())
    await give(people.alice, 1000, at=now())
    headers = {**await bearer(client, "alice@example.com"), "Idempotency-Key": key}
    answer = await client.post(f"/api/v1/auctions/{on.id}/bids", json=body, headers=headers)
    assert answer.status_code == status
    assert message in answer.json()["error"]["message"]
    assert await Bid.all().count() == 0
    assert (await Account.get(person_id=people.alice.id)).held == 0


async def test_marketing_reads_lots_but_cannot_bid(
        app: Starlette, client: httpx.AsyncClient, people: People) -> None:
    on = await lot(now=now())
    carol = await bearer(client, "carol@example.com")
    detail = (await client.get(f"/api/v1/auctions/{on.id}", headers=carol)).json()
    assert detail["available"] is None and detail["my_bid"] == 0
    answer = await client.post(f"/api/v1/auctions/{on.id}/bids", json={"amount": 200},
                               headers={**carol, "Idempotency-Key": "carol-bid-0001"})
    assert answer.status_code == 403


async def test_a_player_buys_tickets_once_per_key_and_reads_the_raffle(
        app: Starlette, client: httpx.AsyncClient, people: People) -> None:
    draw = await raffle(now=now(), price=40, limit=4)
    await give(people.alice, 1000, at=now())
    alice = await bearer(client, "alice@example.com")
    listed = (await client.get("/api/v1/raffles", headers=alice)).json()
    assert [r["id"] for r in listed["raffles"]] == [draw.id]
    headers = {**alice, "Idempotency-Key": "api-tickets-01"}
    first = await client.post(f"/api/v1/raffles/{draw.id}/tickets", json={"count": 3},
                              headers=headers)
    again = await client.post(f"/api/v1/raffles/{draw.id}/tickets", json={"count": 3},
                              headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["numbers"] == [1, 2, 3] and first.json()["paid"] == 120
    over = await client.post(f"/api/v1/raffles/{draw.id}/tickets", json={"count": 2},
                             headers={**alice, "Idempotency-Key": "api-tickets-02"})
    assert over.status_code == 409 and "At most 4 tickets" in over.json()["error"]["message"]
    bad = await client.post(f"/api/v1/raffles/{draw.id}/tickets", json={"count": 0},
                            headers={**alice, "Idempotency-Key": "api-tickets-03"})
    assert bad.status_code == 422
    detail = (await client.get(f"/api/v1/raffles/{draw.id}", headers=alice)).json()
    assert detail["my_tickets"] == [1, 2, 3] and detail["seed"] is None
    assert [t["display_name"] for t in detail["tickets"]] == [people.alice.display_name] * 3
    assert await Ticket.all().count() == 3
    assert (await client.get("/api/v1/raffles?page=2", headers=alice)).status_code == 400


async def test_the_operations_are_in_the_openapi_document(
        app: Starlette, client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    for path in ("/auctions", "/auctions/{lot_id}", "/auctions/{lot_id}/bids", "/raffles",
                 "/raffles/{raffle_id}", "/raffles/{raffle_id}/tickets"):
        assert path in paths
    assert "409" in paths["/auctions/{lot_id}/bids"]["post"]["responses"]
