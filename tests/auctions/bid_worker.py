"""Bids, closes and close jobs in their own process, for the cross-process race tests.

    python -m tests.auctions.bid_worker DB_URL CALL

CALL is JSON, one of
  {"op": "bid", "lot": 3, "bids": [[person_id, amount, "2026-12-10T12:00:00+00:00"], ...]}
  {"op": "close", "lot": 3, "now": "..."}          (the settlement itself)
  {"op": "job", "now": "..."}                      (the auction-close job, as the scheduler)
  {"op": "draw", "raffle": 2, "now": "..."}        (a raffle's draw itself)
The worker connects, prints "ready", waits for a line on standard input so every process
starts together, sends its calls at once and prints one JSON line: what happened to each
call, and any unexpected error (there must be none: no "database is locked", no deadlock).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime
from typing import Any

from tortoise import Tortoise

from portal.accounts.models import Person
from portal.auctions import raffles
from portal.auctions import service as auctions
from portal.db import tortoise_config
from portal.jobs.scheduler import JOBS, run_job
from portal.ledger import service as ledger
from tests.auctions.lots import SETTINGS


async def one_bid(person: Person, lot: int, amount: int, now: datetime, n: int) -> str:
    try:
        await auctions.place_bid(person, lot, amount=amount,
                                 key=f"race-{os.getpid()}-{person.id}-{n:04d}",
                                 settings=SETTINGS, now=now)
    except auctions.BidTooLow:
        return "too_low"
    except auctions.LotEnded:
        return "ended"
    except ledger.NotEnoughPoints:
        return "not_enough"
    except Exception as exc:
        return f"error: {exc!r}"
    return "ok"


async def work(call: dict[str, Any]) -> list[str]:
    if call["op"] == "bid":
        people = {p.id: p for p in await Person.filter(id__in=[b[0] for b in call["bids"]])}
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        return list(await asyncio.gather(*(
            one_bid(people[pid], call["lot"], amount, datetime.fromisoformat(now), n)
            for n, (pid, amount, now) in enumerate(call["bids"]))))
    now = datetime.fromisoformat(call["now"])
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    try:
        if call["op"] == "close":
            return ["settled" if await auctions.close_lot(call["lot"], settings=SETTINGS,
                                                          now=now) else "not_settled"]
        if call["op"] == "draw":
            return ["drawn" if await raffles.draw(call["raffle"], settings=SETTINGS, now=now)
                    else "not_drawn"]
        report = await run_job(JOBS["auction-close"], SETTINGS, now=now)
        return [report.outcome.value]
    except Exception as exc:
        return [f"error: {exc!r}"]


async def main(db_url: str, call: dict[str, Any]) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    try:
        outcomes = await work(call)
    finally:
        await Tortoise.close_connections()
    print(json.dumps({"outcomes": outcomes,
                      "errors": [o for o in outcomes if o.startswith("error")]}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
