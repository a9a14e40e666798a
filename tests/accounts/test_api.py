"""Signing in and out through the JSON API, and /me."""

from __future__ import annotations

import httpx
import pytest

from portal.ledger import service as ledger
from tests.factories import PASSWORD, People, SignIn, token_for


async def test_a_player_signs_in_and_reads_their_points(client: httpx.AsyncClient,
                                                        people: People) -> None:
    account = await ledger.account_of_person(people.alice.id)
    await ledger.earn(account, amount=300, reason="Quiz", reference="quiz:1", key="e1")
    lot = await ledger.system_account("auction:1")
    await ledger.hold(account, target=lot, amount=120, reason="Bid", reference="lot:1", key="h1")
    token = await token_for(client, "alice@example.com")
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    me = response.json()
    assert me["email"] == "alice@example.com"
    assert me["roles"] == ["player"]
    assert (me["company"], me["outlet"], me["region"]) == ("Acme Pumps", "Acme North", "North")
    assert (me["balance"], me["held"], me["available"], me["earned_this_season"]) == (
        300, 120, 180, 300)


@pytest.mark.parametrize("body, status, message", [
    (b"not json", 400, "The body must be JSON."),
    (b'{"email": "alice@example.com"}', 422, "Some fields are missing or not valid."),
    (b'{"email": "a@b.c", "password": "x", "admin": true}', 422, "Some fields"),
    (b'{"email": "alice@example.com", "password": "wrong"}', 401,
     "The e-mail or password is not right."),
])
async def test_bad_sign_ins_get_a_json_error_and_no_token(
    client: httpx.AsyncClient, people: People, body: bytes, status: int, message: str
) -> None:
    response = await client.post("/api/v1/auth/login", content=body,
                                 headers={"content-type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"]["message"] == message or message in response.text
    assert "token" not in response.json()


async def test_missing_fields_are_named(client: httpx.AsyncClient, people: People) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": "alice@example.com"})
    assert response.json()["error"]["fields"] == {"password": "Field required"}


async def test_a_signed_out_token_stops_working(client: httpx.AsyncClient,
                                                people: People) -> None:
    headers = {"Authorization": f"Bearer {await token_for(client, 'alice@example.com')}"}
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert "Sign in again" in response.json()["error"]["message"]


async def test_the_api_ignores_the_browser_session_cookie(people: People, sign_in: SignIn) -> None:
    browser = await sign_in("alice@example.com")
    response = await browser.get("/api/v1/me")
    assert response.status_code == 401


async def test_api_sign_in_is_throttled(client: httpx.AsyncClient, people: People) -> None:
    for _ in range(5):
        await client.post("/api/v1/auth/login", json={"email": "alice@example.com",
                                                      "password": "guess"})
    response = await client.post("/api/v1/auth/login", json={"email": "alice@example.com",
                                                             "password": PASSWORD})
    assert response.status_code == 429
