"""The rewards catalog under load, each figure next to a ceiling measured in the same run.

``python -m tests.bench.catalog WORKDIR`` (``PORTAL_DATABASE_URL`` names the database)
measures:

* **a redemption race**: PLAYERS players with enough points (``--players``, default 200)
  each redeem the same e-certificate ``--times`` times one after another (default 5), all
  players at the same time, from ``--processes`` worker processes (default 4) released
  together (``tests/bench/catalog_worker.py``), for a pool of half as many codes as
  attempts; attempts per second (every answer, an order or "sold out"; the ratio's
  figure), orders per second, and the p50 and p99 of one attempt. Every code must be
  handed out once, every other attempt told it is sold out, nobody charged twice, and
  ``portal check`` must hold;
* **its ceiling**: the same processes and players doing the same writes with no portal in
  the way: per attempt one write transaction (``BEGIN IMMEDIATE`` on SQLite) with the
  conditional claim of a code and the guarded balance UPDATE, in raw SQL on a scratch pool
  (the claim first: a sold-out attempt ends at its one statement).
  Both warm up with one redemption per process before the release, and ``--rounds``
  (default 3) repeats the pair on fresh pools and players, the portal first, then the
  raw ceiling, so a change in the machine's load touches both alike; reported are the
  median round by ratio, the median round of each side, and every round's figures;
* **a 10,000-code file imported** with ``catalog.import_codes`` (read, checked against
  the pool, sealed, written in one transaction) next to a raw bulk INSERT of 10,000
  prepared rows in one transaction.

It prints ``BENCH_RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tortoise import connections

from portal.accounts.models import Person
from portal.catalog import service as catalog
from portal.catalog.models import Code, CodeStatus, ItemKind, Order
from portal.cli import _with_db
from portal.db import dialect_sql, placeholders, write_transaction
from portal.ledger import service as ledger
from portal.ledger.models import Account, AccountKind
from portal.settings import Settings
from tests.bench import racers
from tests.catalog.stock import code_file

PRICE = 100
POINTS = 10 * PRICE  # more than a player's attempts can spend
IMPORT_CODES = 10_000


class CatalogBenchError(Exception):
    pass


async def _players(count: int, tag: str) -> list[int]:
    """``count`` players with accounts and POINTS each (a fixed password hash: no one
    signs in)."""
    people = [Person(email=f"bench-catalog-{tag}-{i}@example.com", password_hash="-",
                     full_name=f"Bench {i}", display_name=f"Bench {i}") for i in range(count)]
    async with write_transaction() as conn:
        await Person.bulk_create(people, using_db=conn)
    rows = await Person.filter(email__startswith=f"bench-catalog-{tag}-").order_by("id")
    async with write_transaction() as conn:
        await Account.bulk_create([Account(kind=AccountKind.PERSON, person_id=p.id,
                                           name=p.full_name) for p in rows], using_db=conn)
    for account in await Account.filter(person_id__in=[p.id for p in rows]):
        await ledger.earn(account, amount=POINTS, reason="Bench points",
                          reference="bench", key=f"bench-catalog:{tag}:{account.id}")
    return [p.id for p in rows]


async def _prepare(players: int, codes: int, tag: str, settings: Settings) -> dict[str, Any]:
    ids = await _players(players, tag)
    category = await catalog.save_category(f"Bench {tag}")
    item = await catalog.save_item(catalog.ItemFields(
        category_id=category.id, kind=ItemKind.CERTIFICATE, title=f"Bench card {tag}",
        price=PRICE, active=True))
    await catalog.import_codes(item.id, code_file(codes, prefix=f"RACE-{tag}-"),
                               settings=settings)
    # The raw ceiling's pool: codes of a second item, claimed by raw SQL.
    raw_item = await catalog.save_item(catalog.ItemFields(
        category_id=category.id, kind=ItemKind.CERTIFICATE, title=f"Bench raw {tag}",
        price=PRICE, active=False))
    await catalog.import_codes(raw_item.id, code_file(codes, prefix=f"RAW-{tag}-"),
                               settings=settings)
    # The raw ceiling's accounts: a scratch copy of the players', so the ledger stays whole.
    conn = connections.get("default")
    await conn.execute_script("CREATE TABLE IF NOT EXISTS bench_catalog_account "
                              "(id INTEGER PRIMARY KEY, balance BIGINT NOT NULL, "
                              "held BIGINT NOT NULL)")
    async with write_transaction() as tx:
        await tx.execute_many(dialect_sql(
            tx, "INSERT INTO bench_catalog_account (id, balance, held) VALUES (?, ?, ?)"),
            [[person_id, POINTS, 0] for person_id in ids])
    return {"people": ids, "item": item.id, "raw_item": raw_item.id}


def _race(mode: str, item: int, people: list[int], times: int, processes: int,
          database_url: str, tag: str) -> dict[str, Any]:
    """The worker processes, released together; their outcomes and the wall time."""
    calls = [{"mode": mode, "item": item, "people": people[i::processes], "times": times,
              "tag": tag} for i in range(processes)]
    try:
        outcomes, seconds = racers.race("tests.bench.catalog_worker", database_url, calls,
                                        timeout=600)
    except racers.RaceError as exc:
        raise CatalogBenchError(str(exc)) from exc
    won = sum(o["won"] for o in outcomes)
    attempts = sum(len(o["seconds"]) for o in outcomes)
    return {"won": won, "sold_out": sum(o["sold_out"] for o in outcomes),
            "errors": [e for o in outcomes for e in o["errors"]]
            + [f"warm-up: {o['warm']}" for o in outcomes if o["warm"] != "won"],
            "seconds": seconds, "attempts": attempts,
            "per_second": won / seconds if seconds else 0.0,
            "attempts_per_second": attempts / seconds if seconds else 0.0,
            **racers.latencies([s for o in outcomes for s in o["seconds"]])}


async def _check_race(item: int, people: list[int], orders: int) -> list[str]:
    """Every code handed out once, with one order each, and charged once."""
    problems = []
    issued = await Code.filter(item_id=item, status=CodeStatus.ISSUED).count()
    codes = await Order.filter(item_id=item).values_list("code_id", flat=True)
    if issued != orders or len(set(codes)) != orders or len(codes) != orders:
        problems.append(f"{orders} orders but {issued} codes issued, {len(set(codes))} "
                        "distinct")
    spent = sum(POINTS - a.balance for a in await Account.filter(person_id__in=people))
    if spent != PRICE * orders:
        problems.append(f"{spent} points spent for {orders} orders of {PRICE}")
    problems += [f"ledger: {p.message}" for p in await ledger.check_invariants()]
    return problems


async def _import(settings: Settings, tag: str, rounds: int) -> dict[str, list[float]]:
    category = await catalog.save_category(f"Bench import {tag}")
    portal_s: list[float] = []
    raw_s: list[float] = []
    for round_ in range(rounds):
        item = await catalog.save_item(catalog.ItemFields(
            category_id=category.id, kind=ItemKind.CERTIFICATE,
            title=f"Bench import {tag} {round_}", price=PRICE, active=False))
        data = code_file(IMPORT_CODES, prefix=f"IMP-{tag}-{round_}-")
        started = time.perf_counter()
        count = await catalog.import_codes(item.id, data, settings=settings)
        portal_s.append(time.perf_counter() - started)
        if count != IMPORT_CODES:
            raise CatalogBenchError(f"imported {count} codes, not {IMPORT_CODES}")
        # The ceiling: the same number of rows, prepared beforehand, in one INSERT batch.
        now = datetime.now(UTC)
        rows = [[item.id, f"sealed-{i}", f"raw-{tag}-{round_}-{i}", "CRET", "50 EUR",
                 CodeStatus.AVAILABLE.value, now] for i in range(IMPORT_CODES)]
        started = time.perf_counter()
        async with write_transaction() as conn:
            marks = ", ".join(placeholders(conn, 7))
            await conn.execute_many(
                "INSERT INTO catalog_code (item_id, sealed, fingerprint, last4, value, "  # noqa: S608
                f"status, uploaded_at) VALUES ({marks})", rows)
        raw_s.append(time.perf_counter() - started)
    return {"import_s": portal_s, "raw_bulk_s": raw_s}


def run(*, players: int, times: int, processes: int, rounds: int,
        import_rounds: int) -> dict[str, Any]:
    """``rounds`` times the portal's race for a fresh pool, checked, then the raw one (so a
    change in the machine's load touches both alike): the medians, and every round."""
    settings = Settings.from_env().model_copy(update={"redemption_threshold": 0})
    tag = secrets.token_hex(3)
    codes = players * times // 2  # half the attempts win
    pool = codes + processes  # and one warm-up redemption per process

    async def prepare() -> list[dict[str, Any]]:
        return [await _prepare(players, pool, f"{tag}{n}", settings) for n in range(rounds)]

    setups = asyncio.run(_with_db(settings, prepare))
    problems: list[str] = []

    def measure(n: int) -> dict[str, Any]:
        setup = setups[n]
        portal = _race("portal", setup["item"], setup["people"], times, processes,
                       settings.database_url, f"{tag}{n}")

        async def check() -> list[str]:  # before the raw race spends points of its own
            return await _check_race(setup["item"], setup["people"], pool)

        problems.extend(asyncio.run(_with_db(settings, check)))
        raw = _race("raw", setup["raw_item"], setup["people"], times, processes,
                    settings.database_url, f"{tag}{n}")
        for side, result in (("portal", portal), ("raw", raw)):
            problems.extend(f"{side} worker: {e}" for e in result["errors"])
            if result["won"] != codes:
                problems.append(f"{side}: {result['won']} won of {codes} codes")
        return {"portal": portal, "raw": raw, "ratio": portal["attempts_per_second"]
                / raw["attempts_per_second"] if raw["attempts_per_second"] else 0.0}

    median, done = racers.rounds(rounds, measure, by="ratio")

    async def imports_() -> dict[str, list[float]]:
        return await _import(settings, tag, import_rounds)

    imports = asyncio.run(_with_db(settings, imports_))
    return {"players": players, "times": times, "codes": codes, "processes": processes,
            "rounds": rounds,
            "portal": racers.rounds(rounds, lambda n: done[n]["portal"],
                                    by="attempts_per_second")[0],
            "raw": racers.rounds(rounds, lambda n: done[n]["raw"],
                                 by="attempts_per_second")[0],
            "ratio": median["ratio"], "ratios": [r["ratio"] for r in done],
            "portal_per_second": [r["portal"]["attempts_per_second"] for r in done],
            "raw_per_second": [r["raw"]["attempts_per_second"] for r in done],
            "import_codes": IMPORT_CODES, **imports,
            "import_median_s": statistics.median(imports["import_s"]),
            "raw_bulk_median_s": statistics.median(imports["raw_bulk_s"]),
            "problems": problems}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.catalog",
                                     description=__doc__)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--times", type=int, default=5)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--import-rounds", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        result = run(players=args.players, times=args.times, processes=args.processes,
                     rounds=args.rounds, import_rounds=args.import_rounds)
    except CatalogBenchError as exc:
        print(f"catalog bench failed: {exc}", file=sys.stderr)
        return 1
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
