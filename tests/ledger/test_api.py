"""A person's points history through the JSON API."""

from __future__ import annotations

import httpx
import pytest

from portal.ledger import service as ledger
from tests.factories import People, token_for


async def test_the_ledger_endpoint_pages_and_filters(client: httpx.AsyncClient,
                                                     people: People) -> None:
    account = await ledger.account_of_person(people.alice.id)
    for i in range(3):
        await ledger.earn(account, amount=10 * (i + 1), reason=f"Quiz {i}",
                          reference=f"quiz:{i}", key=f"e{i}")
    await ledger.spend(account, amount=5, reason="Gift", reference="catalog:1", key="s")
    headers = {"Authorization": f"Bearer {await token_for(client, 'alice@example.com')}"}
    first = (await client.get("/api/v1/me/ledger?per_page=2", headers=headers)).json()
    assert [e["amount"] for e in first["entries"]] == [-5, 30] and first["has_more"]
    second = (await client.get("/api/v1/me/ledger?per_page=2&page=2", headers=headers)).json()
    assert [e["reason"] for e in second["entries"]] == ["Quiz 1", "Quiz 0"]
    assert not second["has_more"]
    earns = (await client.get("/api/v1/me/ledger?kind=earn", headers=headers)).json()
    assert {e["kind"] for e in earns["entries"]} == {"earn"}


async def test_one_player_never_sees_another_players_entries(client: httpx.AsyncClient,
                                                             people: People) -> None:
    erin = await ledger.account_of_person(people.erin.id)
    await ledger.earn(erin, amount=999, reason="Erin's quiz", reference="quiz:1", key="erin")
    headers = {"Authorization": f"Bearer {await token_for(client, 'alice@example.com')}"}
    body = (await client.get("/api/v1/me/ledger", headers=headers)).json()
    assert body["entries"] == []


@pytest.mark.parametrize("query, message", [
    ("page=0", "page must be a whole number"),
    ("page=abc", "page must be a whole number"),
    ("per_page=1000", "per_page must be a whole number from 1 to 100"),
    ("kind=gift", "kind must be one of"),
])
async def test_bad_query_parameters_are_explained_as_json(
    client: httpx.AsyncClient, people: People, query: str, message: str
) -> None:
    headers = {"Authorization": f"Bearer {await token_for(client, 'alice@example.com')}"}
    response = await client.get(f"/api/v1/me/ledger?{query}", headers=headers)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
