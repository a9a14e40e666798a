"""The ledger's rules: the only code that moves points.

Every movement is one transfer between two accounts, written in one transaction with the
balance changes it causes, by one path (``_write_transfer``); a hold sets points aside
through the same guarded statement. Balances change through guarded single statements
(``UPDATE account SET balance = balance - x WHERE id = ? AND balance - held >= x``) and
the caller checks that exactly one row changed, so concurrent spends never overdraw, on
SQLite and PostgreSQL alike. Each operation carries an idempotency key: the same key
again answers as the first time did; the same key with other values is an error.

Reading lives beside it: ``reads`` (history, summary, a transfer by key), ``idle`` (which
accounts fall due to burn, and when) and ``invariants`` (``portal check``). Their public
names are imported here too, so ``from portal.ledger import service as ledger`` reaches
the whole ledger.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from portal.db import (
    Statement,
    dialect_sql,
    insert,
    is_postgres,
    placeholders,
    write_transaction,
)
from portal.i18n import N_, Refusal
from portal.ledger import idle
from portal.ledger.invariants import Problem as Problem
from portal.ledger.invariants import check_invariants as check_invariants
from portal.ledger.models import (
    Account,
    AccountKind,
    Hold,
    HoldStatus,
    Transfer,
    TransferKind,
)
from portal.ledger.reads import Entry as Entry
from portal.ledger.reads import Summary as Summary
from portal.ledger.reads import TransferResult
from portal.ledger.reads import account_of_company as account_of_company
from portal.ledger.reads import account_of_person as account_of_person
from portal.ledger.reads import adjustments as adjustments
from portal.ledger.reads import earned_in_season as earned_in_season
from portal.ledger.reads import history as history
from portal.ledger.reads import open_holds as open_holds
from portal.ledger.reads import points as points
from portal.ledger.reads import summary as summary
from portal.ledger.reads import transfer_by_key as transfer_by_key
from portal.ledger.reasons import Reason as Reason
from portal.seasons import season_of

ISSUANCE = "issuance"
# Keys the ledger makes itself (a hold's capture) start with this; callers' keys cannot.
SYSTEM_KEY_PREFIX = "ledger:"
BURNS = "burns"
CATALOG = "catalog"
# The catalog's income is spread over this many system accounts (``catalog_code``): every
# redemption credits the catalog in its transaction, and on PostgreSQL that credit holds
# the row's lock until the commit, so racing buyers on one account would queue behind
# each other's commits (the catalog bench showed most of the race waiting on it).
CATALOG_SHARDS = 32
MAX_AMOUNT = 1_000_000_000

_Result = TypeVar("_Result")
_Keyed = TypeVar("_Keyed", Transfer, Hold)


class LedgerError(Refusal):
    """A ledger operation was refused; the message says why, in plain words."""


class NotEnoughPoints(LedgerError):
    def __init__(self, available: int, amount: int) -> None:
        super().__init__(N_("Not enough points: %(available)s available, %(amount)s needed."),
                         available=available, amount=amount)
        self.available = available
        self.amount = amount


class InvalidAmount(LedgerError):
    pass


class KeyReused(LedgerError):
    """The idempotency key was already used for a different operation."""


class HoldResolved(LedgerError):
    """The hold was already captured or released the other way."""


@dataclass(frozen=True)
class HoldResult:
    id: int
    account_id: int
    target_id: int
    amount: int
    status: HoldStatus
    replayed: bool


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# -- accounts ---------------------------------------------------------------------------


def catalog_code(payer_id: int) -> str:
    """The code of the catalog account a payer's spends credit: ``catalog``, or
    ``catalog:1`` to ``catalog:31``, by the paying account's id."""
    shard = payer_id % CATALOG_SHARDS
    return CATALOG if shard == 0 else f"{CATALOG}:{shard}"


async def system_account(code: str, *, name: str | None = None,
                         conn: BaseDBAsyncClient | None = None) -> Account:
    """The system account with this code (issuance, burns, catalog, auction:N, ...)."""
    if conn is not None:
        found = await Account.filter(code=code).using_db(conn).first()
        return found or await Account.create(kind=AccountKind.SYSTEM, code=code,
                                             name=name or code, using_db=conn)
    account = await Account.get_or_none(code=code)
    if account is not None:
        return account
    try:
        async with write_transaction() as conn:
            return await Account.create(
                kind=AccountKind.SYSTEM, code=code, name=name or code, using_db=conn
            )
    except IntegrityError:  # created meanwhile by someone else
        return await Account.get(code=code)


async def open_person_account(
    person_id: int, *, name: str, conn: BaseDBAsyncClient
) -> Account:
    """Called inside the transaction that creates the person."""
    return await Account.create(
        kind=AccountKind.PERSON, person_id=person_id, name=name, using_db=conn
    )


async def open_company_account(
    company_id: int, *, name: str, conn: BaseDBAsyncClient
) -> Account:
    return await Account.create(
        kind=AccountKind.COMPANY, company_id=company_id, name=name, using_db=conn
    )


# -- moving points ----------------------------------------------------------------------


async def earn(
    account: Account,
    *,
    amount: int,
    reason: Reason | str,
    reference: str,
    key: str,
    now: datetime | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> TransferResult:
    """Award points; they also count towards this season's and all-time earnings.

    Pass ``conn`` to make the award part of the caller's write transaction (a game's
    last answer and its credit commit together, or not at all).
    """
    issuance = await system_account(ISSUANCE, name="Points issued", conn=conn)
    return await _move(
        TransferKind.EARN, issuance, account, amount, reason, reference, key, _now(now), None,
        conn=conn,
    )


async def spend(
    account: Account,
    *,
    amount: int,
    reason: Reason | str,
    reference: str,
    key: str,
    target: Account | None = None,
    now: datetime | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> TransferResult:
    """Pass ``conn`` to make the spend part of the caller's write transaction (a catalog
    order and its payment commit together, or not at all)."""
    target = target or await system_account(CATALOG, name="Catalog", conn=conn)
    return await _move(
        TransferKind.SPEND, account, target, amount, reason, reference, key, _now(now), None,
        conn=conn,
    )


async def refund(
    account: Account,
    *,
    amount: int,
    reason: Reason | str,
    reference: str,
    key: str,
    source: Account | None = None,
    now: datetime | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> TransferResult:
    """Gives spent points back (a cancelled catalog order) from what received them."""
    source = source or await system_account(CATALOG, name="Catalog", conn=conn)
    return await _move(
        TransferKind.REFUND, source, account, amount, reason, reference, key, _now(now), None,
        conn=conn,
    )


async def share(
    company: Account,
    *,
    amount: int,
    reason: Reason | str,
    reference: str,
    key: str,
    now: datetime | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> TransferResult:
    """Credits a company its share of what one of its staff earned, in the caller's
    transaction (with the earning). Issued points, but no earning of the company's: they
    count towards no board, season or tier."""
    if company.kind != AccountKind.COMPANY:
        raise LedgerError(N_("A share goes to a company's account."))
    issuance = await system_account(ISSUANCE, name="Points issued", conn=conn)
    return await _move(
        TransferKind.SHARE, issuance, company, amount, reason, reference, key, _now(now), None,
        conn=conn,
    )


async def donate(
    account: Account,
    *,
    cause: Account,
    amount: int,
    reason: Reason | str,
    reference: str,
    key: str,
    now: datetime | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> TransferResult:
    """Pass ``conn`` to make the donation part of the caller's write transaction (the
    cause's record of it commits with it, or neither does)."""
    return await _move(
        TransferKind.DONATE, account, cause, amount, reason, reference, key, _now(now), None,
        conn=conn,
    )


async def burn(
    account: Account,
    *,
    amount: int,
    reason: Reason | str,
    reference: str,
    key: str,
    now: datetime | None = None,
) -> TransferResult:
    burns = await system_account(BURNS, name="Points burned")
    return await _move(
        TransferKind.BURN, account, burns, amount, reason, reference, key, _now(now), None
    )


async def adjust(
    account: Account,
    *,
    amount: int,
    reason: Reason | str,
    by_person_id: int,
    key: str,
    now: datetime | None = None,
) -> TransferResult:
    """A manual correction by admin or marketing: positive adds, negative takes away."""
    reason = _reason(reason)
    if not reason.english().strip():
        raise LedgerError(N_("An adjustment needs a reason."))
    if amount == 0:
        raise InvalidAmount(N_("An adjustment must add or take away at least 1 point."))
    issuance = await system_account(ISSUANCE, name="Points issued")
    source, target = (issuance, account) if amount > 0 else (account, issuance)
    return await _move(
        TransferKind.ADJUST,
        source,
        target,
        abs(amount),
        reason,
        f"adjust:{by_person_id}",
        key,
        _now(now),
        by_person_id,
    )


def _reason(reason: Reason | str) -> Reason:
    """A plain string is a text a person wrote (an adjustment's reason): shown as written."""
    return reason if isinstance(reason, Reason) else Reason.text(reason.strip())


def _check_request(amount: int, key: str, reason: Reason, reference: str,
                   source: Account, target: Account) -> None:
    """Refuses what could not be stored exactly (never cut: a retry must compare equal)."""
    _check_fields(amount, key, reason, reference, source.id, target.id)


def _check_fields(amount: int, key: str, reason: Reason, reference: str, source_id: int,
                  target_id: int) -> None:
    _check_amount(amount)
    if not key or len(key) > 200 or key.startswith(SYSTEM_KEY_PREFIX):
        raise LedgerError(N_("Every ledger operation needs a key of 1 to 200 characters."))
    english = reason.english()
    if not english.strip() or len(english) > 500:
        raise LedgerError(N_("Every ledger operation needs a reason of 1 to 500 characters."))
    if len(reference) > 200:
        raise LedgerError(N_("A reference has at most 200 characters."))
    if source_id == target_id:
        raise LedgerError(N_("A transfer needs two different accounts."))


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount(N_("Points are whole numbers."))
    if not 0 < amount <= MAX_AMOUNT:
        raise InvalidAmount(N_("The amount must be between 1 and %(most)s points."),
                            most=MAX_AMOUNT)


def _said(existing: Transfer | Hold) -> tuple[str, str | None]:
    return existing.reason, existing.reason_message or None


def _saying(reason: Reason, existing: Transfer | Hold) -> tuple[str, str | None]:
    """What a retry says, as ``_said`` reads the stored row. A row written before reasons
    had message ids (and not mapped by migration 0011) is compared by its English alone."""
    return reason.english(), reason.message if existing.reason_message else None


def _same_or_refused(key: str, stored: tuple[object, ...], asked: tuple[object, ...]) -> None:
    if stored != asked:
        raise KeyReused(N_("The key %(key)s was already used for another operation."),
                        key=key)


async def _once(
    model: type[_Keyed],
    key: str,
    *,
    replay: Callable[[_Keyed], _Result],
    write: Callable[[BaseDBAsyncClient], Awaitable[_Result]],
    conn: BaseDBAsyncClient | None = None,
) -> _Result:
    """Runs ``write`` once per key: when a ``model`` row (a transfer, a hold) already has
    the key, the answer is ``replay`` of it instead, and nothing is written."""
    existing = await model.filter(key=key).using_db(conn).first()
    if existing is not None:
        return replay(existing)
    if conn is not None:
        # Inside the caller's transaction: a key race makes the whole transaction fail,
        # and the caller's retry then finds the row and replays it.
        return await write(conn)
    try:
        async with write_transaction() as own:
            return await write(own)
    except IntegrityError:
        # Another request with the same key committed first: answer as it did.
        existing = await model.filter(key=key).using_db(None).first()
        if existing is None:
            raise
        return replay(existing)


async def _move(
    kind: TransferKind,
    source: Account,
    target: Account,
    amount: int,
    reason: Reason | str,
    reference: str,
    key: str,
    now: datetime,
    by_person_id: int | None,
    *,
    conn: BaseDBAsyncClient | None = None,
) -> TransferResult:
    reason = _reason(reason)
    _check_request(amount, key, reason, reference, source, target)

    def replay(existing: Transfer) -> TransferResult:
        _same_or_refused(key, (existing.kind, existing.source_id, existing.target_id,
                               existing.amount, existing.reference, *_said(existing)),
                         (kind, source.id, target.id, amount, reference,
                          *_saying(reason, existing)))
        return TransferResult.of(existing, replayed=True)

    async def write(conn: BaseDBAsyncClient) -> TransferResult:
        transfer = await _write_transfer(conn, kind, source, target, amount, reason,
                                         reference, key, now, by_person_id)
        return TransferResult.of(transfer, replayed=False)

    return await _once(Transfer, key, replay=replay, write=write, conn=conn)


async def _write_transfer(
    conn: BaseDBAsyncClient,
    kind: TransferKind,
    source: Account,
    target: Account,
    amount: int,
    reason: Reason,
    reference: str,
    key: str,
    now: datetime,
    by_person_id: int | None,
    *,
    releasing: int = 0,
) -> Transfer:
    """The one place a transfer is written with the balance changes it causes.
    ``releasing``: how much of the amount the source held for it (a captured hold)."""
    transfer = await Transfer.create(
        key=key,
        kind=kind,
        source_id=source.id,
        target_id=target.id,
        amount=amount,
        reason=reason.english(),
        reason_message=reason.message,
        reason_params=reason.stored_params(),
        reference=reference,
        season=season_of(now),
        created_at=now,
        created_by_id=by_person_id,
        using_db=conn,
    )
    # Rows are always locked in id order, so two transfers between the same accounts in
    # opposite directions cannot deadlock on PostgreSQL.
    for account in sorted((source, target), key=lambda a: a.id):
        if account is source:
            await _debit(conn, source, amount, releasing=releasing)
        else:
            await _credit(conn, target, amount,
                          earned_at=now if kind is TransferKind.EARN else None)
    if kind is TransferKind.EARN:
        await _count_season_earning(conn, target.id, amount, season_of(now), now)
    return transfer


async def _debit(conn: BaseDBAsyncClient, account: Account, amount: int, *,
                 releasing: int = 0) -> None:
    changes: dict[str, Any] = {"balance": F("balance") - amount}
    if releasing:
        changes["held"] = F("held") - releasing
    # Only what is available (balance - held) can leave a person's or company's account;
    # system accounts issue points and go below zero. Held points being released for
    # this transfer were checked when they were held.
    guard = amount - releasing if account.kind != AccountKind.SYSTEM else 0
    await _change(conn, account.id, guard=guard, **changes)


async def _credit(
    conn: BaseDBAsyncClient, account: Account, amount: int, *, earned_at: datetime | None
) -> None:
    changes: dict[str, Any] = {"balance": F("balance") + amount}
    if earned_at is not None:
        changes["earned_total"] = F("earned_total") + amount
        changes["last_earned_at"] = earned_at
        changes["last_active_at"] = earned_at
    await _change(conn, account.id, **changes)


async def _change(conn: BaseDBAsyncClient, account_id: int, *, guard: int = 0,
                  **changes: Any) -> None:
    """Changes one account in a single statement. With a ``guard`` the statement itself
    requires that many points available (balance - held), so no two concurrent changes
    can both take the same points."""
    query = Account.filter(id=account_id).using_db(conn)
    if guard > 0:
        query = query.filter(balance__gte=F("held") + guard)
    if await query.update(**changes) != 1:
        current = await Account.filter(id=account_id).using_db(conn).first()
        if current is None:
            raise LedgerError(N_("Account %(id)s does not exist."), id=account_id)
        raise NotEnoughPoints(current.balance - current.held, guard)


async def _count_season_earning(
    conn: BaseDBAsyncClient, account_id: int, amount: int, season: str, now: datetime
) -> None:
    # One statement, so two first earnings of a season cannot both try to insert. Only the
    # placeholder style is interpolated into the SQL, never a value.
    marks = placeholders(conn, 4)
    await conn.execute_query(
        "INSERT INTO season_score (account_id, season, earned, reached_at) "  # noqa: S608
        f"VALUES ({', '.join(marks)}) "
        "ON CONFLICT (account_id, season) DO UPDATE SET "
        "earned = season_score.earned + excluded.earned, reached_at = excluded.reached_at",
        [account_id, season, amount, now],
    )


# -- holds --------------------------------------------------------------------------------


def _hold_result(hold: Hold, *, replayed: bool) -> HoldResult:
    return HoldResult(
        id=hold.id,
        account_id=hold.account_id,
        target_id=hold.target_id,
        amount=hold.amount,
        status=HoldStatus(hold.status),
        replayed=replayed,
    )


async def hold(
    account: Account,
    *,
    target: Account,
    amount: int,
    reason: Reason | str,
    reference: str,
    key: str,
    now: datetime | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> HoldResult:
    """Reserve points for a pending transfer: they leave "available" at once. Pass
    ``conn`` to make the hold part of the caller's write transaction (a bid that releases
    the bidder's previous hold and holds the new amount, all or nothing)."""
    reason = _reason(reason)
    _check_request(amount, key, reason, reference, account, target)

    def replay(existing: Hold) -> HoldResult:
        _same_or_refused(key, (existing.account_id, existing.target_id, existing.amount,
                               existing.reference, *_said(existing)),
                         (account.id, target.id, amount, reference,
                          *_saying(reason, existing)))
        return _hold_result(existing, replayed=True)

    async def write(conn: BaseDBAsyncClient) -> HoldResult:
        held = await Hold.create(key=key, account_id=account.id, target_id=target.id,
                                 amount=amount, reason=reason.english(),
                                 reason_message=reason.message,
                                 reason_params=reason.stored_params(), reference=reference,
                                 created_at=_now(now), using_db=conn)
        # Held points must be available, whatever the account: the same guard as a debit.
        await _change(conn, account.id, guard=amount, held=F("held") + amount)
        return _hold_result(held, replayed=False)

    return await _once(Hold, key, replay=replay, write=write, conn=conn)


async def _in(conn: BaseDBAsyncClient | None,
              work: Callable[[BaseDBAsyncClient], Awaitable[_Result]]) -> _Result:
    """Runs ``work`` in the caller's transaction when given one, else in its own."""
    if conn is not None:
        return await work(conn)
    async with write_transaction() as own:
        return await work(own)


async def release(hold_id: int, *, now: datetime | None = None,
                  conn: BaseDBAsyncClient | None = None) -> HoldResult:
    """Give held points back (outbid, lot cancelled). Resolves the hold exactly once.
    Pass ``conn`` to make it part of the caller's write transaction."""
    return await _in(conn, lambda conn: _release(conn, hold_id, now))


async def _release(conn: BaseDBAsyncClient, hold_id: int, now: datetime | None
                   ) -> HoldResult:
    if not await _resolve(conn, hold_id, HoldStatus.RELEASED, now):
        return await _already_resolved(hold_id, HoldStatus.RELEASED, conn)
    hold_row = await Hold.filter(id=hold_id).using_db(conn).get()
    await _change(conn, hold_row.account_id, held=F("held") - hold_row.amount)
    return _hold_result(hold_row, replayed=False)


async def capture(hold_id: int, *, now: datetime | None = None,
                  conn: BaseDBAsyncClient | None = None) -> HoldResult:
    """Turn a hold into a spend to its target (the auction was won). Pass ``conn`` to
    make it part of the caller's write transaction (a lot's settlement)."""
    return await _in(conn, lambda conn: _capture(conn, hold_id, _now(now)))


async def _capture(conn: BaseDBAsyncClient, hold_id: int, moment: datetime) -> HoldResult:
    if not await _resolve(conn, hold_id, HoldStatus.CAPTURED, moment):
        return await _already_resolved(hold_id, HoldStatus.CAPTURED, conn)
    hold_row = await Hold.filter(id=hold_id).using_db(conn).get()
    accounts = {a.id: a for a in await Account.filter(
        id__in=[hold_row.account_id, hold_row.target_id]).using_db(conn)}
    # The key is the ledger's own, and resolving the hold above made this run the
    # only one: no key check or replay is needed.
    transfer = await _write_transfer(
        conn, TransferKind.CAPTURE, accounts[hold_row.account_id],
        accounts[hold_row.target_id], hold_row.amount,
        Reason.stored(hold_row.reason_message, hold_row.reason_params, hold_row.reason),
        hold_row.reference, f"{SYSTEM_KEY_PREFIX}capture:{hold_row.id}", moment, None,
        releasing=hold_row.amount)
    await Hold.filter(id=hold_id).using_db(conn).update(capture_id=transfer.id)
    hold_row.status = HoldStatus.CAPTURED
    return _hold_result(hold_row, replayed=False)


async def _resolve(
    conn: BaseDBAsyncClient, hold_id: int, status: HoldStatus, now: datetime | None
) -> bool:
    changed = (
        await Hold.filter(id=hold_id, status=HoldStatus.OPEN)
        .using_db(conn)
        .update(status=status, resolved_at=_now(now))
    )
    return changed == 1


async def _already_resolved(hold_id: int, wanted: HoldStatus,
                            conn: BaseDBAsyncClient | None = None) -> HoldResult:
    current = await Hold.filter(id=hold_id).using_db(conn).first()
    if current is None:
        raise LedgerError(N_("There is no hold %(id)s."), id=hold_id)
    if current.status != wanted:
        raise HoldResolved(N_("The hold was already %(status)s."), status=current.status)
    return _hold_result(current, replayed=True)


# -- a hold replacing another, in hand-written SQL (a busy auction's hot path) -------------


async def replace_hold(
    conn: BaseDBAsyncClient,
    account_id: int,
    *,
    target_id: int,
    amount: int,
    reason: Reason,
    reference: str,
    key: str,
    now: datetime,
    releasing: int | None = None,
    active: bool = False,
) -> int:
    """Inside the caller's write transaction, releases the open hold the account
    ``releasing`` has on ``target_id`` (as ``release`` does; None: no hold to release) and
    holds ``amount`` of ``account_id``'s points for the target (as ``hold`` does): an
    auction's new leader takes the previous leader's place, or raises their own bid, and
    then only the difference must be available. ``active``: the inactivity clock of the
    holding account starts again in the same statement (a bid is activity). Returns the
    new hold's id.

    The rows are those ``release`` and ``hold`` write, in four or five statements instead
    of about ten: the accounts change in id order (no deadlock with another lot's bid),
    the holding one by the guarded statement (balance - held >= what it newly holds). A
    key used before fails the insert with IntegrityError; NotEnoughPoints when the points
    are not available. Either way the caller's transaction must roll back.
    """
    _check_fields(amount, key, reason, reference, account_id, target_id)
    released = 0
    if releasing is not None:
        rows = await conn.execute_query_dict(dialect_sql(
            conn, "UPDATE hold SET status = ?, resolved_at = ? WHERE account_id = ? "
            "AND target_id = ? AND status = ? RETURNING amount"),
            [HoldStatus.RELEASED.value, now, releasing, target_id, HoldStatus.OPEN.value])
        if not rows:
            raise LedgerError(N_("There is no open hold of account %(id)s to release."),
                              id=releasing)
        released = sum(int(row["amount"]) for row in rows)
    hold_id = (await conn.execute_query_dict(dialect_sql(
        conn, "INSERT INTO hold (key, account_id, target_id, amount, reason, reason_message, "
        "reason_params, reference, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id"),
        [key, account_id, target_id, amount, reason.english(), reason.message,
         _json(reason.stored_params()), reference, HoldStatus.OPEN.value, now]))[0]["id"]
    changes: dict[int, int] = {} if releasing is None else {releasing: -released}
    changes[account_id] = changes.get(account_id, 0) + amount
    for changed in sorted(changes):
        if changed != account_id:
            await conn.execute_query_dict(dialect_sql(
                conn, "UPDATE account SET held = held - ? WHERE id = ? RETURNING id"),
                [released, changed])
            continue
        more = changes[changed]
        activity = ", last_active_at = ?" if active else ""
        if not await conn.execute_query_dict(dialect_sql(
                conn, f"UPDATE account SET held = held + ?{activity} "  # noqa: S608
                "WHERE id = ? AND balance >= held + ? RETURNING id"),
                [more, *([now] if active else []), changed, max(more, 0)]):
            raise await _why_not_available(conn, changed, more)
    return int(hold_id)


def next_transfer_id_sql(postgres: bool) -> str:
    """An SQL expression for the id the next transfer may take, so a caller can record
    it (an order's payment) before ``spend_statements`` write it: the sequence's next
    value on PostgreSQL; on SQLite, inside a write transaction (which holds the
    database's one write lock), one above the highest id."""
    if postgres:  # by name: pg_get_serial_sequence() reads the catalogs on every call
        return "nextval('transfer_id_seq'::regclass)"
    return "(SELECT COALESCE(MAX(id), 0) + 1 FROM transfer)"


def spend_statements(
    conn: BaseDBAsyncClient,
    account_id: int,
    *,
    target_id: int,
    amount: int,
    reason: Reason,
    reference: str,
    key: str,
    now: datetime,
    transfer_id: int,
    keeping: int = 0,
    source: str | None = None,
) -> list[Statement]:
    """``spend`` of a person's or company's points as hand-written statements for the
    caller's write transaction (a busy catalog's hot path, which runs them with its own
    in one round trip, ``db.execute_together``, the last): the transfer row as
    ``_write_transfer`` writes it, with the id the caller took by
    ``next_transfer_id_sql``, then both accounts in one statement, the payer's by the
    guarded condition (balance - held >= amount, and >= ``keeping``: the catalog's
    threshold, kept by the same statement), the target's only with it. On PostgreSQL
    its rows are locked in id order first, as ``_write_transfer`` changes them: an
    UPDATE alone locks them in the order its plan meets them, and two payments of one
    payer would deadlock. Its rows go to ``check_spent``. A reused key fails the insert
    with IntegrityError.

    With ``source`` (PostgreSQL, a part of the caller's one statement, ``db.together``)
    both are written only if that part gave a row (see ``payable``)."""
    _check_fields(amount, key, reason, reference, account_id, target_id)
    ordered = ("(SELECT id FROM account WHERE id IN (?, ?) ORDER BY id FOR NO KEY UPDATE)"
               if is_postgres(conn) else "(?, ?)")
    given = f" AND EXISTS (SELECT 1 FROM {source})" if source else ""  # noqa: S608 - a name
    return [
        insert("transfer", {
            "id": transfer_id, "key": key, "kind": TransferKind.SPEND.value,
            "source_id": account_id, "target_id": target_id, "amount": amount,
            "reason": reason.english(), "reason_message": reason.message,
            "reason_params": _json(reason.stored_params()), "reference": reference,
            "season": season_of(now), "created_at": now}, source=source),
        ("UPDATE account SET balance = CASE WHEN id = ? THEN balance - ? "  # noqa: S608
         f"ELSE balance + ? END WHERE id IN {ordered} AND {_CAN_PAY}{given} RETURNING id",
         [account_id, amount, amount, account_id, target_id, account_id,
          max(amount, keeping)]),
    ]


# The guard of a spend's two rows: the target's always, the payer's only with the amount
# (and the ``keeping`` a caller asks to stay) free. Values: the payer, the larger of both.
_CAN_PAY = "(id <> ? OR balance >= held + ?)"


def payable(account_id: int, *, target_id: int, amount: int, keeping: int = 0
            ) -> Statement:
    """PostgreSQL: a part of one statement (``db.together``) that locks both accounts of
    a spend in id order, as ``spend_statements`` does, and gives the two rows only if the
    payer can pay (the same guard, read from the row as locked: a payment committed
    meanwhile is counted). The statement's other writes may then depend on a row of its
    own (a claimed code) that depends on both, and its ``spend_statements(source=...)``
    cannot fail: nobody else changes the payer until it commits. Its id is the only
    column."""
    return (f"SELECT id FROM account WHERE id IN (?, ?) AND {_CAN_PAY} "  # noqa: S608
            "ORDER BY id FOR NO KEY UPDATE",
            [account_id, target_id, account_id, max(amount, keeping)])


async def check_spent(conn: BaseDBAsyncClient, rows: list[dict[str, Any]], account_id: int,
                      target_id: int, amount: int) -> None:
    """NotEnoughPoints (or no such account) unless the last of ``spend_statements``
    changed both accounts; then the caller's transaction must roll back."""
    paid = {int(row["id"]) for row in rows}
    if account_id not in paid or target_id not in paid:
        raise await _why_not_available(conn, account_id, amount)


async def _why_not_available(
    conn: BaseDBAsyncClient, account_id: int, wanted: int
) -> LedgerError:
    """Why a guarded statement changed no row: no such account, or too few points free."""
    current = await Account.filter(id=account_id).using_db(conn).first()
    if current is None:
        return LedgerError(N_("Account %(id)s does not exist."), id=account_id)
    return NotEnoughPoints(current.balance - current.held, wanted)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


# -- inactivity burns ---------------------------------------------------------------------


def burn_reason(last_activity: date) -> Reason:
    return Reason(N_("Points burned: no finished game or course since %(date)s"),
                  date=last_activity)


@dataclass(frozen=True)
class BurnedBatch:
    """What a batch burned: how many accounts, and SQL for them (``where``, a condition on
    ``account`` rows named ``a``, with its ``params``) that statements in the batch's
    transaction can select them by, set-based, without their ids coming back to Python."""

    count: int
    where: str
    params: list[Any]


async def burn_idle_batch(
    *, due_by: datetime, idle_days: int, notice: timedelta, now: datetime, after: int,
    limit: int, also: Callable[[BaseDBAsyncClient, BurnedBatch], Awaitable[object]] | None = None,
) -> tuple[int, BurnedBatch] | None:
    """Burns the available points of the person accounts, among up to ``limit`` with ids
    above ``after``, whose points are due by ``due_by`` (see ``idle.burn_due``): one
    transaction, a handful of set-based statements. Returns the last id looked at and
    what was burned, or None when no idle account is left.

    ``due_by`` is the burn run: the key names the account and the run, so a replay of
    the same run burns nothing twice, whoever runs it and however often, while points
    that arrive after a burn get a burn of their own at a later run. Held points stay:
    bidding is activity. The rows are locked (FOR UPDATE, or SQLite's write lock) before
    the arrivals are read, so points arriving meanwhile are seen and not burned unwarned.
    ``also`` runs inside the same transaction with what was burned, before the balances
    change: each account row still holds, as balance - held, the points it burns, so
    ``also`` can read them from the rows it already has.

    A batch of burns is written set-based rather than one ``_write_transfer`` each: the
    due points of the batch's accounts become transfers in one INSERT ... SELECT (which
    accounts are idle, which points are due, and which burns this run already made, are
    decided in it), then one UPDATE of the burns account and one of their balances. Each
    row's reason is the same sentence with its day, filled in by the SQL.

    On PostgreSQL the batch's accounts are locked FOR UPDATE in a statement of their own,
    and the burns come back as their accounts' ids. On SQLite ``BEGIN IMMEDIATE`` already
    holds the write lock, so the batch is a range of ids (up to its ``limit``-th idle
    account) and its burns are the transfers written after the last one before it: no id
    comes back to Python or goes out again as a parameter (looking the ids up and sending
    them back was a fifth of SQLite's burn at 100,000 accounts).
    """
    due_by = due_by.astimezone(UTC)
    idle_since = due_by - timedelta(days=idle_days)
    async with write_transaction() as conn:
        if is_postgres(conn):
            ids = await idle.candidate_ids(conn, idle_since=idle_since, after=after,
                                           limit=limit)
            if not ids:
                return None
            last, marker = ids[-1], None
            chosen, listed = among(conn, "a.id", ids)
        else:
            # The batch's last account, and the last transfer before its burns.
            _, found = await conn.execute_query(
                "SELECT MAX(c.id), (SELECT MAX(id) FROM transfer) "  # noqa: S608
                f"FROM ({idle.candidates_sql(conn, 'a.id')}) AS c", [after, idle_since, limit])
            if found[0][0] is None:
                return None
            last, marker = int(found[0][0]), int(found[0][1] or 0)
            chosen, listed = "a.id > ? AND a.id <= ?", [after, last]
        burns = await system_account(BURNS, name="Points burned", conn=conn)
        run = burn_run(due_by)
        reason = burn_reason(_SOME_DAY)
        values = [run, burns.id, reason.english(), _SOME_DAY.isoformat(), reason.message,
                  _json(reason.stored_params()), _SOME_DAY.isoformat(), season_of(now), now,
                  *listed, idle_since, due_by - notice, due_by - notice]
        # What the burns account gains, as SQL and its parameters: the burns' own amounts
        # (summed from the account rows instead, it cost a look-up per burned account).
        points: tuple[str, list[Any]]
        if marker is None:
            # execute_query_dict: Tortoise's PostgreSQL execute_query drops RETURNING rows.
            rows = await conn.execute_query_dict(
                _burn_sql(conn, chosen) + " RETURNING source_id, amount", values)
            burned = BurnedBatch(len(rows), *among(
                conn, "a.id", [int(row["source_id"]) for row in rows]))
            points = "?", [sum(int(row["amount"]) for row in rows)]
        else:
            # The rows the INSERT added (SQLite's changes; no trigger on transfer adds more).
            count, _ = await conn.execute_query(_burn_sql(conn, chosen), values)
            # Nobody else writes while this transaction holds the write lock: every burn
            # transfer after the marker is this batch's.
            burned = BurnedBatch(count, f"a.id IN (SELECT t.source_id {_BURNS_AFTER})",
                                 [marker])
            points = f"(SELECT SUM(t.amount) {_BURNS_AFTER})", [marker]
        if burned.count:
            if also is not None:  # e.g. the notices, committed with the burn or not at all
                await also(conn, burned)
            await conn.execute_query(dialect_sql(conn, (
                f"UPDATE account SET balance = balance + {points[0]} WHERE id = ?")),  # noqa: S608
                [*points[1], burns.id])
            await conn.execute_query(dialect_sql(
                conn, f"UPDATE account AS a SET balance = held WHERE {burned.where}"),  # noqa: S608
                burned.params)
        return last, burned


def among(conn: BaseDBAsyncClient, column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """SQL for ``column`` is one of ``values``, with ``?`` markers, and its parameters: one
    array on PostgreSQL (one statement text, planned once, whatever the count), one
    marker each on SQLite."""
    if is_postgres(conn):
        return f"{column} = ANY(?)", [values]
    return f"{column} IN ({', '.join('?' * len(values))})", values


# SQLite: the burn transfers written after the one ``?`` marker (a transfer id), in a
# transaction that holds the write lock (see ``burn_idle_batch``).
_BURNS_AFTER = "FROM transfer t WHERE t.id > ? AND t.kind = 'burn'"
# A stand-in for the day in a burn's reason: the SQL puts each account's own in its place.
_SOME_DAY = date(1, 1, 1)
# SQL for the key of account ``a``'s burn in a run (``burn_run``, the one parameter), as
# ``burn_idle_batch`` names it in Python: ``burn:<account>:<run>``.
BURN_KEY_SQL = "'burn:' || a.id || ':' || ?"


def burn_run(due_by: datetime) -> str:
    """The name of the burn run ``due_by`` belongs to, as its burns' keys carry it."""
    return due_by.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def activity_day(conn: BaseDBAsyncClient) -> str:
    """SQL for the day of account ``a``'s last activity (its last finished game or course,
    else its opening), as a burn's reason names it: 'YYYY-MM-DD'."""
    if is_postgres(conn):
        return ("to_char(COALESCE(a.last_active_at, a.created_at) AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD')")
    # The text Tortoise stores starts with the day of the datetime it was given.
    return "substr(COALESCE(a.last_active_at, a.created_at), 1, 10)"


def _burn_sql(conn: BaseDBAsyncClient, chosen: str) -> str:
    """The burn of a batch's locked accounts (``chosen``) as one INSERT ... SELECT: those
    still idle (``idle.idle_sql``) whose points are due (no points arrived since the
    notice period began: see ``idle.burn_due``) and not yet burned by this run."""
    day = activity_day(conn)
    params = f"CAST(REPLACE(?, ?, {day}) AS jsonb)" if is_postgres(conn) else (
        f"REPLACE(?, ?, {day})")
    return dialect_sql(conn, (
        "INSERT INTO transfer (key, kind, source_id, target_id, amount, reason, "  # noqa: S608
        "reason_message, reason_params, reference, season, created_at) "
        f"SELECT {BURN_KEY_SQL}, '{TransferKind.BURN.value}', a.id, ?, "
        f"a.balance - a.held, REPLACE(?, ?, {day}), ?, {params}, 'inactivity', ?, ? "
        f"FROM account a WHERE {chosen} AND {idle.idle_sql(conn)} "
        # The arrivals as idle.arrivals reads them: the newest incoming transfer, and
        # released bids.
        "AND COALESCE((SELECT t.created_at FROM transfer t WHERE t.target_id = a.id "
        "ORDER BY t.id DESC LIMIT 1) <= ?, TRUE) "
        "AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.account_id = a.id "
        "AND h.status = 'released' AND h.resolved_at > ?) "
        # A burn this run already made is its key's: the key's unique index skips it
        # without a look of its own per account.
        "ON CONFLICT (key) DO NOTHING"))


async def mark_active(conn: BaseDBAsyncClient, person_id: int, *, now: datetime) -> None:
    """A finished game or course is activity even when it earned nothing: it resets the
    inactivity clock. Called inside the transaction that finishes it."""
    await Account.filter(person_id=person_id).using_db(conn).update(last_active_at=now)
