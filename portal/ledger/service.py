"""The ledger's rules: the only code that moves points.

Every movement is one transfer between two accounts, written in one transaction with the
balance changes it causes. Balances change through guarded single statements
(``UPDATE account SET balance = balance - x WHERE id = ? AND balance - held >= x``) and
the caller checks that exactly one row changed, so concurrent spends never overdraw, on
SQLite and PostgreSQL alike. Each operation carries an idempotency key: the same key
again answers as the first time did; the same key with other values is an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from portal.db import is_postgres, placeholders, write_transaction
from portal.i18n import N_, Refusal
from portal.ledger.models import (
    Account,
    AccountKind,
    Hold,
    HoldStatus,
    SeasonScore,
    Transfer,
    TransferKind,
)
from portal.seasons import season_of

ISSUANCE = "issuance"
# Keys the ledger makes itself (a hold's capture) start with this; callers' keys cannot.
SYSTEM_KEY_PREFIX = "ledger:"
BURNS = "burns"
CATALOG = "catalog"
MAX_AMOUNT = 1_000_000_000


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


@dataclass(frozen=True)
class HoldResult:
    id: int
    account_id: int
    target_id: int
    amount: int
    status: HoldStatus
    replayed: bool


@dataclass(frozen=True)
class Entry:
    """One line of an account's history, signed from that account's side."""

    id: int
    kind: TransferKind
    amount: int
    reason: str
    reference: str
    created_at: datetime


@dataclass(frozen=True)
class Problem:
    account_id: int | None
    account_name: str
    message: str


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# -- accounts ---------------------------------------------------------------------------


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


async def account_of_person(person_id: int) -> Account:
    return await Account.get(person_id=person_id)


# -- moving points ----------------------------------------------------------------------


async def earn(
    account: Account,
    *,
    amount: int,
    reason: str,
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
    reason: str,
    reference: str,
    key: str,
    target: Account | None = None,
    now: datetime | None = None,
) -> TransferResult:
    target = target or await system_account(CATALOG, name="Catalog")
    return await _move(
        TransferKind.SPEND, account, target, amount, reason, reference, key, _now(now), None
    )


async def donate(
    account: Account,
    *,
    cause: Account,
    amount: int,
    reason: str,
    reference: str,
    key: str,
    now: datetime | None = None,
) -> TransferResult:
    return await _move(
        TransferKind.DONATE, account, cause, amount, reason, reference, key, _now(now), None
    )


async def burn(
    account: Account,
    *,
    amount: int,
    reason: str,
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
    reason: str,
    by_person_id: int,
    key: str,
    now: datetime | None = None,
) -> TransferResult:
    """A manual correction by admin or marketing: positive adds, negative takes away."""
    if not reason.strip():
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
        reason.strip(),
        f"adjust:{by_person_id}",
        key,
        _now(now),
        by_person_id,
    )


def _check_request(amount: int, key: str, reason: str, reference: str) -> None:
    """Refuses what could not be stored exactly (never cut: a retry must compare equal)."""
    _check_amount(amount)
    if not key or len(key) > 200 or key.startswith(SYSTEM_KEY_PREFIX):
        raise LedgerError(N_("Every ledger operation needs a key of 1 to 200 characters."))
    if not reason.strip() or len(reason) > 500:
        raise LedgerError(N_("Every ledger operation needs a reason of 1 to 500 characters."))
    if len(reference) > 200:
        raise LedgerError(N_("A reference has at most 200 characters."))


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount(N_("Points are whole numbers."))
    if not 0 < amount <= MAX_AMOUNT:
        raise InvalidAmount(N_("The amount must be between 1 and %(most)s points."),
                            most=MAX_AMOUNT)


def _replay(existing: Transfer, kind: TransferKind, source: Account, target: Account,
            amount: int, reference: str, reason: str) -> TransferResult:
    if (existing.kind, existing.source_id, existing.target_id, existing.amount,
            existing.reference, existing.reason) != (
            kind, source.id, target.id, amount, reference, reason):
        raise KeyReused(N_("The key %(key)s was already used for another operation."),
                       key=existing.key)
    return _result(existing, replayed=True)


def _result(transfer: Transfer, *, replayed: bool) -> TransferResult:
    return TransferResult(
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


async def _move(
    kind: TransferKind,
    source: Account,
    target: Account,
    amount: int,
    reason: str,
    reference: str,
    key: str,
    now: datetime,
    by_person_id: int | None,
    *,
    conn: BaseDBAsyncClient | None = None,
) -> TransferResult:
    _check_request(amount, key, reason, reference)
    if source.id == target.id:
        raise LedgerError(N_("A transfer needs two different accounts."))
    existing = await Transfer.filter(key=key).using_db(conn).first()
    if existing is not None:
        return _replay(existing, kind, source, target, amount, reference, reason)
    if conn is not None:
        # Inside the caller's transaction: a key race makes the whole transaction fail,
        # and the caller's retry then finds the transfer and replays it.
        transfer = await _write_transfer(conn, kind, source, target, amount, reason,
                                         reference, key, now, by_person_id)
        return _result(transfer, replayed=False)
    try:
        async with write_transaction() as own:
            transfer = await _write_transfer(own, kind, source, target, amount, reason,
                                             reference, key, now, by_person_id)
    except IntegrityError:
        # Another request with the same key committed first: answer as it did.
        existing = await Transfer.get_or_none(key=key)
        if existing is None:
            raise
        return _replay(existing, kind, source, target, amount, reference, reason)
    return _result(transfer, replayed=False)


async def _write_transfer(
    conn: BaseDBAsyncClient,
    kind: TransferKind,
    source: Account,
    target: Account,
    amount: int,
    reason: str,
    reference: str,
    key: str,
    now: datetime,
    by_person_id: int | None,
) -> Transfer:
    transfer = await Transfer.create(
        key=key,
        kind=kind,
        source_id=source.id,
        target_id=target.id,
        amount=amount,
        reason=reason,
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
            await _debit(conn, source, amount)
        else:
            await _credit(conn, target, amount,
                          earned_at=now if kind is TransferKind.EARN else None)
    if kind is TransferKind.EARN:
        await _count_season_earning(conn, target.id, amount, season_of(now), now)
    return transfer


async def _debit(conn: BaseDBAsyncClient, account: Account, amount: int) -> None:
    query = Account.filter(id=account.id).using_db(conn)
    if account.kind != AccountKind.SYSTEM:
        # The guard: only what is available (balance - held) can leave a person's account.
        query = query.filter(balance__gte=F("held") + amount)
    changed = await query.update(balance=F("balance") - amount)
    if changed != 1:
        current = await Account.filter(id=account.id).using_db(conn).get()
        raise NotEnoughPoints(current.balance - current.held, amount)


async def _credit(
    conn: BaseDBAsyncClient, account: Account, amount: int, *, earned_at: datetime | None
) -> None:
    changes: dict[str, object] = {"balance": F("balance") + amount}
    if earned_at is not None:
        changes["earned_total"] = F("earned_total") + amount
        changes["last_earned_at"] = earned_at
        changes["last_active_at"] = earned_at
    changed = await Account.filter(id=account.id).using_db(conn).update(**changes)
    if changed != 1:
        raise LedgerError(N_("Account %(id)s does not exist."), id=account.id)


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
    reason: str,
    reference: str,
    key: str,
    now: datetime | None = None,
) -> HoldResult:
    """Reserve points for a pending transfer: they leave "available" at once."""
    _check_request(amount, key, reason, reference)
    if account.id == target.id:
        raise LedgerError(N_("A transfer needs two different accounts."))
    existing = await Hold.get_or_none(key=key)
    if existing is not None:
        return _hold_replay(existing, account, target, amount, reason, reference)
    try:
        async with write_transaction() as conn:
            held = await Hold.create(
                key=key,
                account_id=account.id,
                target_id=target.id,
                amount=amount,
                reason=reason,
                reference=reference,
                created_at=_now(now),
                using_db=conn,
            )
            changed = (
                await Account.filter(id=account.id, balance__gte=F("held") + amount)
                .using_db(conn)
                .update(held=F("held") + amount)
            )
            if changed != 1:
                current = await Account.filter(id=account.id).using_db(conn).get()
                raise NotEnoughPoints(current.balance - current.held, amount)
    except IntegrityError:
        existing = await Hold.get_or_none(key=key)
        if existing is None:
            raise
        return _hold_replay(existing, account, target, amount, reason, reference)
    return _hold_result(held, replayed=False)


def _hold_replay(existing: Hold, account: Account, target: Account, amount: int, reason: str,
                 reference: str) -> HoldResult:
    if (existing.account_id, existing.target_id, existing.amount, existing.reason,
            existing.reference) != (account.id, target.id, amount, reason, reference):
        raise KeyReused(N_("The key %(key)s was already used for another operation."),
                        key=existing.key)
    return _hold_result(existing, replayed=True)


async def release(hold_id: int, *, now: datetime | None = None) -> HoldResult:
    """Give held points back (outbid, lot cancelled). Resolves the hold exactly once."""
    async with write_transaction() as conn:
        if not await _resolve(conn, hold_id, HoldStatus.RELEASED, now):
            return await _already_resolved(hold_id, HoldStatus.RELEASED)
        hold_row = await Hold.filter(id=hold_id).using_db(conn).get()
        await Account.filter(id=hold_row.account_id).using_db(conn).update(
            held=F("held") - hold_row.amount
        )
    return _hold_result(hold_row, replayed=False)


async def capture(hold_id: int, *, now: datetime | None = None) -> HoldResult:
    """Turn a hold into a spend to its target (the auction was won)."""
    moment = _now(now)
    async with write_transaction() as conn:
        if not await _resolve(conn, hold_id, HoldStatus.CAPTURED, moment):
            return await _already_resolved(hold_id, HoldStatus.CAPTURED)
        hold_row = await Hold.filter(id=hold_id).using_db(conn).get()
        transfer = await Transfer.create(
            key=f"{SYSTEM_KEY_PREFIX}capture:{hold_row.id}",
            kind=TransferKind.CAPTURE,
            source_id=hold_row.account_id,
            target_id=hold_row.target_id,
            amount=hold_row.amount,
            reason=hold_row.reason,
            reference=hold_row.reference,
            season=season_of(moment),
            created_at=moment,
            using_db=conn,
        )
        # The points were reserved, so balance >= held >= amount: no guard can fail here.
        # Rows in id order, as in every transfer (no deadlocks).
        for account_id in sorted((hold_row.account_id, hold_row.target_id)):
            if account_id == hold_row.account_id:
                await Account.filter(id=account_id).using_db(conn).update(
                    balance=F("balance") - hold_row.amount, held=F("held") - hold_row.amount)
            else:
                await Account.filter(id=account_id).using_db(conn).update(
                    balance=F("balance") + hold_row.amount)
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


async def _already_resolved(hold_id: int, wanted: HoldStatus) -> HoldResult:
    current = await Hold.get_or_none(id=hold_id)
    if current is None:
        raise LedgerError(N_("There is no hold %(id)s."), id=hold_id)
    if current.status != wanted:
        raise HoldResolved(N_("The hold was already %(status)s."), status=current.status)
    return _hold_result(current, replayed=True)


# -- reading ------------------------------------------------------------------------------


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
            reason=row.reason,
            reference=row.reference,
            created_at=row.created_at,
        )
        for row in rows[:limit]
    ]
    return entries, len(rows) > limit


async def open_holds(account: Account) -> list[Hold]:
    return await Hold.filter(account_id=account.id, status=HoldStatus.OPEN).order_by("-id")


async def earned_in_season(account: Account, season: str) -> int:
    score = await SeasonScore.get_or_none(account_id=account.id, season=season)
    return score.earned if score else 0


async def adjustments(*, offset: int = 0, limit: int = 25) -> tuple[list[Transfer], bool]:
    rows = (
        await Transfer.filter(kind=TransferKind.ADJUST)
        .select_related("source", "target", "created_by")
        .order_by("-id")
        .offset(offset)
        .limit(limit + 1)
    )
    return rows[:limit], len(rows) > limit


# -- invariants ---------------------------------------------------------------------------

_INVARIANT_QUERIES = {
    "balance differs from the sum of its transfers": """
        SELECT a.id, a.name, a.balance AS stored,
               COALESCE(c.total, 0) - COALESCE(d.total, 0) AS computed
        FROM account a
        LEFT JOIN (SELECT target_id, SUM(amount) AS total FROM transfer GROUP BY target_id) c
               ON c.target_id = a.id
        LEFT JOIN (SELECT source_id, SUM(amount) AS total FROM transfer GROUP BY source_id) d
               ON d.source_id = a.id
        WHERE a.balance <> COALESCE(c.total, 0) - COALESCE(d.total, 0)
    """,
    "held differs from the sum of its open holds": """
        SELECT a.id, a.name, a.held AS stored, COALESCE(h.total, 0) AS computed
        FROM account a
        LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM hold
                   WHERE status = 'open' GROUP BY account_id) h ON h.account_id = a.id
        WHERE a.held <> COALESCE(h.total, 0)
    """,
    "available points are negative": """
        SELECT id, name, balance - held AS stored, 0 AS computed FROM account
        WHERE kind <> 'system' AND (balance - held < 0 OR held < 0)
    """,
    "earned total differs from the sum of its earnings": """
        SELECT a.id, a.name, a.earned_total AS stored, COALESCE(e.total, 0) AS computed
        FROM account a
        LEFT JOIN (SELECT target_id, SUM(amount) AS total FROM transfer
                   WHERE kind = 'earn' GROUP BY target_id) e ON e.target_id = a.id
        WHERE a.earned_total <> COALESCE(e.total, 0)
    """,
    "season earnings differ from the earn transfers of that season": """
        SELECT a.id, a.name, s.earned AS stored, COALESCE(e.total, 0) AS computed
        FROM season_score s JOIN account a ON a.id = s.account_id
        LEFT JOIN (SELECT target_id, season, SUM(amount) AS total FROM transfer
                   WHERE kind = 'earn' GROUP BY target_id, season) e
               ON e.target_id = s.account_id AND e.season = s.season
        WHERE s.earned <> COALESCE(e.total, 0)
    """,
    "a transfer moves no points": """
        SELECT a.id, a.name, t.amount AS stored, 1 AS computed
        FROM transfer t JOIN account a ON a.id = t.source_id WHERE t.amount <= 0
    """,
}


async def check_invariants() -> list[Problem]:
    """Every broken ledger invariant in the whole database; empty when all hold."""
    from tortoise import connections

    conn = connections.get("default")
    problems: list[Problem] = []
    for message, sql in _INVARIANT_QUERIES.items():
        for row in await conn.execute_query_dict(sql):
            problems.append(
                Problem(
                    row["id"],
                    row["name"],
                    f"{message} (stored {row['stored']}, expected {row['computed']})",
                )
            )
    totals = await conn.execute_query_dict("SELECT COALESCE(SUM(balance), 0) AS total FROM account")
    if int(totals[0]["total"]) != 0:
        problems.append(
            Problem(None, "all accounts", f"balances add up to {totals[0]['total']}, not 0")
        )
    return problems


@dataclass(frozen=True)
class Summary:
    balance: int
    held: int
    available: int
    earned_this_season: int
    earned_total: int
    last_activity: datetime
    # When the available points fall due to burn (see ``burn_due``); None when nothing
    # would burn. The burn itself happens at the burn job's next run from then.
    burn_due: datetime | None


async def summary(account: Account, *, burn_after_days: int,
                  notice: timedelta = timedelta(0), now: datetime | None = None) -> Summary:
    """What a player's dashboard shows about their points (``account`` freshly read)."""
    moment = _now(now)
    last_activity = account.last_active_at or account.created_at
    available = account.balance - account.held
    due = None
    if available > 0:
        from tortoise import connections

        arrivals = await _arrivals(connections.get("default"), [account.id])
        due = burn_due(last_activity, *arrivals.get(account.id, ()),
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


# -- inactivity burns ---------------------------------------------------------------------


@dataclass(frozen=True)
class BurnedAccount:
    account_id: int
    person_id: int
    amount: int
    last_activity: datetime
    key: str


def burn_due(last_activity: datetime, *arrivals: datetime | None, idle_days: int,
             notice: timedelta) -> datetime:
    """When an account's available points fall due to burn: ``idle_days`` after its last
    finished game or course, and never sooner than ``notice`` after points last arrived
    (an adjustment, a refund, a released bid), so points that arrive late, even after a
    burn, are warned before they burn too."""
    due = last_activity + timedelta(days=idle_days)
    for arrived in arrivals:
        if arrived is not None:
            due = max(due, arrived + notice)
    return due


@dataclass(frozen=True)
class _Idle:
    account_id: int
    person_id: int
    amount: int
    last_activity: datetime


async def _idle_candidates(conn: BaseDBAsyncClient, *, idle_since: datetime, after: int,
                           limit: int, lock: bool = False) -> list[_Idle]:
    """Up to ``limit`` person accounts with ids above ``after``, points available and no
    finished game or course since ``idle_since``, by id (locked FOR UPDATE if asked)."""
    p = placeholders(conn, 3)
    # Unary + keeps SQLite off the board index on kind, which would sort every remaining
    # account for each batch; it walks the primary key instead, as PostgreSQL does.
    kind = "a.kind" if is_postgres(conn) else "+a.kind"
    rows = await conn.execute_query_dict(
        "SELECT a.id, a.person_id, a.balance - a.held AS amount, "  # noqa: S608
        "COALESCE(a.last_active_at, a.created_at) AS active FROM account a "
        f"WHERE {kind} = 'person' AND a.id > {p[0]} AND a.balance - a.held > 0 "
        f"AND COALESCE(a.last_active_at, a.created_at) <= {p[1]} "
        f"ORDER BY a.id LIMIT {p[2]}{' FOR UPDATE' if lock and is_postgres(conn) else ''}",
        [after, idle_since.astimezone(UTC), limit],
    )
    return [_Idle(row["id"], row["person_id"], int(row["amount"]), _as_datetime(row["active"]))
            for row in rows]


async def _arrivals(conn: BaseDBAsyncClient, account_ids: list[int]
                    ) -> dict[int, tuple[datetime | None, datetime | None]]:
    """When points last arrived in each account: its newest incoming transfer (ids grow
    with time, so that is one step down the (target_id, id) index) and its newest
    released bid."""
    if not account_ids:
        return {}
    marks = ", ".join(placeholders(conn, len(account_ids)))
    rows = await conn.execute_query_dict(
        "SELECT a.id, (SELECT t.created_at FROM transfer t WHERE t.target_id = a.id "  # noqa: S608
        "ORDER BY t.id DESC LIMIT 1) AS credited, "
        "(SELECT MAX(h.resolved_at) FROM hold h WHERE h.account_id = a.id "
        f"AND h.status = 'released') AS released FROM account a WHERE a.id IN ({marks})",
        account_ids,
    )
    return {row["id"]: (_as_datetime(row["credited"]) if row["credited"] else None,
                        _as_datetime(row["released"]) if row["released"] else None)
            for row in rows}


async def _due(conn: BaseDBAsyncClient, candidates: list[_Idle], *, idle_days: int,
               notice: timedelta) -> list[tuple[_Idle, datetime]]:
    arrivals = await _arrivals(conn, [c.account_id for c in candidates])
    return [(c, burn_due(c.last_activity, *arrivals.get(c.account_id, ()),
                         idle_days=idle_days, notice=notice)) for c in candidates]


async def burn_idle_batch(
    *, due_by: datetime, idle_days: int, notice: timedelta, now: datetime, after: int,
    limit: int,
    also: Callable[[BaseDBAsyncClient, list[BurnedAccount]], Awaitable[object]] | None = None,
) -> tuple[int, list[BurnedAccount]] | None:
    """Burns the available points of the person accounts, among up to ``limit`` with ids
    above ``after``, whose points are due by ``due_by`` (see ``burn_due``): one
    transaction, a handful of set-based statements. Returns the last id looked at and
    what was burned, or None when no idle account is left.

    ``due_by`` is the burn run: the key names the account and the run, so a replay of
    the same run burns nothing twice, whoever runs it and however often, while points
    that arrive after a burn get a burn of their own at a later run. Held points stay:
    bidding is activity. The rows are locked (FOR UPDATE, or SQLite's write lock) before
    the arrivals are read, in a statement of its own, so points arriving meanwhile are
    seen and not burned unwarned. ``also`` runs inside the same transaction with what
    was burned.
    """
    due_by = due_by.astimezone(UTC)
    async with write_transaction() as conn:
        candidates = await _idle_candidates(
            conn, idle_since=due_by - timedelta(days=idle_days), after=after, limit=limit,
            lock=True)
        if not candidates:
            return None
        run = due_by.strftime("%Y-%m-%dT%H:%MZ")
        due = [BurnedAccount(c.account_id, c.person_id, c.amount, c.last_activity,
                             f"burn:{c.account_id}:{run}")
               for c, when in await _due(conn, candidates, idle_days=idle_days,
                                         notice=notice)
               if when <= due_by]
        done = set(await Transfer.filter(key__in=[d.key for d in due]).using_db(conn)
                   .values_list("key", flat=True)) if due else set()
        due = [d for d in due if d.key not in done]
        if due:
            burns = await system_account(BURNS, name="Points burned", conn=conn)
            marks = placeholders(conn, 9)
            await conn.execute_many(
                "INSERT INTO transfer (key, kind, source_id, target_id, amount, reason, "  # noqa: S608
                f"reference, season, created_at) VALUES ({', '.join(marks)})",
                [[d.key, TransferKind.BURN.value, d.account_id, burns.id, d.amount,
                  f"Points burned: no finished game or course since "
                  f"{d.last_activity.date().isoformat()}", "inactivity", season_of(now), now]
                 for d in due],
            )
            # The rows are locked, so balance - held is still exactly the burned amount.
            await Account.filter(id__in=[d.account_id for d in due]).using_db(conn).update(
                balance=F("held"))
            await Account.filter(id=burns.id).using_db(conn).update(
                balance=F("balance") + sum(d.amount for d in due))
            if also is not None:  # e.g. the notices, committed with the burn or not at all
                await also(conn, due)
        return candidates[-1].account_id, due


async def mark_active(conn: BaseDBAsyncClient, person_id: int, *, now: datetime) -> None:
    """A finished game or course is activity even when it earned nothing: it resets the
    inactivity clock. Called inside the transaction that finishes it."""
    await Account.filter(person_id=person_id).using_db(conn).update(last_active_at=now)


def _as_datetime(value: object) -> datetime:
    """SQLite hands timestamps back as text from raw queries; PostgreSQL as datetimes."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class IdleAccount:
    account_id: int
    person_id: int
    amount: int  # available now
    due: datetime  # see ``burn_due``


async def idle_accounts(*, due_after: datetime, due_by: datetime, idle_days: int,
                        notice: timedelta, after: int, limit: int
                        ) -> tuple[int, list[IdleAccount]] | None:
    """Person accounts with points available that fall due in (``due_after``, ``due_by``]
    (see ``burn_due``), looking at up to ``limit`` accounts with ids above ``after``.
    Returns the last id looked at and those found, or None when no account is left."""
    from tortoise import connections

    conn = connections.get("default")
    candidates = await _idle_candidates(
        conn, idle_since=due_by - timedelta(days=idle_days), after=after, limit=limit)
    if not candidates:
        return None
    return candidates[-1].account_id, [
        IdleAccount(c.account_id, c.person_id, c.amount, when)
        for c, when in await _due(conn, candidates, idle_days=idle_days, notice=notice)
        if due_after < when <= due_by]
