"""Charity through the JSON API: the same service functions as the pages."""

from __future__ import annotations

import httpx
import pytest

from portal.charity.models import Donation
from portal.ledger import service as ledger
from tests.charity.causes import give_points, make_cause
from tests.factories import People, token_for


async def bearer(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(client, email)}"}


async def test_causes_and_a_cause_show_totals_donors_and_the_conversion(
        client: httpx.AsyncClient, people: People) -> None:
    cause = await make_cause(people.carol, match_percent=0)
    headers = await bearer(client, "alice@example.com")
    listed = (await client.get("/api/v1/charity/causes", headers=headers)).json()
    assert [c["title"] for c in listed["causes"]] == ["Clean water for schools"]
    assert listed["causes"][0]["points_per_unit"] == 100
    assert listed["network"] == {"total": 0, "donors": 0, "outlets": [], "mine": None}
    one = (await client.get(f"/api/v1/charity/causes/{cause.id}", headers=headers)).json()
    assert one["cause"]["total"] == 0 and one["given_by_me"] == 0 and one["donations"] == []


async def test_donating_with_a_key_gives_once_and_a_retry_answers_the_same(
        client: httpx.AsyncClient, people: People) -> None:
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)
    headers = {**await bearer(client, "alice@example.com"), "Idempotency-Key": "tap-12345"}
    url = f"/api/v1/charity/causes/{cause.id}/donate"
    first = await client.post(url, json={"amount": 400}, headers=headers)
    again = await client.post(url, json={"amount": 400}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["donation_id"] == again.json()["donation_id"]
    assert again.json()["replayed"] is True
    assert await Donation.all().count() == 1
    assert (await ledger.account_of_person(people.alice.id)).balance == 600
    one = (await client.get(f"/api/v1/charity/causes/{cause.id}", headers=headers)).json()
    assert one["cause"]["total"] == 400 and one["cause"]["total_money"] == "8.00"
    assert one["given_by_me"] == 400
    assert [d["donor"] for d in one["donations"]] == [people.alice.display_name]


@pytest.mark.parametrize(("body", "key", "status", "message"), [
    ({"amount": 200}, None, 400, "Idempotency-Key"),
    ({"amount": 200}, "short", 400, "Idempotency-Key"),
    ({"amount": 200}, "bad key with spaces", 400, "Idempotency-Key"),
    ({"amount": "many"}, "key-123456", 422, "Some fields"),
    ({"amount": 200, "for": "me"}, "key-123456", 422, "Some fields"),
    ({"amount": 50}, "key-123456", 400, "The smallest donation to this cause is 100 points."),
    ({"amount": 5000}, "key-123456", 409, "Not enough points"),
])
async def test_bad_donations_are_refused_as_json_and_give_nothing(
        client: httpx.AsyncClient, people: People, body: dict[str, object], key: str | None,
        status: int, message: str) -> None:
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)
    headers = await bearer(client, "alice@example.com")
    if key is not None:
        headers["Idempotency-Key"] = key
    response = await client.post(f"/api/v1/charity/causes/{cause.id}/donate", json=body,
                                 headers=headers)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]
    assert await Donation.all().count() == 0


async def test_marketing_cannot_donate_and_an_unknown_cause_is_404(
        client: httpx.AsyncClient, people: People) -> None:
    cause = await make_cause(people.carol)
    carol = {**await bearer(client, "carol@example.com"), "Idempotency-Key": "key-123456"}
    refused = await client.post(f"/api/v1/charity/causes/{cause.id}/donate",
                                json={"amount": 200}, headers=carol)
    assert refused.status_code == 403
    alice = {**await bearer(client, "alice@example.com"), "Idempotency-Key": "key-123456"}
    missing = await client.post("/api/v1/charity/causes/999999/donate", json={"amount": 200},
                                headers=alice)
    assert missing.status_code == 404
    assert (await client.get("/api/v1/charity/causes/999999", headers=alice)).status_code == 404


async def test_the_operations_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert {"/charity/causes", "/charity/causes/{cause_id}",
            "/charity/causes/{cause_id}/donate"} <= set(paths)
    assert {"201", "200", "400", "403", "404", "409", "422"} <= set(
        paths["/charity/causes/{cause_id}/donate"]["post"]["responses"])


async def test_a_query_parameter_the_causes_do_not_take_is_a_400(
        client: httpx.AsyncClient, people: People) -> None:
    headers = await bearer(client, "alice@example.com")
    response = await client.get("/api/v1/charity/causes?page=2", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "Unknown query parameter 'page'; this operation takes none.")
