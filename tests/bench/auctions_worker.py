"""Bids on one hot lot from one process, for the auction benchmark (tests/bench/auctions.py).

    python -m tests.bench.auctions_worker DB_URL CALL

CALL is JSON: {"mode": "portal" or "raw", "lot": 3, "people": [7, 8], "bids": 5,
"tag": "ab12cd"}. The worker connects and warms up (one bid of its first person, not
counted), prints "ready", waits for a line on standard input (``tests/bench/racers.py``),
then every person bids ``bids`` times, one after another, all people at the same time.
Each bid reads the highest bid (one SELECT, the same in both modes) and offers a little
more, as a player looking at the live panel would. In "portal" mode a bid is
``auctions.place_bid``; in "raw" mode it is the same kind of writes in raw SQL on scratch
tables with no portal in the way: one write transaction (``BEGIN IMMEDIATE`` on SQLite)
with the conditional update of the lot's row and the guarded update of the bidder's held
points. It prints one JSON line: how many bids led, were too low or short of points, any
other error, each bid's seconds, and when it finished.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import connections

from portal.accounts.models import Person
from portal.auctions import service as auctions
from portal.db import dialect_sql, write_transaction
from portal.ledger import service as ledger
from portal.settings import Settings
from tests.bench.racers import Outcome, worker_main

SETTINGS = Settings(secret_key="bench")


async def _one(sql: str, values: list[Any]) -> dict[str, Any]:
    conn = connections.get("default")
    return (await conn.execute_query_dict(dialect_sql(conn, sql), values))[0]


async def _raw_bid(person: Person, lot_id: int, rng: random.Random, n: int, tag: str) -> str:
    high = (await _one("SELECT high FROM bench_auction_lot WHERE id = ?", [lot_id]))["high"]
    amount = high + 1 + rng.randrange(20)
    async with write_transaction() as tx:
        changed, _ = await tx.execute_query(dialect_sql(
            tx, "UPDATE bench_auction_lot SET high = ? WHERE id = ? AND high < ?"),
            [amount, lot_id, amount])
        if not changed:
            return "too_low"
        changed, _ = await tx.execute_query(dialect_sql(
            tx, "UPDATE bench_auction_account SET held = held + ? "
            "WHERE id = ? AND balance - held >= ?"), [amount, person.id, amount])
        if not changed:
            raise ledger.NotEnoughPoints(0, amount)
    return "ok"


async def _portal_bid(person: Person, lot_id: int, rng: random.Random, n: int,
                      tag: str) -> str:
    lot = await _one("SELECT high_bid, increment, starting_bid FROM auction_lot WHERE id = ?",
                     [lot_id])
    minimum = lot["high_bid"] + lot["increment"] if lot["high_bid"] else lot["starting_bid"]
    try:
        await auctions.place_bid(person, lot_id, amount=minimum + rng.randrange(20),
                                 key=f"bench-{tag}-{person.id}-{n:04d}", settings=SETTINGS)
    except auctions.BidTooLow:
        return "too_low"
    return "ok"


async def ready(call: dict[str, Any]) -> Callable[[], Awaitable[Outcome]]:
    people = await Person.filter(id__in=call["people"])
    bid = _portal_bid if call["mode"] == "portal" else _raw_bid
    seconds: list[float] = []
    outcomes: list[str] = []

    async def one(person: Person, rng: random.Random, n: int) -> str:
        try:
            return await bid(person, call["lot"], rng, n, call["tag"])
        except ledger.NotEnoughPoints:
            return "not_enough"
        except Exception as exc:
            return f"error: {exc!r}"

    await one(people[0], random.Random(0), -1)  # warm-up: connection, statements, code

    async def bidder(person: Person) -> None:
        rng = random.Random(person.id)
        for n in range(call["bids"]):
            started = time.perf_counter()
            outcomes.append(await one(person, rng, n))
            seconds.append(time.perf_counter() - started)

    async def go() -> Outcome:
        await asyncio.gather(*(bidder(p) for p in people))
        return {"ok": outcomes.count("ok"), "too_low": outcomes.count("too_low"),
                "not_enough": outcomes.count("not_enough"),
                "errors": [o for o in outcomes if o.startswith("error")][:5],
                "seconds": seconds}

    return go


if __name__ == "__main__":
    worker_main(ready)
