"""What every API endpoint shares: errors as JSON, query parameters, the OpenAPI
document."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import People, token_for


async def test_unknown_api_paths_answer_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


async def test_the_openapi_document_describes_every_endpoint(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    # The core's paths; each capability's API tests check their own are there too
    # (tests/charity/test_api.py, ...), and tests/api/test_schema.py runs all of them.
    assert {
        "/auth/login", "/auth/logout", "/me", "/me/ledger", "/play/month",
        "/play/quizzes/{quiz_id}/start", "/play/games/{game_id}/question",
        "/play/games/{game_id}/answer", "/play/games/{game_id}", "/leaderboards/{board}",
    } <= set(document["paths"])
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
