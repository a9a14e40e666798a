"""Ids in paths and bodies: a number the database cannot hold is not found or refused,
never a 500, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from portal.accounts import service as accounts
from portal.accounts.models import Person
from portal.content.models import Quiz
from portal.play.models import Game
from portal.settings import Settings
from tests.factories import People, csrf, post_form, publish_live_copy

# 2^63 overflows a 64-bit integer, 2^31 a 32-bit id column; the rest are not ids at all.
BAD_IDS = ["9223372036854775808", "2147483648", "-1", "1" + "0" * 40, "9" * 5000, "0"]


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


def id_routes(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    """Every (method, path) whose path takes an id."""
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, Mount) and route.path not in ("/static", "/media"):
            found += id_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route) and ":id}" in route.path:
            found += [(method, prefix + route.path) for method in sorted(route.methods or ())
                      if method != "HEAD"]
    return found


def with_id(path: str, value: str) -> str:
    return re.sub(r"\{[a-z_]+:id\}", value, path)


async def signed_in_client(app: Starlette, person: Person) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                               base_url="http://testserver")
    await client.get("/rules")  # the CSRF cookie
    web_token, _ = await accounts.start_session(person, lifetime=timedelta(hours=1))
    api_token, _ = await accounts.start_session(person, kind="api", lifetime=timedelta(hours=1))
    client.cookies.set("portal_session", web_token)
    return client, api_token


def test_the_app_has_routes_with_ids(app: Starlette) -> None:
    assert len(id_routes(app.routes)) >= 15


@pytest.mark.parametrize("who", ["alice", "dave"])
async def test_an_id_out_of_range_in_any_path_is_not_found(app: Starlette, people: People,
                                                           who: str) -> None:
    client, token = await signed_in_client(app, getattr(people, who))
    answers = []
    try:
        for method, path in id_routes(app.routes):
            for value in BAD_IDS:
                url = with_id(path, value)
                if path.startswith("/api/"):
                    response = await client.request(
                        method, url, headers={"Authorization": f"Bearer {token}"},
                        json={"question_id": 1, "choices": []} if method == "POST" else None)
                elif method == "POST":
                    response = await client.post(url, data={"csrftoken": csrf(client)})
                else:
                    response = await client.get(url)
                answers.append((method, url[:60], response.status_code))
    finally:
        await client.aclose()
    assert [a for a in answers if a[2] != 404] == []


@pytest.fixture
async def game_of_alice(app: Starlette, people: People, settings: Settings,
                        tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str, int]]:
    """Alice's client and API token, and a game of hers on its first question."""
    await publish_live_copy("example", tmp_path / "pack", Path(settings.media_dir))
    client, token = await signed_in_client(app, people.alice)
    quiz = await Quiz.get(slug="basics")
    response = await post_form(client, f"/play/quiz/{quiz.id}/start", {})
    assert response.status_code == 303
    yield client, token, int(response.headers["location"].rsplit("/", 1)[1])
    await client.aclose()


@pytest.mark.parametrize("value", [2**63, 2**31, -1, 0, 10**40])
async def test_an_id_out_of_range_in_a_json_body_is_a_422_naming_the_field(
    game_of_alice: tuple[httpx.AsyncClient, str, int], value: int
) -> None:
    client, token, game_id = game_of_alice
    response = await client.post(f"/api/v1/play/games/{game_id}/answer",
                                 json={"question_id": value, "choices": [0]},
                                 headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert "question_id" in response.json()["error"]["fields"]
    assert (await Game.get(id=game_id)).current == 0


@pytest.mark.parametrize("form", [{"question_id": str(2**63), "choice": "0"},
                                  {"question_id": str(2**31), "choice": "0"},
                                  {"question_id": "-1", "choice": "0"},
                                  {"question_id": "9" * 5000, "choice": "0"},
                                  {"question_id": "1", "choice": str(2**63)}])
async def test_an_id_out_of_range_in_a_form_is_a_400(
    game_of_alice: tuple[httpx.AsyncClient, str, int], form: dict[str, str]
) -> None:
    client, _, game_id = game_of_alice
    response = await post_form(client, f"/play/game/{game_id}/answer", form)
    assert response.status_code == 400
    assert (await Game.get(id=game_id)).current == 0


@pytest.mark.parametrize("value", [str(2**63), str(2**31), "-1", "0", "9" * 5000])
@pytest.mark.parametrize("who, url, form, field", [
    ("dave", "/admin/companies/{acme}/outlets", {"name": "Far away"}, "region_id"),
    ("dave", "/admin/people", {"email": "new@example.com", "full_name": "New Person",
                               "password": "a long password"}, "outlet_id"),
    ("bob", "/team/invite", {"email": "new@example.com"}, "outlet_id"),
])
async def test_an_id_out_of_range_in_an_admin_or_team_form_is_a_400_at_the_field(
    app: Starlette, people: People, who: str, url: str, form: dict[str, str], field: str,
    value: str,
) -> None:
    client, _ = await signed_in_client(app, getattr(people, who))
    try:
        response = await post_form(client, url.format(acme=people.acme.id),
                                   {**form, field: value})
    finally:
        await client.aclose()
    assert response.status_code == 400
    assert "Choose one of the offered options." in response.text
    assert not await Person.exists(email="new@example.com")


@pytest.mark.parametrize("token", ["%00" + "a" * 31, "y" * 3000, "A" * 32])
async def test_an_upload_token_that_cannot_be_one_is_simply_not_found(
    app: Starlette, people: People, token: str
) -> None:
    client, _ = await signed_in_client(app, people.carol)
    try:
        report = await client.get(f"/marketing/content/uploads/{token}")
        publish = await post_form(client, f"/marketing/content/uploads/{token}/publish", {})
    finally:
        await client.aclose()
    assert (report.status_code, publish.status_code) == (404, 404)
