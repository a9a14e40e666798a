from __future__ import annotations

import httpx

from tests.factories import People, SignIn, post_form


async def test_a_signed_in_player_sees_their_balance_on_the_dashboard(
    people: People, sign_in: SignIn
) -> None:
    from portal.ledger import service as ledger

    account = await ledger.account_of_person(people.alice.id)
    await ledger.earn(account, amount=1240, reason="Quiz: Pumps", reference="quiz:1", key="k1")
    client: httpx.AsyncClient = await sign_in("alice@example.com")
    response = await client.get("/")
    assert response.status_code == 200
    assert "1,240" in response.text


async def test_an_anonymous_visitor_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/history")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/history"


async def test_signing_out_ends_the_session(people: People, sign_in: SignIn) -> None:
    client = await sign_in("alice@example.com")
    cookie = client.cookies["portal_session"]
    response = await post_form(client, "/logout", {})
    assert response.status_code == 303
    client.cookies.set("portal_session", cookie)
    again = await client.get("/")
    assert again.status_code == 303
