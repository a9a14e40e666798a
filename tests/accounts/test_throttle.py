"""Sign-in throttling: someone guessing at a player's password locks out their own address,
not the player; guesses spread over many addresses still meet the account's ceiling."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from portal.accounts.throttle import LoginThrottle
from portal.settings import Settings
from tests.factories import PASSWORD, People, csrf

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"


def throttle() -> LoginThrottle:
    return LoginThrottle(per_address="30 per 15 minutes", per_account_address="5 per 15 minutes",
                         per_account="20 per 15 minutes", storage="memory://")


async def test_an_address_that_used_up_its_tries_at_an_account_does_not_lock_out_the_owner(
) -> None:
    limits = throttle()
    tries = [await limits.allow(email="alice@example.com", address=ATTACKER) for _ in range(30)]
    assert tries == [True] * 5 + [False] * 25
    assert await limits.allow(email="alice@example.com", address=OWNER)


async def test_one_address_cannot_use_up_the_accounts_ceiling_alone() -> None:
    limits = throttle()
    for _ in range(100):  # far past its own limits: only the first 5 count for Alice
        await limits.allow(email="alice@example.com", address=ATTACKER)
    assert [await limits.allow(email="alice@example.com", address=OWNER)
            for _ in range(5)] == [True] * 5


async def test_the_accounts_ceiling_stops_guesses_spread_over_many_addresses() -> None:
    limits = throttle()
    allowed = [await limits.allow(email="alice@example.com", address=f"192.0.2.{n}")
               for n in range(10) for _ in range(5)]
    assert allowed == [True] * 20 + [False] * 30
    assert not await limits.allow(email="alice@example.com", address=OWNER)
    assert await limits.allow(email="erin@example.com", address=OWNER)


async def test_one_address_is_still_limited_across_accounts() -> None:
    limits = throttle()
    allowed = [await limits.allow(email=f"n{n}@example.com", address=ATTACKER) for n in range(31)]
    assert allowed == [True] * 30 + [False]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_limit_per_account_address": "5 per 15 minutes",
                                       "login_limit_per_account": "20 per 15 minutes",
                                       "login_limit_per_address": "30 per 15 minutes"})


async def browser_at(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    await client.get("/login")
    return client


async def sign_in(client: httpx.AsyncClient, password: str) -> int:
    response = await client.post("/login", data={"csrftoken": csrf(client),
                                                 "email": "alice@example.com",
                                                 "password": password})
    return response.status_code


@pytest.fixture
async def attacker(app: Starlette, people: People) -> AsyncIterator[httpx.AsyncClient]:
    client = await browser_at(app, ATTACKER)
    yield client
    await client.aclose()


async def test_alice_signs_in_from_her_device_while_someone_else_guesses_at_her_account(
    app: Starlette, attacker: httpx.AsyncClient
) -> None:
    assert [await sign_in(attacker, "guess") for _ in range(8)] == [400] * 5 + [429] * 3
    assert await sign_in(attacker, PASSWORD) == 429
    alice = await browser_at(app, OWNER)
    try:
        assert await sign_in(alice, PASSWORD) == 303
    finally:
        await alice.aclose()


async def test_a_guess_spread_over_many_addresses_locks_the_account(
    app: Starlette, people: People
) -> None:
    statuses = []
    for n in range(5):
        client = await browser_at(app, f"192.0.2.{n}")
        statuses += [await sign_in(client, "guess") for _ in range(5)]
        await client.aclose()
    assert statuses == [400] * 20 + [429] * 5
    alice = await browser_at(app, OWNER)
    try:
        assert await sign_in(alice, PASSWORD) == 429
    finally:
        await alice.aclose()


async def test_the_api_throttles_per_account_and_address_too(app: Starlette,
                                                             people: People) -> None:
    statuses = []
    for address in (ATTACKER, ATTACKER, ATTACKER, ATTACKER, ATTACKER, ATTACKER, OWNER):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            password = PASSWORD if address == OWNER else "guess"
            response = await c.post("/api/v1/auth/login",
                                    json={"email": "alice@example.com", "password": password})
            statuses.append(response.status_code)
    assert statuses == [401] * 5 + [429, 200]
