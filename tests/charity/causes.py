"""Causes and players with points, for the charity tests."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.accounts.models import Person
from portal.charity import service as charity
from portal.charity.models import Cause
from portal.ledger import service as ledger

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


def terms(**changes: object) -> charity.CauseInput:
    values: dict[str, object] = dict(
        title="Clean water for schools", summary="Wells for three village schools",
        description="Each well serves 400 children.\n\nThe brand doubles every euro.",
        goal=100_000, points_per_unit=100, currency="EUR", match_percent=100,
        min_donation=None, is_open=True, position=0)
    values.update(changes)
    return charity.CauseInput(**values)  # type: ignore[arg-type]


async def make_cause(by: Person, **changes: object) -> Cause:
    return await charity.create_cause(by, terms(**changes), picture=None, now=NOW)


async def give_points(person: Person, amount: int) -> None:
    account = await ledger.account_of_person(person.id)
    await ledger.earn(account, amount=amount, reason="Quiz", reference="quiz:1",
                      key=f"seed:{person.id}:{amount}")
