"""Idle accounts: whose available points fall due to burn, and when.

Reads only. The burn itself (``service.burn_idle_batch``) and the warnings before it
(``portal.burns``) select accounts with these queries; the dashboard's summary asks the
same ``burn_due``, so what a player is shown is what the burn job does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from portal.db import dialect_sql, is_postgres, placeholders


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
class Candidate:
    """A person account idle long enough to look at, with what it has available."""

    account_id: int
    person_id: int
    amount: int
    last_activity: datetime


async def candidates(conn: BaseDBAsyncClient, *, idle_since: datetime, after: int,
                     limit: int) -> list[Candidate]:
    """Up to ``limit`` person accounts with ids above ``after``, points available and no
    finished game or course since ``idle_since``, by id."""
    rows = await conn.execute_query_dict(
        dialect_sql(conn, candidates_sql(
            conn, "a.id, a.person_id, a.balance - a.held AS amount, "
            "COALESCE(a.last_active_at, a.created_at) AS active")),
        [after, idle_since.astimezone(UTC), limit],
    )
    return [Candidate(row["id"], row["person_id"], int(row["amount"]),
                      _as_datetime(row["active"]))
            for row in rows]


async def candidate_ids(conn: BaseDBAsyncClient, *, idle_since: datetime, after: int,
                        limit: int) -> list[int]:
    """The ids of ``candidates``, locked FOR UPDATE on PostgreSQL (on SQLite the caller's
    ``BEGIN IMMEDIATE`` holds the write lock): what a burn batch looks at."""
    _, rows = await conn.execute_query(
        dialect_sql(conn, candidates_sql(conn, "a.id", lock=is_postgres(conn))),
        [after, idle_since.astimezone(UTC), limit])
    return [int(row[0]) for row in rows]


def candidates_sql(conn: BaseDBAsyncClient, columns: str, *, lock: bool = False) -> str:
    """``columns`` of the ``candidates``, with ``?`` markers for ``after``, ``idle_since``
    and ``limit`` (not yet in the connection's dialect: see ``dialect_sql``)."""
    return (f"SELECT {columns} FROM account a "  # noqa: S608
            f"WHERE a.id > ? AND {idle_sql(conn)} "
            f"ORDER BY a.id LIMIT ?{' FOR UPDATE' if lock else ''}")


def idle_sql(conn: BaseDBAsyncClient) -> str:
    """SQL for account ``a`` being a candidate: a person's, with points available and no
    finished game or course since the one ``?`` marker (``idle_since``)."""
    # Unary + keeps SQLite off the board index on kind, which would sort every remaining
    # account for each batch; it walks the primary key instead, as PostgreSQL does.
    kind = "a.kind" if is_postgres(conn) else "+a.kind"
    return (f"{kind} = 'person' AND a.balance - a.held > 0 "
            "AND COALESCE(a.last_active_at, a.created_at) <= ?")


async def arrivals(conn: BaseDBAsyncClient, account_ids: list[int]
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


async def due_dates(conn: BaseDBAsyncClient, found: list[Candidate], *, idle_days: int,
                    notice: timedelta) -> list[tuple[Candidate, datetime]]:
    """Each candidate with when its points fall due (see ``burn_due``)."""
    arrived = await arrivals(conn, [c.account_id for c in found])
    return [(c, burn_due(c.last_activity, *arrived.get(c.account_id, ()),
                         idle_days=idle_days, notice=notice)) for c in found]


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
    conn = connections.get("default")
    found = await candidates(
        conn, idle_since=due_by - timedelta(days=idle_days), after=after, limit=limit)
    if not found:
        return None
    return found[-1].account_id, [
        IdleAccount(c.account_id, c.person_id, c.amount, when)
        for c, when in await due_dates(conn, found, idle_days=idle_days, notice=notice)
        if due_after < when <= due_by]


def _as_datetime(value: object) -> datetime:
    """SQLite hands timestamps back as text from raw queries; PostgreSQL as datetimes."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
