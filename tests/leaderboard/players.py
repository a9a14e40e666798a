"""Players the board tests share: Alice ahead of Bob, both early this month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.accounts.models import Person
from portal.ledger import service as ledger
from tests.factories import make_person

T0 = datetime(2026, 12, 1, tzinfo=UTC)


async def alice_and_bob() -> tuple[Person, Person]:
    alice, bob = await make_person("alice@example.com"), await make_person("bob@example.com")
    for person, amount, minute in ((alice, 300, 1), (bob, 200, 2)):
        account = await ledger.account_of_person(person.id)
        await ledger.earn(account, amount=amount, reason="Quiz", reference="q",
                          key=f"e{person.id}", now=T0 + timedelta(minutes=minute))
    return alice, bob
