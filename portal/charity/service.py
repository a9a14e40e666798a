"""Charity: causes players give points to, their running totals, and the teams' totals.

A donation is one ledger transfer (``ledger.donate``: guarded against overdraw, once per
key) from the player's account to the cause's own account, and a ``Donation`` row in the
same transaction. A cause's total is its account's balance, which the ledger keeps equal
to the sum of what was given to it; the rows say who gave and from which outlet.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count, Sum

from portal.accounts.models import Outlet, Person
from portal.charity.models import Cause, Donation
from portal.db import write_transaction
from portal.i18n import N_, Refusal
from portal.ledger import service as ledger
from portal.ledger.models import Account


class CharityError(Refusal):
    """A donation or a cause change was refused; the message says why."""


class CauseNotFound(CharityError):
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("This cause does not exist."))


class CauseClosed(CharityError):
    def __init__(self) -> None:
        super().__init__(N_("This cause no longer takes donations."))


class DonationTooSmall(CharityError):
    status = 400

    def __init__(self, least: int) -> None:
        super().__init__(N_("The smallest donation to this cause is %(least)s points."),
                         least=least)


@dataclass(frozen=True)
class CauseView:
    id: int
    title: str
    summary: str
    description: str
    picture: str | None
    goal: int
    points_per_unit: int
    currency: str
    match_percent: int
    min_donation: int  # the cause's own minimum, or the portal's
    is_open: bool
    total: int  # points given, the cause account's balance
    donors: int

    @property
    def percent(self) -> int:
        """How far the total is towards the goal, 0 to 100."""
        return min(100, self.total * 100 // self.goal) if self.goal > 0 else 100

    def money(self, points: int) -> Decimal:
        """What ``points`` are worth to the cause, the brand's match included."""
        worth = Decimal(points) / Decimal(self.points_per_unit)
        return (worth * (100 + self.match_percent) / 100).quantize(Decimal("0.01"))

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.description.replace("\r\n", "\n").split("\n\n")
                if p.strip()]


def _view(cause: Cause, balance: int, donors: int, minimum: int) -> CauseView:
    return CauseView(
        id=cause.id, title=cause.title, summary=cause.summary, description=cause.description,
        picture=cause.picture, goal=cause.goal, points_per_unit=cause.points_per_unit,
        currency=cause.currency, match_percent=cause.match_percent,
        min_donation=cause.min_donation or minimum, is_open=cause.is_open, total=balance,
        donors=donors)


async def _donors(cause_ids: list[int]) -> dict[int, int]:
    if not cause_ids:
        return {}
    rows = await (Donation.filter(cause_id__in=cause_ids)
                  .annotate(donors=Count("person_id", distinct=True))
                  .group_by("cause_id").values("cause_id", "donors"))
    return {row["cause_id"]: row["donors"] for row in rows}


async def causes(*, minimum: int, only_open: bool = False) -> list[CauseView]:
    """Every cause with its running total and number of donors, open ones first."""
    query = Cause.all().select_related("account")
    if only_open:
        query = query.filter(is_open=True)
    found = await query
    donors = await _donors([c.id for c in found])
    views = [_view(c, c.account.balance, donors.get(c.id, 0), minimum) for c in found]
    return sorted(views, key=lambda v: not v.is_open)


async def cause(cause_id: int, *, minimum: int) -> CauseView:
    found = await Cause.get_or_none(id=cause_id).select_related("account")
    if found is None:
        raise CauseNotFound()
    donors = await _donors([found.id])
    return _view(found, found.account.balance, donors.get(found.id, 0), minimum)


# -- giving -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Donated:
    donation_id: int
    cause_id: int
    amount: int
    created_at: datetime
    replayed: bool  # the same key came before: nothing was given now


def donation_key(person_id: int, key: str) -> str:
    """The ledger key of a donation: the client's key, scoped to the donor, so one
    person's key can never replay another's donation."""
    return f"charity:{person_id}:{key}"


async def donate(person: Person, cause_id: int, *, amount: int, key: str, minimum: int,
                 now: datetime) -> Donated:
    """Gives ``amount`` points to the cause, once per ``key``: a retry with the same key
    answers as the first did, the same key with another amount or cause is refused.
    Raises NotEnoughPoints (nothing given) when the available points do not cover it."""
    found = await Cause.get_or_none(id=cause_id).select_related("account")
    if found is None:
        raise CauseNotFound()
    least = found.min_donation or minimum
    if isinstance(amount, int) and not isinstance(amount, bool) and amount < least:
        raise DonationTooSmall(least)
    account = await ledger.account_of_person(person.id)
    # A retry of a donation made before the cause closed still answers as it did.
    if not found.is_open and await ledger.transfer_by_key(donation_key(person.id, key)) is None:
        raise CauseClosed()
    for attempt in (1, 2):
        try:
            return await _give(person, found, account, amount, key, now)
        except IntegrityError:
            # The same key raced in another request and committed first: the second
            # attempt finds its transfer and answers as it did.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _give(person: Person, cause: Cause, account: Account, amount: int, key: str,
                now: datetime) -> Donated:
    async with write_transaction() as conn:
        given = await ledger.donate(
            account, cause=cause.account, amount=amount,
            reason=ledger.Reason(N_("Donation: %(title)s"), title=cause.title),
            reference=f"cause:{cause.id}", key=donation_key(person.id, key), now=now,
            conn=conn)
        if given.replayed:
            row = await Donation.filter(transfer_id=given.id).using_db(conn).get()
        else:
            row = await Donation.create(cause_id=cause.id, person_id=person.id,
                                        outlet_id=person.outlet_id, amount=amount,
                                        transfer_id=given.id, created_at=now, using_db=conn)
    return Donated(donation_id=row.id, cause_id=row.cause_id, amount=row.amount,
                   created_at=row.created_at, replayed=given.replayed)


# -- who gave -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DonationLine:
    id: int
    donor: str  # the display name, as on the leaderboards
    outlet: str | None
    amount: int
    created_at: datetime


async def donations(cause_id: int, *, offset: int = 0, limit: int = 25
                    ) -> tuple[list[DonationLine], bool]:
    """A page of the cause's donations, newest first, and whether more follow."""
    rows = await (Donation.filter(cause_id=cause_id).select_related("person", "outlet")
                  .order_by("-id").offset(offset).limit(limit + 1))
    return [DonationLine(id=r.id, donor=r.person.display_name,
                         outlet=r.outlet.name if r.outlet else None, amount=r.amount,
                         created_at=r.created_at) for r in rows[:limit]], len(rows) > limit


async def given_by(person: Person, cause_id: int) -> int:
    """What the person gave to the cause in all."""
    rows = await (Donation.filter(cause_id=cause_id, person_id=person.id)
                  .annotate(total=Sum("amount")).group_by("person_id").values("total"))
    return int(rows[0]["total"]) if rows else 0


@dataclass(frozen=True)
class OutletTotal:
    outlet_id: int
    outlet: str
    company: str
    total: int
    donors: int
    rank: int


@dataclass(frozen=True)
class Network:
    total: int  # points given to every cause
    donors: int
    outlets: list[OutletTotal] = field(default_factory=list)  # the top ones
    mine: OutletTotal | None = None  # the viewer's outlet, when it gave and is not on top


async def network(*, outlet_id: int | None = None, top: int = 10) -> Network:
    """What the whole network gave, and each outlet's total (a team does good together)."""
    accounts = await Account.filter(cause__id__isnull=False)
    total = sum(account.balance for account in accounts)
    donors = await Donation.all().distinct().values_list("person_id", flat=True)
    rows = await (Donation.filter(outlet_id__isnull=False)
                  .annotate(total=Sum("amount"), donors=Count("person_id", distinct=True))
                  .group_by("outlet_id").order_by("-total", "outlet_id")
                  .values("outlet_id", "total", "donors"))
    ranked = [(rank, row) for rank, row in enumerate(rows, start=1)]
    shown = [(rank, row) for rank, row in ranked
             if rank <= top or row["outlet_id"] == outlet_id]
    outlets = {o.id: o for o in await Outlet.filter(
        id__in=[row["outlet_id"] for _, row in shown]).select_related("company")}
    lines = [OutletTotal(outlet_id=row["outlet_id"], outlet=outlets[row["outlet_id"]].name,
                         company=outlets[row["outlet_id"]].company.name,
                         total=int(row["total"]), donors=int(row["donors"]), rank=rank)
             for rank, row in shown]
    mine = next((line for line in lines if line.outlet_id == outlet_id and line.rank > top),
                None)
    return Network(total=int(total), donors=len(donors),
                   outlets=[line for line in lines if line.rank <= top], mine=mine)


# -- marketing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CauseInput:
    title: str
    summary: str
    description: str
    goal: int
    points_per_unit: int
    currency: str
    match_percent: int
    min_donation: int | None
    is_open: bool
    position: int


async def create_cause(by: Person, data: CauseInput, *, picture: str | None,
                       now: datetime) -> Cause:
    """A new cause with its own ledger account, in one transaction."""
    async with write_transaction() as conn:
        account = await ledger.system_account(f"cause:{secrets.token_hex(8)}",
                                              name=f"Cause: {data.title}"[:200], conn=conn)
        return await Cause.create(**data.__dict__, picture=picture, account_id=account.id,
                                  created_at=now, created_by_id=by.id, using_db=conn)


async def update_cause(cause_id: int, data: CauseInput, *, picture: str | None) -> Cause:
    """Changes the cause's texts and terms; its donations and total stay as they are.
    ``picture`` None keeps the current one."""
    found = await Cause.get_or_none(id=cause_id)
    if found is None:
        raise CauseNotFound()
    changes = dict(data.__dict__)
    if picture is not None:
        changes["picture"] = picture
    await Cause.filter(id=cause_id).update(**changes)
    return await Cause.get(id=cause_id)


async def raw_cause(cause_id: int) -> Cause:
    found = await Cause.get_or_none(id=cause_id)
    if found is None:
        raise CauseNotFound()
    return found


EXPORT_HEADER = ("donation_id", "created_at", "cause", "donor", "email", "outlet", "company",
                 "points", "money", "currency")


async def export_rows(*, batch: int = 1000) -> AsyncIterator[tuple[str | int, ...]]:
    """Every donation, oldest first, as the CSV export's rows (read in batches)."""
    causes_by_id = {c.id: c for c in await Cause.all()}
    views = {c.id: _view(c, 0, 0, 0) for c in causes_by_id.values()}
    after = 0
    while True:
        rows = await (Donation.filter(id__gt=after).select_related(
            "person", "outlet", "outlet__company").order_by("id").limit(batch))
        if not rows:
            return
        for r in rows:
            view = views[r.cause_id]
            yield (r.id, r.created_at.isoformat(), view.title, r.person.full_name,
                   r.person.email, r.outlet.name if r.outlet else "",
                   r.outlet.company.name if r.outlet else "", r.amount,
                   str(view.money(r.amount)), view.currency)
        after = rows[-1].id
