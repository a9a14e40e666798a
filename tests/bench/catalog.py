"""The rewards catalog under load, each figure next to a ceiling measured in the same run.

``python -m tests.bench.catalog WORKDIR`` (``PORTAL_DATABASE_URL`` names the database)
measures:

* **a redemption race**: PLAYERS players with enough points (``--players``, default 200)
  all redeem the same e-certificate, whose pool holds half as many codes, from
  ``--processes`` worker processes (default 4) released together
  (``tests/bench/catalog_worker.py``); redemptions per second (orders made over the wall
  time from the release to the last answer) and attempts per second. Every code must be
  handed out once, every other player told it is sold out, nobody charged twice;
* **its ceiling**: the same processes and players doing the same writes with no portal in
  the way: per attempt one write transaction (``BEGIN IMMEDIATE`` on SQLite) with the
  guarded balance UPDATE and the conditional claim of a code, in raw SQL on a scratch pool;
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
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from portal.accounts.models import Person
from portal.catalog import service as catalog
from portal.catalog.models import Code, CodeStatus, ItemKind, Order
from portal.cli import _with_db
from portal.db import placeholders, write_transaction
from portal.ledger import service as ledger
from portal.ledger.models import Account, AccountKind
from portal.settings import PROJECT_ROOT, Settings
from tests.catalog.stock import code_file

PRICE = 100
IMPORT_CODES = 10_000


class CatalogBenchError(Exception):
    pass


async def _players(count: int, tag: str) -> list[int]:
    """``count`` players with accounts and 10 x the price each (a fixed password hash: no
    one signs in)."""
    people = [Person(email=f"bench-catalog-{tag}-{i}@example.com", password_hash="-",
                     full_name=f"Bench {i}", display_name=f"Bench {i}") for i in range(count)]
    async with write_transaction() as conn:
        await Person.bulk_create(people, using_db=conn)
    rows = await Person.filter(email__startswith=f"bench-catalog-{tag}-").order_by("id")
    async with write_transaction() as conn:
        await Account.bulk_create([Account(kind=AccountKind.PERSON, person_id=p.id,
                                           name=p.full_name) for p in rows], using_db=conn)
    for account in await Account.filter(person_id__in=[p.id for p in rows]):
        await ledger.earn(account, amount=PRICE * 10, reason="Bench points",
                          reference="bench", key=f"bench-catalog:{tag}:{account.id}")
    return [p.id for p in rows]


async def _prepare(players: int, tag: str, settings: Settings) -> dict[str, Any]:
    ids = await _players(players, tag)
    category = await catalog.save_category(f"Bench {tag}")
    item = await catalog.save_item(catalog.ItemFields(
        category_id=category.id, kind=ItemKind.CERTIFICATE, title=f"Bench card {tag}",
        price=PRICE, active=True))
    await catalog.import_codes(item.id, code_file(players // 2, prefix=f"RACE-{tag}-"),
                               settings=settings)
    # The raw ceiling's pool: codes of a second item, claimed by raw SQL.
    raw_item = await catalog.save_item(catalog.ItemFields(
        category_id=category.id, kind=ItemKind.CERTIFICATE, title=f"Bench raw {tag}",
        price=PRICE, active=False))
    await catalog.import_codes(raw_item.id, code_file(players // 2, prefix=f"RAW-{tag}-"),
                               settings=settings)
    return {"people": ids, "item": item.id, "raw_item": raw_item.id}


def _race(mode: str, item: int, people: list[int], processes: int, database_url: str,
          tag: str) -> dict[str, Any]:
    """The worker processes, released together; their outcomes and the wall time."""
    groups = [people[i::processes] for i in range(processes)]
    env_argv = [sys.executable, "-m", "tests.bench.catalog_worker", database_url]
    workers = [subprocess.Popen([*env_argv, json.dumps({"mode": mode, "item": item,
                                                         "people": group, "tag": tag})],
                                cwd=PROJECT_ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for group in groups]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdin is not None
            if worker.stdout.readline() != "ready\n":
                raise CatalogBenchError(f"a {mode} worker did not start: "
                                        f"{worker.communicate(timeout=60)[1]}")
        released = time.time()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outcomes = []
        for worker in workers:
            out, err = worker.communicate(timeout=600)
            if worker.returncode != 0:
                raise CatalogBenchError(f"a {mode} worker failed: {err}")
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    seconds = max(o["finished"] for o in outcomes) - released
    won = sum(o["won"] for o in outcomes)
    return {"won": won, "sold_out": sum(o["sold_out"] for o in outcomes),
            "errors": [e for o in outcomes for e in o["errors"]], "seconds": seconds,
            "attempts": len(people), "per_second": won / seconds if seconds else 0.0,
            "attempts_per_second": len(people) / seconds if seconds else 0.0}


async def _check_race(item: int, people: list[int], won: int) -> list[str]:
    problems = []
    issued = await Code.filter(item_id=item, status=CodeStatus.ISSUED).count()
    codes = await Order.filter(item_id=item).values_list("code_id", flat=True)
    if issued != won or len(set(codes)) != won or len(codes) != won:
        problems.append(f"{won} orders but {issued} codes issued, {len(set(codes))} distinct")
    charged = await Account.filter(person_id__in=people, balance__lt=PRICE * 10).count()
    if charged != won:
        problems.append(f"{charged} players charged for {won} orders")
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


def run(*, players: int, processes: int, rounds: int) -> dict[str, Any]:
    settings = Settings.from_env().model_copy(update={"redemption_threshold": 0})
    tag = secrets.token_hex(3)

    async def prepare() -> dict[str, Any]:
        return await _prepare(players, tag, settings)

    setup = asyncio.run(_with_db(settings, prepare))
    portal = _race("portal", setup["item"], setup["people"], processes,
                   settings.database_url, tag)

    async def check() -> list[str]:  # before the raw race spends points of its own
        return await _check_race(setup["item"], setup["people"], portal["won"])

    problems = asyncio.run(_with_db(settings, check))
    raw = _race("raw", setup["raw_item"], setup["people"], processes,
                settings.database_url, tag)

    async def imports_() -> dict[str, list[float]]:
        return await _import(settings, tag, rounds)

    imports = asyncio.run(_with_db(settings, imports_))
    problems += [f"portal worker: {e}" for e in portal["errors"]]
    problems += [f"raw worker: {e}" for e in raw["errors"]]
    if portal["won"] != players // 2 or raw["won"] != players // 2:
        problems.append(f"{portal['won']} and {raw['won']} won of {players // 2} codes")
    return {"players": players, "codes": players // 2, "processes": processes,
            "portal": portal, "raw": raw, "import_codes": IMPORT_CODES, **imports,
            "import_median_s": statistics.median(imports["import_s"]),
            "raw_bulk_median_s": statistics.median(imports["raw_bulk_s"]),
            "problems": problems}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.catalog",
                                     description=__doc__)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        result = run(players=args.players, processes=args.processes, rounds=args.rounds)
    except CatalogBenchError as exc:
        print(f"catalog bench failed: {exc}", file=sys.stderr)
        return 1
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
