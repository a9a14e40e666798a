"""Bids on one hot lot from one process, for the auction benchmark (tests/bench/auctions.py).

    python -m tests.bench.auctions_worker DB_URL CALL

CALL is JSON: {"mode": "portal" or "raw", "lot": 3, "people": [7, 8], "bids": 5,
"tag": "ab12cd"}. The worker connects, prints "ready", waits for a line on standard input,
then every person bids ``bids`` times, one after another, all people at the same time.
Each bid reads the highest bid and offers a little more, as a player looking at the live
panel would. In "portal" mode a bid is ``auctions.place_bid``; in "raw" mode it is the
same kind of writes in raw SQL on scratch tables with no portal in the way: one write
transaction (``BEGIN IMMEDIATE`` on SQLite) with the conditional update of the lot's row
and the guarded update of the bidder's held points. It prints one JSON line: how many bids
led, were too low or short of points, any other error, each bid's seconds, and when it
finished.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any

from tortoise import Tortoise, connections

from portal.accounts.models import Person
from portal.auctions import service as auctions
from portal.auctions.models import Lot
from portal.db import placeholders, tortoise_config, write_transaction
from portal.ledger import service as ledger
from portal.settings import Settings

SETTINGS = Settings(secret_key="bench")


async def _raw_bid(person_id: int, lot_id: int, rng: random.Random) -> str:
    conn = connections.get("default")
    high = (await conn.execute_query_dict(
        f"SELECT high FROM bench_auction_lot WHERE id = {placeholders(conn, 1)[0]}",  # noqa: S608
        [lot_id]))[0]["high"]
    amount = high + 1 + rng.randrange(20)
    async with write_transaction() as tx:
        a, b, c = placeholders(tx, 3)
        changed, _ = await tx.execute_query(
            f"UPDATE bench_auction_lot SET high = {a} WHERE id = {b} AND high < {c}",  # noqa: S608
            [amount, lot_id, amount])
        if not changed:
            return "too_low"
        a, b, c = placeholders(tx, 3)
        changed, _ = await tx.execute_query(
            f"UPDATE bench_auction_account SET held = held + {a} "  # noqa: S608
            f"WHERE id = {b} AND balance - held >= {c}", [amount, person_id, amount])
        if not changed:
            raise ledger.NotEnoughPoints(0, amount)
    return "ok"


async def _portal_bid(person: Person, lot_id: int, rng: random.Random, n: int,
                      tag: str) -> str:
    lot = await Lot.get(id=lot_id)
    amount = auctions.minimum_bid(lot) + rng.randrange(20)
    try:
        await auctions.place_bid(person, lot_id, amount=amount,
                                 key=f"bench-{tag}-{person.id}-{n:04d}", settings=SETTINGS)
    except auctions.BidTooLow:
        return "too_low"
    return "ok"


async def main(db_url: str, call: dict[str, Any]) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    try:
        people = await Person.filter(id__in=call["people"])
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        seconds: list[float] = []
        outcomes: list[str] = []

        async def bidder(person: Person) -> None:
            rng = random.Random(person.id)
            for n in range(call["bids"]):
                started = time.perf_counter()
                try:
                    if call["mode"] == "portal":
                        outcome = await _portal_bid(person, call["lot"], rng, n, call["tag"])
                    else:
                        outcome = await _raw_bid(person.id, call["lot"], rng)
                except ledger.NotEnoughPoints:
                    outcome = "not_enough"
                except Exception as exc:
                    outcome = f"error: {exc!r}"
                seconds.append(time.perf_counter() - started)
                outcomes.append(outcome)

        await asyncio.gather(*(bidder(p) for p in people))
    finally:
        await Tortoise.close_connections()
    print(json.dumps({"ok": outcomes.count("ok"), "too_low": outcomes.count("too_low"),
                      "not_enough": outcomes.count("not_enough"),
                      "errors": [o for o in outcomes if o.startswith("error")][:5],
                      "seconds": seconds, "finished": time.time()}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
