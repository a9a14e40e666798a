"""Auction fixtures for the tests: lots, raffles and players with points."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from portal.accounts.models import Person, Role
from portal.auctions import raffles
from portal.auctions import service as auctions
from portal.auctions.models import Lot, Raffle
from portal.ledger import service as ledger
from portal.ledger.models import Account
from portal.settings import Settings
from tests.factories import make_person

_counter = itertools.count(1)
SETTINGS = Settings(secret_key="test-secret-key-not-for-production", redemption_threshold=0)
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


async def marketer() -> Person:
    return await make_person(roles={Role.MARKETING})


async def player(points: int = 0, name: str = "Player", *, at: datetime = NOW) -> Person:
    person = await make_person(name=f"{name} {next(_counter)}")
    if points:
        await give(person, points, at=at)
    return person


async def give(person: Person, points: int, *, at: datetime = NOW) -> None:
    account = await ledger.account_of_person(person.id)
    await ledger.earn(account, amount=points, reason="Quiz", reference="quiz:seed",
                      key=f"seed:{person.id}:{next(_counter)}", now=at - timedelta(days=1))


async def lot(*, starting_bid: int = 100, increment: int = 10, ends_in: timedelta = timedelta(
        hours=1), starts_at: datetime | None = None, prize_item_id: int | None = None,
        now: datetime = NOW, soft_close: int = 2, title: str | None = None) -> Lot:
    return await auctions.create_lot(auctions.LotFields(
        title=title or f"Lot {next(_counter)}", description="A fine thing",
        prize_text="A day at the factory", prize_item_id=prize_item_id,
        starts_at=starts_at or now - timedelta(minutes=5), ends_at=now + ends_in,
        starting_bid=starting_bid, increment=increment), by=await marketer(),
        settings=Settings(secret_key="x", auction_soft_close_minutes=soft_close), now=now)


async def raffle(*, price: int = 50, limit: int = 5, winners: int = 2,
                 draw_in: timedelta = timedelta(hours=1), now: datetime = NOW,
                 prize_item_id: int | None = None) -> Raffle:
    return await raffles.create_raffle(raffles.RaffleFields(
        title=f"Raffle {next(_counter)}", description="Win big", prize_text="A bike",
        prize_item_id=prize_item_id, winners=winners, ticket_price=price,
        per_person_limit=limit, draw_at=now + draw_in), by=await marketer(), now=now)


async def bid(person: Person, on: Lot, amount: int, *, key: str | None = None,
              now: datetime = NOW) -> auctions.Placed:
    return await auctions.place_bid(person, on.id, amount=amount,
                                    key=key or f"k{next(_counter):08d}", settings=SETTINGS,
                                    now=now)


async def account(person: Person) -> Account:
    return await Account.get(person_id=person.id)


async def available(person: Person) -> int:
    found = await account(person)
    return found.balance - found.held
