"""Database set-up: the Tortoise configuration, and write transactions that never trip.

Tortoise opens SQLite transactions with a deferred ``BEGIN``. A transaction that reads and
then writes can then fail at once with "database is locked" when another process wrote in
between, whatever the busy timeout says. Write transactions here start with
``BEGIN IMMEDIATE`` instead, so they wait (up to ``busy_timeout``) for the write lock
before reading anything.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper
from tortoise.connection import get_connections
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

MODEL_MODULES = [
    "portal.accounts.models",
    "portal.ledger.models",
    "portal.jobs.models",
    "portal.content.models",
    "portal.play.models",
    "portal.notifications.models",
    "portal.leaderboard.models",
    "portal.analytics.models",
    "portal.catalog.models",
    "portal.charity.models",
    "portal.auctions.models",
]
SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRES_SCHEMES = ("postgres:", "postgresql:", "asyncpg:")


class PooledConnection(asyncpg.Connection):
    """A PostgreSQL connection of the pool, handed back to it without asyncpg's reset.

    asyncpg resets every connection the pool gets back with one more round trip,
    ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;``: four more
    statements after each query or transaction, costing the database almost as much CPU as
    ``GET /api/v1/me``'s own statement (and the worker another socket round trip). The
    portal leaves no session state on a pooled connection for it to undo: the jobs'
    advisory locks live on connections of their own (``portal.jobs.locks``), settings
    change only by ``SET LOCAL`` (gone with its transaction), and nothing listens or keeps
    a cursor past its transaction (``tests/db/test_pool.py`` holds all three). A
    transaction left open is still rolled back: asyncpg does that before the reset query,
    whatever the query is.
    """

    def get_reset_query(self) -> str:
        return ""


def tortoise_config(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite:"):
        separator = "&" if "?" in database_url else "?"
        # WAL is Tortoise's default; synchronous stays FULL so a committed point survives
        # a power cut (see the README before changing it).
        database_url += f"{separator}synchronous=FULL"
        if "busy_timeout=" not in database_url:
            database_url += f"&busy_timeout={SQLITE_BUSY_TIMEOUT_MS}"
    connection: str | dict[str, Any] = database_url
    if database_url.startswith(POSTGRES_SCHEMES):
        connection = expand_db_url(database_url)
        connection["credentials"]["connection_class"] = PooledConnection
    return {
        "connections": {"default": connection},
        "apps": {
            "portal": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "portal.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


_T = TypeVar("_T")


class DatabaseBusy(Exception):
    """Another process held the database's write lock for longer than the busy timeout."""


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        await self._connection.commit()
        await self._connection.execute("BEGIN IMMEDIATE")


@asynccontextmanager
async def write_transaction() -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction that intends to write: ``BEGIN IMMEDIATE`` on SQLite.

    Tortoise's own SQLite transaction context keeps its connection lock when ``BEGIN``
    fails, which would freeze every later query in the process; this one always lets go.
    """
    client = connections.get("default")
    if not isinstance(client, SqliteClient) or isinstance(client, SqliteTransactionWrapper):
        async with in_transaction("default") as connection:
            yield connection
        return
    await client.create_connection(with_db=True)
    async with client._lock:  # one transaction at a time on SQLite's single connection
        transaction = _ImmediateTransaction(client)
        try:
            await transaction.begin()
        except sqlite3.OperationalError as exc:
            raise DatabaseBusy(str(exc)) from exc
        token = get_connections().set("default", transaction)
        try:
            yield transaction
        except BaseException:
            if not transaction._finalized:
                await transaction.rollback()
            raise
        else:
            if not transaction._finalized:
                await transaction.commit()
        finally:
            get_connections().reset(token)


async def migrate_database(database_url: str) -> None:
    """Applies every pending migration (Tortoise's built-in migrations)."""
    from tortoise import Tortoise
    from tortoise.migrations.api.migrate import migrate

    if database_url.startswith("sqlite:"):
        from pathlib import Path

        path = database_url.removeprefix("sqlite://").split("?")[0]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        await migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


Statement = tuple[str, list[Any]]  # hand-written SQL with ``?`` markers, and its values


@dataclass(frozen=True)
class Sql:
    """A value of ``insert`` written into the statement as SQL, not sent as a parameter:
    a column of an earlier part of the same statement (``claim.id``)."""

    text: str


def insert(table: str, row: dict[str, Any], *, source: str | None = None,
           suffix: str = "") -> Statement:
    """A hand-written INSERT of one row. With ``source`` (a part of the same statement,
    ``together``), ``INSERT ... SELECT ... FROM source``: the row is written once for each
    row that part gave (once, or not at all when it wrote nothing), and ``Sql`` values may
    name its columns."""
    columns = ", ".join(row)
    marks = ", ".join(v.text if isinstance(v, Sql) else "?" for v in row.values())
    values = [v for v in row.values() if not isinstance(v, Sql)]
    rows = f"VALUES ({marks})" if source is None else f"SELECT {marks} FROM {source}"  # noqa: S608
    return f"INSERT INTO {table} ({columns}) {rows}{suffix}", values  # noqa: S608 - no values


async def execute_together(conn: BaseDBAsyncClient, statements: list[Statement]
                           ) -> list[dict[str, Any]]:
    """Several write statements of one transaction in one round trip (a hot path's
    writes, each statement written by the service that owns its table); returns the last
    one's rows. On PostgreSQL they become one statement (``together``): they all see the
    same snapshot, so none may read rows another one writes (ids are given, not looked
    up). On SQLite they run one after another in one call to the connection's thread (the
    transaction holds the write lock: nobody else writes)."""
    if is_postgres(conn):
        return await conn.execute_query_dict(*together(statements))
    return (await execute_each(conn, statements))[-1]


def together(statements: Sequence[Statement], names: Sequence[str] = ()) -> Statement:
    """PostgreSQL: statements as one, in PostgreSQL's markers, the ones before the last
    data-modifying CTEs named ``names`` (the rest ``s0``, ``s1``, ...), which later ones
    may read (a part's RETURNING rows; never the rows it wrote, which no part of the
    statement sees). One statement is one transaction even outside one."""
    return (_together_sql(tuple(sql for sql, _ in statements), tuple(names)),
            [value for _, values in statements for value in values])


@functools.lru_cache(maxsize=64)
def _together_sql(sqls: tuple[str, ...], names: tuple[str, ...]) -> str:
    """A hot path sends the same few shapes again and again: each is put together once."""
    named = [*names, *(f"s{n}" for n in range(len(sqls) - 1 - len(names)))]
    ctes = ", ".join(f"{name} AS ({sql})" for name, sql in zip(named, sqls[:-1], strict=True))
    return _numbered(f"WITH {ctes} {sqls[-1]}")


async def execute_each(conn: BaseDBAsyncClient, statements: list[Statement]
                       ) -> list[list[dict[str, Any]]]:
    """SQLite only: several statements of one transaction, one after another in one call
    to the connection's thread; every statement's rows."""
    assert isinstance(conn, SqliteClient)
    for sql, values in statements:
        conn.log.debug("%s: %s", sql, values)

    def run(db: sqlite3.Connection) -> list[list[dict[str, Any]]]:
        return [[dict(row) for row in db.execute(sql, values).fetchall()]
                for sql, values in statements]

    async with conn.acquire_connection() as connection:
        try:
            return await _on_thread(connection, run)
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc


async def sqlite_alone(client: SqliteClient, work: Callable[..., _T], *args: Any) -> _T:
    """SQLite, outside a transaction: ``work(connection, *args)`` run whole on the
    driver's thread in one hand-off (a hot path's own short transaction, begun and ended
    by ``work``), taking its turn with the process's other transactions; the write lock
    held past the busy timeout is DatabaseBusy."""
    await client.create_connection(with_db=True)
    async with client._lock:  # the transactions of this process take turns
        assert client._connection is not None  # made just above
        try:
            return await _on_thread(client._connection, work, *args)
        except sqlite3.OperationalError as exc:  # the write lock, past the busy timeout
            raise DatabaseBusy(str(exc)) from exc


async def _on_thread(connection: Any, work: Callable[..., _T], *args: Any) -> _T:
    """``work(sqlite3 connection, *args)`` on an aiosqlite connection's own thread, as it
    runs each of its calls (aiosqlite has no public way to do this); a broken constraint
    is Tortoise's IntegrityError."""
    try:
        found: _T = await connection._execute(work, connection._conn, *args)
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(exc) from exc
    return found


def placeholders(conn: BaseDBAsyncClient, count: int, start: int = 1) -> list[str]:
    """Parameter markers for raw SQL in the connection's dialect ($1 or ?)."""
    if conn.capabilities.dialect == "postgres":
        return [f"${n}" for n in range(start, start + count)]
    return ["?"] * count


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


def dialect_sql(conn: BaseDBAsyncClient, sql: str) -> str:
    """Hand-written SQL with ``?`` markers (no ``?`` elsewhere in it), in the connection's
    dialect: ``$1``, ``$2``, ... on PostgreSQL, unchanged on SQLite."""
    if not is_postgres(conn):
        return sql
    return _numbered(sql)


def _numbered(sql: str) -> str:
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
