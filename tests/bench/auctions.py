"""Bids on one hot lot, next to the raw guarded-update ceiling measured in the same run.

``python -m tests.bench.auctions WORKDIR`` (``PORTAL_DATABASE_URL`` names the database)
measures:

* **bids on a hot lot**: ``--bidders`` players (default 200), each with plenty of points,
  bid ``--bids`` times each (default 10) on the same lot, one bid after another, all of
  them at the same time, from ``--processes`` worker processes (default 4) released
  together (``tests/bench/auctions_worker.py``). Each bid reads the highest bid and
  offers a little more; a bid that another overtook meanwhile is refused as too low, as
  in real life. Reported: attempts per second (every bid answered, led or refused) and
  leading bids per second over the wall time, and the p50 and p99 of one bid;
* **its ceiling**: the same processes and bidders doing the same writes with no portal in
  the way: per bid one write transaction with the conditional update of the lot's row and
  the guarded update of the bidder's held points, in raw SQL on scratch tables.

Both read the highest bid the same way (one SELECT) and warm up with one bid per process
before the release (``tests/bench/racers.py``). ``--rounds`` (default 3) repeats the pair
on a fresh lot, the portal first, then the raw ceiling, so a change in the machine's load
touches both alike; reported are the median round by ratio, the median round of each
side (their p50 and p99 of one bid), and every round's figures.

Afterwards each lot must have one leader holding exactly the highest bid and every
bidder's held points must equal their open holds (``portal check``). It prints
``BENCH_RESULT {json}``; the goal is at least half the ceiling's attempts per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise import connections

from portal.accounts.models import Person
from portal.auctions import service as auctions
from portal.auctions.models import Lot
from portal.cli import _with_db
from portal.db import placeholders, write_transaction
from portal.ledger import service as ledger
from portal.ledger.models import Account, AccountKind
from portal.settings import Settings
from tests.bench import racers

POINTS = 10_000_000


class AuctionBenchError(Exception):
    pass


async def _scratch_tables() -> None:
    """The raw ceiling's tables, emptied."""
    conn = connections.get("default")
    for statement in (
            "CREATE TABLE IF NOT EXISTS bench_auction_lot (id INTEGER PRIMARY KEY, "
            "high BIGINT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS bench_auction_account (id INTEGER PRIMARY KEY, "
            "balance BIGINT NOT NULL, held BIGINT NOT NULL)",
            "DELETE FROM bench_auction_lot", "DELETE FROM bench_auction_account"):
        await conn.execute_script(statement)


async def _prepare(bidders: int, tag: str, settings: Settings) -> dict[str, Any]:
    people = [Person(email=f"bench-auction-{tag}-{i}@example.com", password_hash="-",
                     full_name=f"Bidder {i}", display_name=f"Bidder {i}")
              for i in range(bidders)]
    async with write_transaction() as conn:
        await Person.bulk_create(people, using_db=conn)
    rows = await Person.filter(email__startswith=f"bench-auction-{tag}-").order_by("id")
    async with write_transaction() as conn:
        await Account.bulk_create([Account(kind=AccountKind.PERSON, person_id=p.id,
                                           name=p.full_name) for p in rows], using_db=conn)
    for account in await Account.filter(person_id__in=[p.id for p in rows]):
        await ledger.earn(account, amount=POINTS, reason="Bench points", reference="bench",
                          key=f"bench-auction:{tag}:{account.id}")
    marketing = rows[0]
    now = datetime.now(UTC)
    lot = await auctions.create_lot(auctions.LotFields(
        title=f"Bench lot {tag}", description="", prize_text="Bench", prize_item_id=None,
        starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=1),
        starting_bid=1, increment=1), by=marketing,
        settings=settings.model_copy(update={"auction_soft_close_minutes": 0}), now=now)
    async with write_transaction() as tx:
        two, three = placeholders(tx, 2), placeholders(tx, 3)
        await tx.execute_query("INSERT INTO bench_auction_lot (id, high) "  # noqa: S608
                               f"VALUES ({', '.join(two)})", [lot.id, 0])
        await tx.execute_many("INSERT INTO bench_auction_account (id, balance, held) "  # noqa: S608
                              f"VALUES ({', '.join(three)})", [[p.id, POINTS, 0] for p in rows])
    return {"people": [p.id for p in rows], "lot": lot.id}


def _race(mode: str, lot: int, people: list[int], bids: int, processes: int,
          database_url: str, tag: str) -> dict[str, Any]:
    calls = [{"mode": mode, "lot": lot, "people": people[i::processes], "bids": bids,
              "tag": tag} for i in range(processes)]
    try:
        outcomes, wall = racers.race("tests.bench.auctions_worker", database_url, calls)
    except racers.RaceError as exc:
        raise AuctionBenchError(str(exc)) from exc
    attempts = sum(len(o["seconds"]) for o in outcomes)
    led = sum(o["ok"] for o in outcomes)
    return {"attempts": attempts, "led": led, "too_low": sum(o["too_low"] for o in outcomes),
            "not_enough": sum(o["not_enough"] for o in outcomes),
            "errors": [e for o in outcomes for e in o["errors"]], "seconds": wall,
            "attempts_per_second": attempts / wall if wall else 0.0,
            "led_per_second": led / wall if wall else 0.0,
            **racers.latencies([s for o in outcomes for s in o["seconds"]])}


async def _check(lots: list[int], people: list[int]) -> list[str]:
    problems = [f"ledger: {p.message}" for p in await ledger.check_invariants()]
    highest = sum(lot.high_bid for lot in await Lot.filter(id__in=lots))
    held = sum(a.held for a in await Account.filter(person_id__in=people))
    if held != highest:
        problems.append(f"held {held}, highest bids {highest}")
    return problems


def run(*, bidders: int, bids: int, processes: int, rounds: int) -> dict[str, Any]:
    """``rounds`` times the portal's race on a fresh lot, then the raw one (so a change in
    the machine's load touches both alike): the medians, and every round."""
    settings = Settings.from_env()
    tag = secrets.token_hex(3)

    async def prepare() -> list[dict[str, Any]]:
        await _scratch_tables()
        return [await _prepare(bidders, f"{tag}{n}", settings) for n in range(rounds)]

    setups = asyncio.run(_with_db(settings, prepare))

    def measure(n: int) -> dict[str, Any]:
        setup = setups[n]
        portal = _race("portal", setup["lot"], setup["people"], bids, processes,
                       settings.database_url, f"{tag}{n}")
        raw = _race("raw", setup["lot"], setup["people"], bids, processes,
                    settings.database_url, f"{tag}{n}")
        return {"portal": portal, "raw": raw, "ratio": portal["attempts_per_second"]
                / raw["attempts_per_second"] if raw["attempts_per_second"] else 0.0}

    _median, done = racers.rounds(rounds, measure, by="ratio")

    async def check() -> list[str]:
        return await _check([s["lot"] for s in setups], [p for s in setups for p in s["people"]])

    problems = asyncio.run(_with_db(settings, check))
    for result in done:
        problems += [f"portal worker: {e}" for e in result["portal"]["errors"]]
        problems += [f"raw worker: {e}" for e in result["raw"]["errors"]]
    portal = racers.rounds(rounds, lambda n: done[n]["portal"], by="attempts_per_second")[0]
    raw = racers.rounds(rounds, lambda n: done[n]["raw"], by="attempts_per_second")[0]
    return {"bidders": bidders, "bids_each": bids, "processes": processes, "rounds": rounds,
            "portal": portal, "raw": raw, "ratio": _median["ratio"],
            "ratios": [r["ratio"] for r in done],
            "portal_per_second": [r["portal"]["attempts_per_second"] for r in done],
            "raw_per_second": [r["raw"]["attempts_per_second"] for r in done],
            "problems": problems}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.auctions",
                                     description=__doc__)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--bidders", type=int, default=200)
    parser.add_argument("--bids", type=int, default=10)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        result = run(bidders=args.bidders, bids=args.bids, processes=args.processes,
                     rounds=args.rounds)
    except AuctionBenchError as exc:
        print(f"auction bench failed: {exc}", file=sys.stderr)
        return 1
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0  # problems are in the result, for run.py to report


if __name__ == "__main__":
    sys.exit(main())
