"""History and the adjustments audit, through the pages."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette
from tortoise import connections

from portal.ledger import service as ledger
from portal.ledger.models import Account, Transfer, TransferKind
from tests import factories
from tests.factories import People, SignIn, post_form


async def give(people_id: int, count: int) -> Account:
    account = await ledger.account_of_person(people_id)
    for i in range(count):
        await ledger.earn(account, amount=10 + i, reason=f"Quiz number {i}",
                          reference=f"quiz:{i}", key=f"k{people_id}:{i}")
    return account


async def test_history_shows_a_page_and_htmx_loads_the_next_as_a_fragment(
    people: People, sign_in: SignIn
) -> None:
    await give(people.alice.id, 30)
    client = await sign_in("alice@example.com")
    first = await client.get("/history")
    assert "Quiz number 29" in first.text and "Quiz number 4" not in first.text
    assert "Show older entries" in first.text
    fragment = await client.get("/history?page=2", headers={"hx-request": "true"})
    assert "<html" not in fragment.text
    assert "Quiz number 4" in fragment.text and "Quiz number 0" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]


async def test_history_filters_by_kind_and_explains_an_empty_filter(people: People,
                                                                   sign_in: SignIn) -> None:
    await give(people.alice.id, 2)
    client = await sign_in("alice@example.com")
    page = await client.get("/history?kind=burn")
    assert "Nothing of this kind yet." in page.text


@pytest.mark.parametrize("query", ["page=0", "page=x", "kind=gift"])
async def test_bad_history_parameters_are_a_clear_400(people: People, sign_in: SignIn,
                                                      query: str) -> None:
    client = await sign_in("alice@example.com")
    response = await client.get(f"/history?{query}")
    assert response.status_code == 400
    assert "This request could not be understood" in response.text


async def test_a_player_never_sees_another_players_history(people: People, sign_in: SignIn) -> None:
    await give(people.erin.id, 1)
    client = await sign_in("alice@example.com")
    assert "Quiz number 0" not in (await client.get("/history")).text


def form_key(html: str) -> str:
    found = re.search(r'name="key" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def test_marketing_adjusts_a_balance_once_even_when_the_form_is_sent_twice(
    people: People, sign_in: SignIn
) -> None:
    carol = await sign_in("carol@example.com")
    key = form_key((await carol.get("/audit")).text)
    form = {"email": "alice@example.com", "amount": "250", "reason": "Missed award for quiz 3",
            "key": key}
    assert (await post_form(carol, "/audit/adjust", form)).status_code == 303
    assert (await post_form(carol, "/audit/adjust", form)).status_code == 303
    alice = await ledger.account_of_person(people.alice.id)
    assert alice.balance == 250
    audit = await carol.get("/audit")
    assert "Missed award for quiz 3" in audit.text and "Carol Cole" in audit.text
    alice_client = await sign_in("alice@example.com")
    assert "Missed award for quiz 3" in (await alice_client.get("/history")).text


@pytest.mark.parametrize("form, message", [
    ({"email": "alice@example.com", "amount": "ten", "reason": "Because"},
     "Enter a whole number."),
    ({"email": "alice@example.com", "amount": "0", "reason": "Because"},
     "at least 1 point"),
    ({"email": "alice@example.com", "amount": "10", "reason": ""}, "This field is required."),
    ({"email": "nobody@example.com", "amount": "10", "reason": "Because"},
     "Nobody has this e-mail address."),
    ({"email": "alice@example.com", "amount": "-10", "reason": "Take back"},
     "Not enough points: 0 available, 10 needed."),
])
async def test_bad_adjustments_are_refused_and_nothing_is_written(
    people: People, sign_in: SignIn, form: dict[str, str], message: str
) -> None:
    carol = await sign_in("carol@example.com")
    response = await post_form(carol, "/audit/adjust", {**form, "key": "abcdefgh12"})
    assert response.status_code == 400
    assert message in response.text
    assert not await Transfer.filter(kind=TransferKind.ADJUST).exists()


async def test_a_broken_database_shows_a_500_page_with_a_request_id_and_no_traceback(
    app: Starlette, people: People
) -> None:
    # As a real server would: the error is answered, not raised into the client.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    await factories.sign_in(client, "alice@example.com")
    await connections.get("default").execute_script("DROP TABLE season_score;")
    response = await client.get("/")
    await client.aclose()
    assert response.status_code == 500
    assert response.headers["x-request-id"] in response.text
    assert "Traceback" not in response.text and "season_score" not in response.text


async def test_an_unknown_page_is_a_styled_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "This page does not exist" in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
