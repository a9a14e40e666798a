"""The JSON API: bearer tokens, me, my ledger, errors as JSON, the OpenAPI document."""

from __future__ import annotations

import httpx
import pytest

from portal.ledger import service as ledger
from tests.factories import PASSWORD, People


async def token_for(client: httpx.AsyncClient, email: str) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email,
                                                             "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    return str(body["token"])


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


async def test_the_api_ignores_the_browser_session_cookie(people: People, sign_in) -> None:
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


async def test_unknown_api_paths_answer_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


async def test_the_openapi_document_describes_every_endpoint(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/auth/login", "/auth/logout", "/me", "/me/ledger", "/play/month",
        "/play/quizzes/{quiz_id}/start", "/play/games/{game_id}/question",
        "/play/games/{game_id}/answer", "/play/games/{game_id}", "/leaderboards/{board}"}
    assert "MeOut" in document["components"]["schemas"]
    me = document["paths"]["/me"]["get"]
    assert me["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MeOut"}


async def test_the_document_declares_the_errors_every_operation_can_give(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    answer = document["paths"]["/play/games/{game_id}/answer"]["post"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(answer["responses"])
    assert answer["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"}
    game_id = next(p for p in answer["parameters"] if p["name"] == "game_id")
    assert game_id["schema"] == {"type": "integer", "minimum": 1, "maximum": 999_999_999}
    login = document["paths"]["/auth/login"]["post"]
    assert {"400", "401", "422", "429"} <= set(login["responses"])


@pytest.mark.parametrize("url", ["/api/v1/me/ledger?pages=2", "/api/v1/leaderboards/season?x=1",
                                 "/api/v1/leaderboards/season?season=",
                                 "/api/v1/leaderboards/season?season=2026-12%0A",
                                 "/api/v1/leaderboards/season?season=%D9%A2%D9%A0%D9%A2%D9%A6-12"])
async def test_unknown_or_malformed_query_parameters_are_a_400(
    client: httpx.AsyncClient, people: People, url: str
) -> None:
    headers = {"Authorization": f"Bearer {await token_for(client, 'alice@example.com')}"}
    response = await client.get(url, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400


async def test_a_method_the_api_does_not_take_is_a_405_that_says_which_it_does(
    client: httpx.AsyncClient,
) -> None:
    response = await client.delete("/api/v1/me")
    assert response.status_code == 405
    assert response.json()["error"]["status"] == 405
    assert "GET" in response.headers["allow"]
