"""Players the board tests share: Alice ahead of Bob, both early this month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.accounts.models import Person
from portal.ledger import service as ledger
from tests.factories import make_person

T0 = datetime(2026, 12, 1, tzinfo=UTC)
_TICK, _SECOND, _MINUTE, _HOUR = (timedelta(microseconds=1), timedelta(seconds=1),
                                  timedelta(minutes=1), timedelta(hours=1))
# Moments after T0 that the property tests draw from: few, so ties are common, and on both
# sides of each level a rank counts apart (migrations 0020 and 0022: hour, minute, second,
# then the rows of its own second): the same second, microseconds apart; a second's, a
# minute's and an hour's last and first moments; later in the hour and hours later.
MOMENTS = (timedelta(), _TICK, _SECOND - _TICK, _SECOND, _SECOND + _TICK, 1.5 * _SECOND,
           _MINUTE - _TICK, _MINUTE, _MINUTE + _SECOND, 59 * _MINUTE + 59 * _SECOND,
           _HOUR - _TICK, _HOUR, _HOUR + _TICK, _HOUR + _MINUTE, 3 * _HOUR)


async def alice_and_bob() -> tuple[Person, Person]:
    alice, bob = await make_person("alice@example.com"), await make_person("bob@example.com")
    for person, amount, minute in ((alice, 300, 1), (bob, 200, 2)):
        account = await ledger.account_of_person(person.id)
        await ledger.earn(account, amount=amount, reason="Quiz", reference="q",
                          key=f"e{person.id}", now=T0 + timedelta(minutes=minute))
    return alice, bob
