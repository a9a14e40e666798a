"""Reading the ledger: a transfer as callers see it, an account's history, its summary,
the adjustments audit, open holds and season earnings. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import Q

from portal.ledger import idle
from portal.ledger.models import Account, Hold, HoldStatus, SeasonScore, Transfer, TransferKind
from portal.ledger.reasons import Reason
from portal.seasons import season_of


@dataclass(frozen=True)
class TransferResult:
    id: int
    kind: TransferKind
    amount: int
    source_id: int
    target_id: int
    reason: str
    reference: str
    created_at: datetime
    replayed: bool  # True when the key had been used before and nothing moved now

    @classmethod
    def of(cls, transfer: Transfer, *, replayed: bool) -> TransferResult:
        return cls(
            id=transfer.id,
            kind=TransferKind(transfer.kind),
            amount=transfer.amount,
            source_id=transfer.source_id,
            target_id=transfer.target_id,
            reason=transfer.reason,
            reference=transfer.reference,
            created_at=transfer.created_at,
            replayed=replayed,
        )


async def transfer_by_key(key: str) -> TransferResult | None:
    """The transfer made under ``key`` (``replayed`` is False: nothing was asked to move),
    or None when no operation used that key."""
    transfer = await Transfer.get_or_none(key=key)
    return TransferResult.of(transfer, replayed=False) if transfer is not None else None


async def account_of_person(person_id: int) -> Account:
    return await Account.get(person_id=person_id)


async def account_of_company(company_id: int) -> Account | None:
    """The company's points account (None for no such company)."""
    return await Account.get_or_none(company_id=company_id).select_related("company")


@dataclass(frozen=True)
class Entry:
    """One line of an account's history, signed from that account's side.

    ``reason`` is said in the language of the request that read it; ``reason_message``
    and ``reason_params`` are what it was made of (no message: a text a person wrote).
    """

    id: int
    kind: TransferKind
    amount: int
    reason: str
    reason_message: str | None
    reason_params: dict[str, Any] | None
    reference: str
    created_at: datetime


def reason_of(row: Transfer | Hold) -> Reason:
    return Reason.stored(row.reason_message, row.reason_params, row.reason)


async def history(
    account: Account, *, kind: TransferKind | None = None, offset: int = 0, limit: int = 25
) -> tuple[list[Entry], bool]:
    """A page of the account's transfers, newest first, and whether more follow."""
    query = Transfer.filter(Q(source_id=account.id) | Q(target_id=account.id))
    if kind is not None:
        query = query.filter(kind=kind)
    rows = await query.order_by("-id").offset(offset).limit(limit + 1)
    entries = [
        Entry(
            id=row.id,
            kind=TransferKind(row.kind),
            amount=row.amount if row.target_id == account.id else -row.amount,
            reason=reason_of(row).translated(),
            reason_message=row.reason_message or None,
            reason_params=row.reason_params if row.reason_message else None,
            reference=row.reference,
            created_at=row.created_at,
        )
        for row in rows[:limit]
    ]
    return entries, len(rows) > limit


@dataclass(frozen=True)
class OpenHold:
    id: int
    amount: int
    reason: str  # in the reader's language
    reference: str
    created_at: datetime


async def open_holds(account: Account) -> list[OpenHold]:
    rows = await Hold.filter(account_id=account.id, status=HoldStatus.OPEN).order_by("-id")
    return [OpenHold(id=row.id, amount=row.amount, reason=reason_of(row).translated(),
                     reference=row.reference, created_at=row.created_at) for row in rows]


async def earned_in_season(account: Account, season: str) -> int:
    score = await SeasonScore.get_or_none(account_id=account.id, season=season)
    return score.earned if score else 0


@dataclass(frozen=True)
class Points:
    balance: int
    held: int  # set aside by open bids
    available: int  # what may be spent: balance - held
    earned_this_season: int
    season: str


async def points(account: Account, *, now: datetime | None = None) -> Points:
    """An account's points as its owner sees them (``account`` freshly read)."""
    season = season_of(now if now is not None else datetime.now(UTC))
    return Points(balance=account.balance, held=account.held,
                  available=account.balance - account.held,
                  earned_this_season=await earned_in_season(account, season), season=season)


async def adjustments(*, offset: int = 0, limit: int = 25) -> tuple[list[Transfer], bool]:
    rows = (
        await Transfer.filter(kind=TransferKind.ADJUST)
        .select_related("source", "target", "created_by")
        .order_by("-id")
        .offset(offset)
        .limit(limit + 1)
    )
    return rows[:limit], len(rows) > limit


@dataclass(frozen=True)
class Summary:
    balance: int
    held: int
    available: int
    earned_this_season: int
    earned_total: int
    last_activity: datetime
    # When the available points fall due to burn (see ``idle.burn_due``); None when nothing
    # would burn. The burn itself happens at the burn job's next run from then.
    burn_due: datetime | None


async def summary(account: Account, *, burn_after_days: int,
                  notice: timedelta = timedelta(0), now: datetime | None = None) -> Summary:
    """What a player's dashboard shows about their points (``account`` freshly read)."""
    moment = now if now is not None else datetime.now(UTC)
    last_activity = account.last_active_at or account.created_at
    available = account.balance - account.held
    due = None
    if available > 0:
        arrivals = await idle.arrivals(connections.get("default"), [account.id])
        due = idle.burn_due(last_activity, *arrivals.get(account.id, ()),
                            idle_days=burn_after_days, notice=notice)
    return Summary(
        balance=account.balance,
        held=account.held,
        available=available,
        earned_this_season=await earned_in_season(account, season_of(moment)),
        earned_total=account.earned_total,
        last_activity=last_activity,
        burn_due=due,
    )
