"""Whether a job is running right now: a lock that dies with the process holding it.

A run holds its job's lock from its claim to its record. The lock lives outside the
connection pool: on PostgreSQL an advisory lock on a connection of its own, on SQLite an
operating-system file lock next to the database file. So a job never holds a pooled
connection while it waits for another (the pool cannot run dry at start-up, when every job
catches up at once), and a run whose process died has let go of its lock: the next attempt
tells a dead run from a live one without guessing from the clock.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from filelock import FileLock, Timeout
from tortoise import connections
from tortoise.backends.base_postgres.client import BasePostgresClient
from tortoise.backends.sqlite.client import SqliteClient

# For an in-memory SQLite database (tests) the process is the only one: a lock per job name.
_in_process: dict[str, asyncio.Lock] = {}


@asynccontextmanager
async def job_lock(name: str) -> AsyncIterator[bool]:
    """Yields True while this process holds ``name``'s lock, False if another run has it."""
    client = connections.get("default")
    if isinstance(client, BasePostgresClient):
        async with _advisory_lock(client, name) as mine:
            yield mine
    elif isinstance(client, SqliteClient) and client.filename != ":memory:":
        async with _file_lock(f"{client.filename}-job-{name}.lock") as mine:
            yield mine
    else:
        lock = _in_process.setdefault(name, asyncio.Lock())
        if lock.locked():
            yield False
            return
        async with lock:
            yield True


@asynccontextmanager
async def _advisory_lock(client: BasePostgresClient, name: str) -> AsyncIterator[bool]:
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    # A connection of its own, not one from the pool: closing it (or the process dying)
    # releases the lock.
    conn = await asyncpg.connect(host=client.host, port=client.port, user=client.user,
                                 password=client.password or None, database=client.database)
    try:
        yield bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
    finally:
        await conn.close()


@asynccontextmanager
async def _file_lock(path: str) -> AsyncIterator[bool]:
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()  # non-blocking: flock(LOCK_NB) answers at once
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
