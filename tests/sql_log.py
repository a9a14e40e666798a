"""The SQL a piece of code sends: read from Tortoise's own debug log, or on SQLite as the
connection runs it (hot paths send some statements past Tortoise, on the driver's
thread)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from tortoise.backends.sqlite.client import SqliteClient


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement Tortoise sends meanwhile (its client logs each at debug)."""
    sent: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            sent.append(record.getMessage())

    logger = logging.getLogger("tortoise.db_client")
    handler, level = Keep(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield sent
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@asynccontextmanager
async def sqlite_trace(client: SqliteClient) -> AsyncIterator[list[str]]:
    """Every statement SQLite runs meanwhile on the portal's connection, as sent."""
    await client.create_connection(with_db=True)
    assert client._connection is not None
    seen: list[str] = []
    await client._connection.set_trace_callback(lambda sql: seen.append(sql.strip()))
    try:
        yield seen
    finally:
        await client._connection.set_trace_callback(None)  # type: ignore[arg-type]
