"""A company's points: marketing credits them with a reason (the same adjustment rule as
for people), and the company's partner managers read its history."""

from __future__ import annotations

import re

import pytest

from portal.ledger import service as ledger
from portal.ledger.models import Transfer, TransferKind
from tests.factories import People, SignIn, post_form


def form_key(page: str) -> str:
    found = re.search(r'name="key" value="([^"]+)"', page)
    assert found
    return found.group(1)


async def company_balance(people: People) -> int:
    account = await ledger.account_of_company(people.acme.id)
    assert account is not None
    return account.balance


async def test_marketing_credits_a_company_once_and_its_manager_sees_it(
        people: People, sign_in: SignIn) -> None:
    carol = await sign_in("carol@example.com")
    key = form_key((await carol.get("/audit")).text)
    data = {"company_id": str(people.acme.id), "amount": "5000",
            "reason": "Q4 sales results", "key": key}
    first = await post_form(carol, "/audit/company", data)
    again = await post_form(carol, "/audit/company", data)  # a double submit
    assert first.status_code == again.status_code == 303
    assert await company_balance(people) == 5000
    credit = await Transfer.get(kind=TransferKind.ADJUST)
    assert (credit.reason, credit.created_by_id) == ("Q4 sales results", people.carol.id)
    audit = await carol.get("/audit")
    assert "Acme Pumps" in audit.text and "Q4 sales results" in audit.text

    bob = await sign_in("bob@example.com")
    page = await bob.get("/history/company")
    assert page.status_code == 200
    assert "Acme Pumps" in page.text and "Q4 sales results" in page.text
    assert "5,000" in page.text
    assert await ledger.check_invariants() == []


async def test_a_company_without_points_shows_an_empty_history(people: People,
                                                               sign_in: SignIn) -> None:
    bob = await sign_in("bob@example.com")
    assert "No company points yet." in (await bob.get("/history/company")).text


async def test_a_manager_sees_only_their_own_companys_points(people: People,
                                                            sign_in: SignIn) -> None:
    other = await ledger.account_of_company((await people.other_outlet.company).id)
    assert other is not None
    await ledger.adjust(other, amount=700, reason="Other's budget", by_person_id=people.carol.id,
                        key="other-budget")
    bob = await sign_in("bob@example.com")
    assert "Other&#39;s budget" not in (await bob.get("/history/company")).text
    alice = await sign_in("alice@example.com")
    assert (await alice.get("/history/company")).status_code == 403


@pytest.mark.parametrize(("data", "field_error"), [
    ({"amount": "100", "reason": "Budget"}, "This field is required."),
    ({"company_id": "999999", "amount": "100", "reason": "Budget"},
     "Choose one of the offered options."),
    ({"company_id": "x", "amount": "100", "reason": "Budget"}, "Enter a whole number."),
    ({"company_id": "{acme}", "amount": "100", "reason": ""}, "This field is required."),
    ({"company_id": "{acme}", "amount": "100", "reason": "Hi"}, "Use at least 5 characters."),
    ({"company_id": "{acme}", "amount": "0", "reason": "Budget"},
     "An adjustment must add or take away at least 1 point."),
    ({"company_id": "{acme}", "amount": "-10", "reason": "Take back"},
     "Not enough points: 0 available, 10 needed."),
    ({"company_id": "{acme}", "amount": "10", "reason": "Budget", "owner": "me"},
     "Unexpected field: owner"),
])
async def test_a_bad_company_credit_is_refused_naming_the_problem_and_moves_nothing(
        people: People, sign_in: SignIn, data: dict[str, str], field_error: str) -> None:
    carol = await sign_in("carol@example.com")
    key = form_key((await carol.get("/audit")).text)
    sent = {k: v.replace("{acme}", str(people.acme.id)) for k, v in data.items()}
    response = await post_form(carol, "/audit/company", {**sent, "key": key})
    assert response.status_code == 400
    assert field_error in response.text
    assert await Transfer.filter(kind=TransferKind.ADJUST).count() == 0
    assert await company_balance(people) == 0


async def test_players_and_managers_cannot_credit_a_company(people: People,
                                                            sign_in: SignIn) -> None:
    for email in ("alice@example.com", "bob@example.com"):
        client = await sign_in(email)
        response = await post_form(client, "/audit/company", {
            "company_id": str(people.acme.id), "amount": "100", "reason": "Budget",
            "key": "abcdefgh1234"})
        assert response.status_code == 403
    assert await company_balance(people) == 0
