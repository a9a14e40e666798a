"""Bids on one hot lot, next to the raw guarded-update ceiling measured in the same run.

``python -m tests.bench.auctions WORKDIR`` (``PORTAL_DATABASE_URL`` names the database)
measures:

* **bids on a hot lot**: ``--bidders`` players (default 200), each with plenty of points,
  bid ``--bids`` times each (default 5) on the same lot, one bid after another, all of
  them at the same time, from ``--processes`` worker processes (default 4) released
  together (``tests/bench/auctions_worker.py``). Each bid reads the highest bid and
  offers a little more; a bid that another overtook meanwhile is refused as too low, as
  in real life. Reported: attempts per second (every bid answered, led or refused) and
  leading bids per second over the wall time, and the p50 and p99 of one bid;
* **its ceiling**: the same processes and bidders doing the same writes with no portal in
  the way: per bid one write transaction with the conditional update of the lot's row and
  the guarded update of the bidder's held points, in raw SQL on scratch tables.

Afterwards the lot must have one leader holding exactly the highest bid and every
bidder's held points must equal their open holds (``portal check``). It prints
``BENCH_RESULT {json}``; the goal is at least half the ceiling's attempts per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import subprocess
import sys
import time
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
from portal.settings import PROJECT_ROOT, Settings

POINTS = 10_000_000


class AuctionBenchError(Exception):
    pass


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
    conn = connections.get("default")
    for statement in (
            "CREATE TABLE IF NOT EXISTS bench_auction_lot (id INTEGER PRIMARY KEY, "
            "high BIGINT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS bench_auction_account (id INTEGER PRIMARY KEY, "
            "balance BIGINT NOT NULL, held BIGINT NOT NULL)",
            "DELETE FROM bench_auction_lot", "DELETE FROM bench_auction_account"):
        await conn.execute_script(statement)
    async with write_transaction() as tx:
        two, three = placeholders(tx, 2), placeholders(tx, 3)
        await tx.execute_query("INSERT INTO bench_auction_lot (id, high) "  # noqa: S608
                               f"VALUES ({', '.join(two)})", [lot.id, 0])
        await tx.execute_many("INSERT INTO bench_auction_account (id, balance, held) "  # noqa: S608
                              f"VALUES ({', '.join(three)})", [[p.id, POINTS, 0] for p in rows])
    return {"people": [p.id for p in rows], "lot": lot.id}


def _race(mode: str, lot: int, people: list[int], bids: int, processes: int,
          database_url: str, tag: str) -> dict[str, Any]:
    groups = [people[i::processes] for i in range(processes)]
    workers = [subprocess.Popen(
        [sys.executable, "-m", "tests.bench.auctions_worker", database_url,
         json.dumps({"mode": mode, "lot": lot, "people": group, "bids": bids, "tag": tag})],
        cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for group in groups]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdin is not None
            if worker.stdout.readline() != "ready\n":
                raise AuctionBenchError(f"a {mode} worker did not start: "
                                        f"{worker.communicate(timeout=60)[1]}")
        released = time.time()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outcomes = []
        for worker in workers:
            out, err = worker.communicate(timeout=1800)
            if worker.returncode != 0:
                raise AuctionBenchError(f"a {mode} worker failed: {err}")
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    wall = max(o["finished"] for o in outcomes) - released
    latencies = sorted(s for o in outcomes for s in o["seconds"])
    attempts = len(latencies)
    led = sum(o["ok"] for o in outcomes)
    return {"attempts": attempts, "led": led, "too_low": sum(o["too_low"] for o in outcomes),
            "not_enough": sum(o["not_enough"] for o in outcomes),
            "errors": [e for o in outcomes for e in o["errors"]], "seconds": wall,
            "attempts_per_second": attempts / wall if wall else 0.0,
            "led_per_second": led / wall if wall else 0.0,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            if latencies else 0.0}


async def _check(lot_id: int, people: list[int]) -> list[str]:
    problems = [f"ledger: {p.message}" for p in await ledger.check_invariants()]
    lot = await Lot.get(id=lot_id)
    accounts = await Account.filter(person_id__in=people)
    if sum(a.held for a in accounts) != lot.high_bid:
        problems.append(f"held {sum(a.held for a in accounts)}, highest bid {lot.high_bid}")
    return problems


def run(*, bidders: int, bids: int, processes: int) -> dict[str, Any]:
    settings = Settings.from_env()
    tag = secrets.token_hex(3)

    async def prepare() -> dict[str, Any]:
        return await _prepare(bidders, tag, settings)

    setup = asyncio.run(_with_db(settings, prepare))
    portal = _race("portal", setup["lot"], setup["people"], bids, processes,
                   settings.database_url, tag)
    raw = _race("raw", setup["lot"], setup["people"], bids, processes,
                settings.database_url, tag)

    async def check() -> list[str]:
        return await _check(setup["lot"], setup["people"])

    problems = asyncio.run(_with_db(settings, check))
    problems += [f"portal worker: {e}" for e in portal["errors"]]
    problems += [f"raw worker: {e}" for e in raw["errors"]]
    ratio = (portal["attempts_per_second"] / raw["attempts_per_second"]
             if raw["attempts_per_second"] else 0.0)
    return {"bidders": bidders, "bids_each": bids, "processes": processes,
            "portal": portal, "raw": raw, "ratio": ratio, "problems": problems}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.auctions",
                                     description=__doc__)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--bidders", type=int, default=200)
    parser.add_argument("--bids", type=int, default=5)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args(argv)
    try:
        result = run(bidders=args.bidders, bids=args.bids, processes=args.processes)
    except AuctionBenchError as exc:
        print(f"auction bench failed: {exc}", file=sys.stderr)
        return 1
    for side in ("portal", "raw"):  # every bid's time is in the figures; not printed
        result[side].pop("latencies", None)
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0  # problems are in the result, for run.py to report


if __name__ == "__main__":
    sys.exit(main())
