"""Raffles: tickets bought with points, one draw at the draw time that anyone can repeat.

Buying tickets is one write transaction: the buyer's account row is locked first (so one
person's purchases, and the per-person limit, are decided one at a time), the numbers
are claimed by a conditional update of the raffle's row (still open, draw time not
reached: ``sold = sold + n``), and the guarded ledger spend is made in the same
transaction. The purchase key is the spend's key: the same key again answers with the
same tickets and charges nothing.

The draw claims the raffle by the same kind of conditional update and records a random
seed with the winners. The winners follow from the seed and the published ticket list
alone (``ranking``): every ticket number n is ranked by SHA-256 of "<seed>:<n>" (hex,
ascending), and the first tickets of distinct people in that order win, one prize each.
``portal raffle-verify <id>`` recomputes them from what is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import F

from portal.accounts.models import Person
from portal.auctions.models import Raffle, RaffleStatus, RaffleWinner, Ticket
from portal.auctions.prizes import check_prize_item, deliver, tell_everyone
from portal.db import write_transaction
from portal.i18n import N_, Refusal
from portal.ledger import service as ledger
from portal.ledger.models import Account
from portal.ledger.reasons import Reason
from portal.notifications.telling import Notice
from portal.settings import Settings

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,100}$")
MAX_TICKETS_AT_ONCE = 100


class RaffleRefusal(Refusal):
    pass


class NoSuchRaffle(RaffleRefusal):
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("There is no such raffle."))


class SalesClosed(RaffleRefusal):
    def __init__(self) -> None:
        super().__init__(N_("Ticket sales for this raffle have ended."))


class TicketLimit(RaffleRefusal):
    def __init__(self, limit: int, have: int) -> None:
        super().__init__(N_("At most %(limit)s tickets per person: you have %(have)s."),
                         limit=limit, have=have)


class BadRaffle(RaffleRefusal):
    status = 400


# -- creating -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RaffleFields:
    title: str
    description: str
    prize_text: str
    prize_item_id: int | None
    winners: int
    ticket_price: int
    per_person_limit: int
    draw_at: datetime
    picture: str = ""


async def create_raffle(values: RaffleFields, *, by: Person, now: datetime | None = None
                        ) -> Raffle:
    """A new raffle with its own ledger account. Raises catalog.NoSuchItem (the prize is no
    catalog reward) or BadRaffle."""
    moment = now or datetime.now(UTC)
    await check_prize_item(values.prize_item_id)
    if values.draw_at <= moment:
        raise BadRaffle(N_("The draw must be in the future."))
    if not values.prize_text.strip() and values.prize_item_id is None:
        raise BadRaffle(N_("Say what the winners get: a catalog reward or a text."))
    async with write_transaction() as conn:
        account = await ledger.system_account(f"raffle:{secrets.token_hex(8)}",
                                              name=f"Raffle: {values.title}"[:200], conn=conn)
        return await Raffle.create(
            title=values.title, description=values.description, picture=values.picture,
            prize_text=values.prize_text, prize_item_id=values.prize_item_id,
            winners=values.winners, ticket_price=values.ticket_price,
            per_person_limit=values.per_person_limit, draw_at=values.draw_at,
            account_id=account.id, created_by_id=by.id, created_at=moment, using_db=conn)


# -- tickets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bought:
    raffle_id: int
    numbers: list[int]
    paid: int
    replayed: bool


async def buy_tickets(person: Person, raffle_id: int, *, count: int, key: str,
                      now: datetime | None = None) -> Bought:
    """Buys ``count`` tickets with one spend. Raises NoSuchRaffle, SalesClosed,
    TicketLimit, BadRaffle, ledger.NotEnoughPoints or ledger.KeyReused (nothing written)."""
    moment = now or datetime.now(UTC)
    if not KEY_PATTERN.match(key or ""):
        raise BadRaffle(N_("The request needs a key of 8 to 100 letters, digits, - or _."))
    if isinstance(count, bool) or not isinstance(count, int) or \
            not 1 <= count <= MAX_TICKETS_AT_ONCE:
        raise BadRaffle(N_("Buy from 1 to %(most)s tickets at a time."),
                        most=MAX_TICKETS_AT_ONCE)
    full_key = f"tickets:{person.id}:{key}"
    async with write_transaction() as conn:
        # One person's purchases are decided one at a time from here (the row lock).
        account = await (Account.filter(person_id=person.id).using_db(conn)
                         .select_for_update().get())
        earlier = await Ticket.filter(key=full_key).using_db(conn).order_by("number")
        if earlier:
            if (earlier[0].raffle_id, len(earlier)) != (raffle_id, count):
                raise ledger.KeyReused(N_("The key %(key)s was already used for another "
                                          "operation."), key=key)
            paid = await ledger.transfer_by_key(full_key)
            return Bought(raffle_id, [t.number for t in earlier],
                          paid.amount if paid else 0, replayed=True)
        raffle = await Raffle.filter(id=raffle_id).using_db(conn).first()
        if raffle is None:
            raise NoSuchRaffle()
        have = await Ticket.filter(raffle_id=raffle_id, person_id=person.id).using_db(
            conn).count()
        if have + count > raffle.per_person_limit:
            raise TicketLimit(raffle.per_person_limit, have)
        if await Raffle.filter(id=raffle_id, status=RaffleStatus.OPEN,
                               draw_at__gt=moment).using_db(conn).update(
                sold=F("sold") + count) != 1:
            raise SalesClosed()
        sold = (await Raffle.filter(id=raffle_id).using_db(conn).get()).sold
        numbers = list(range(sold - count + 1, sold + 1))
        target = await Account.filter(id=raffle.account_id).using_db(conn).get()
        paid = await ledger.spend(
            account, amount=count * raffle.ticket_price, target=target,
            reason=Reason(N_("Raffle tickets: %(title)s (%(count)s)"), title=raffle.title,
                          count=count),
            reference=f"raffle:{raffle.id}", key=full_key, now=moment, conn=conn)
        await Ticket.bulk_create(
            [Ticket(raffle_id=raffle.id, number=n, person_id=person.id, key=full_key,
                    transfer_id=paid.id, created_at=moment) for n in numbers], using_db=conn)
    return Bought(raffle_id, numbers, paid.amount, replayed=False)


# -- the draw -----------------------------------------------------------------------------


def ranking(seed: str, numbers: Iterable[int]) -> list[int]:
    """Ticket numbers in draw order: by SHA-256 of "<seed>:<number>", hex ascending."""
    return sorted(numbers, key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest())


def pick(seed: str, tickets: dict[int, int], prizes: int) -> list[tuple[int, int]]:
    """(ticket number, person id) of the winners: in ranking order, one prize a person."""
    chosen: list[tuple[int, int]] = []
    seen: set[int] = set()
    for number in ranking(seed, tickets):
        if len(chosen) == prizes:
            break
        if tickets[number] not in seen:
            seen.add(tickets[number])
            chosen.append((number, tickets[number]))
    return chosen


async def draw_due(now: datetime, settings: Settings) -> int:
    """The ``raffle-draw`` job: draws every raffle whose time has come, and finishes
    delivering and telling where a run that died left it half done."""
    drawn = 0
    for (raffle_id,) in await Raffle.filter(status=RaffleStatus.OPEN, draw_at__lte=now
                                            ).order_by("draw_at").values_list("id"):
        drawn += await draw(raffle_id, settings=settings, now=now)
    for raffle in await Raffle.filter(status=RaffleStatus.DRAWN, told_at__isnull=True):
        await _finish(raffle, settings, now)
    return drawn


async def draw(raffle_id: int, *, settings: Settings, now: datetime,
               seed: str | None = None) -> bool:
    """Draws the raffle once: False when it is not due or was drawn already."""
    seed = seed or secrets.token_hex(16)
    async with write_transaction() as conn:
        if await Raffle.filter(id=raffle_id, status=RaffleStatus.OPEN, draw_at__lte=now
                               ).using_db(conn).update(status=RaffleStatus.DRAWN, seed=seed,
                                                       drawn_at=now) != 1:
            return False
        raffle = await Raffle.filter(id=raffle_id).using_db(conn).get()
        tickets = dict(await Ticket.filter(raffle_id=raffle_id).using_db(conn)
                       .values_list("number", "person_id"))
        await RaffleWinner.bulk_create(
            [RaffleWinner(raffle_id=raffle_id, place=place, ticket_number=number,
                          person_id=person_id)
             for place, (number, person_id) in enumerate(pick(seed, tickets, raffle.winners),
                                                         start=1)], using_db=conn)
    await _finish(raffle, settings, now)
    return True


async def _finish(raffle: Raffle, settings: Settings, now: datetime) -> None:
    winners = await RaffleWinner.filter(raffle_id=raffle.id).prefetch_related("person")
    for winner in winners:
        if winner.order_id is None and not winner.delivery_problem:
            order_id, problem = await deliver(
                winner.person, raffle.prize_item_id, key=f"raffle-prize:{raffle.id}:{winner.place}",
                settings=settings, now=now)
            await RaffleWinner.filter(id=winner.id).update(order_id=order_id,
                                                           delivery_problem=problem)
    won = {w.person_id for w in winners}
    players = await Person.filter(id__in=await Ticket.filter(raffle_id=raffle.id).distinct()
                                  .values_list("person_id", flat=True))
    await tell_everyone(
        [Notice(p, f"raffle:{raffle.id}:{p.id}", "raffle_won" if p.id in won else "raffle_lost",
                {"title": raffle.title}) for p in players], settings=settings, now=now)
    await Raffle.filter(id=raffle.id).update(told_at=now)


# -- reading ------------------------------------------------------------------------------


async def raffles(*, now: datetime | None = None, include_drawn: bool = False,
                  offset: int = 0, limit: int = 25) -> tuple[list[Raffle], bool]:
    moment = now or datetime.now(UTC)
    query = Raffle.all() if include_drawn else Raffle.filter(status=RaffleStatus.OPEN,
                                                              draw_at__gt=moment)
    order = ("-id",) if include_drawn else ("draw_at", "id")
    rows = await query.order_by(*order).offset(offset).limit(limit + 1)
    return rows[:limit], len(rows) > limit


async def get_raffle(raffle_id: int) -> Raffle:
    raffle = await Raffle.get_or_none(id=raffle_id)
    if raffle is None:
        raise NoSuchRaffle()
    return raffle


@dataclass(frozen=True)
class PublishedTicket:
    number: int
    display_name: str  # never an e-mail


async def ticket_list(raffle_id: int, *, offset: int = 0, limit: int = 100
                      ) -> tuple[list[PublishedTicket], bool]:
    rows = await (Ticket.filter(raffle_id=raffle_id).order_by("number").offset(offset)
                  .limit(limit + 1).prefetch_related("person"))
    return ([PublishedTicket(t.number, t.person.display_name) for t in rows[:limit]],
            len(rows) > limit)


async def my_tickets(raffle_id: int, person: Person) -> list[int]:
    return [n for (n,) in await Ticket.filter(raffle_id=raffle_id, person_id=person.id)
            .order_by("number").values_list("number")]


@dataclass(frozen=True)
class Drawn:
    place: int
    ticket_number: int
    display_name: str


async def winners(raffle_id: int) -> list[Drawn]:
    rows = await RaffleWinner.filter(raffle_id=raffle_id).order_by("place").prefetch_related(
        "person")
    return [Drawn(w.place, w.ticket_number, w.person.display_name) for w in rows]


@dataclass(frozen=True)
class Verification:
    seed: str
    tickets: int
    recorded: list[int]  # winning ticket numbers as stored
    recomputed: list[int]  # as the seed and the ticket list give them

    @property
    def matches(self) -> bool:
        return self.recorded == self.recomputed


async def verify(raffle_id: int) -> Verification:
    """Repeats the draw from the stored seed and ticket list (``portal raffle-verify``)."""
    raffle = await get_raffle(raffle_id)
    if raffle.status != RaffleStatus.DRAWN:
        raise BadRaffle(N_("This raffle has not been drawn yet."))
    tickets = dict(await Ticket.filter(raffle_id=raffle_id).values_list("number", "person_id"))
    recorded = [w.ticket_number for w in await RaffleWinner.filter(raffle_id=raffle_id)
                .order_by("place")]
    return Verification(raffle.seed, len(tickets), recorded,
                        [n for n, _ in pick(raffle.seed, tickets, raffle.winners)])
