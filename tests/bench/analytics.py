"""The programme page at scale, next to a raw query over the same rollups.

``python -m tests.bench.analytics`` makes a fresh database (a SQLite file, or a scratch
PostgreSQL database with ``PORTAL_BENCH_ANALYTICS_DATABASE=postgres``), fills it by SQL
with ``PORTAL_BENCH_ANALYTICS_PLAYERS`` players (default 1,000,000; 50 to an outlet,
200 to a company, 20 regions), ``PORTAL_BENCH_ANALYTICS_VISITS`` visits per player
(default 4) and ``PORTAL_BENCH_ANALYTICS_ENTRIES`` ledger transfers (default 10,000,000:
earn, spend, donate and inactivity burns over the current and the previous month), then
runs the real fold job (``rollups.fold``) over all of it, timed (rows per second). Then,
median of ``PORTAL_BENCH_ANALYTICS_RUNS`` runs (default 5):

* the whole network's programme figures (``service.programme``: both months, days,
  liability, held points) and its companies table (``service.teams``), in-process;
* ``GET /analytics`` as marketing, through the ASGI app in-process (render included);
* the ceiling: one raw ``SELECT month, SUM(...) ... GROUP BY month`` over the network's
  rows of ``analytics_month`` on the same connection (what the figures read first).

The default sizes are the issue's goal and take long to generate and fold on a 2-core
machine; ``PORTAL_BENCH_ANALYTICS_PLAYERS=10000 PORTAL_BENCH_ANALYTICS_ENTRIES=100000``
runs in well under a minute.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient

from portal.accounts import service as accounts
from portal.accounts.models import Person, Role
from portal.analytics import rollups, service
from portal.app import create_app
from portal.db import migrate_database, placeholders, tortoise_config
from portal.seasons import previous_season, season_of
from portal.settings import Settings
from tests.conftest import _drop, create_database

PER_OUTLET, PER_COMPANY, REGIONS = 50, 200, 20
CHUNK = 20_000


def _size(name: str, default: int) -> int:
    return int(os.environ.get(f"PORTAL_BENCH_ANALYTICS_{name}", default))


async def _many(conn: BaseDBAsyncClient, table: str, columns: list[str],
                rows: list[list[Any]]) -> None:
    marks = ", ".join(placeholders(conn, len(columns)))
    for start in range(0, len(rows), CHUNK):
        await conn.execute_many(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
            rows[start:start + CHUNK])


async def generate(players: int, visits: int, entries: int, now: datetime) -> None:
    conn = connections.get("default")
    rng = random.Random(1)
    outlets = max(1, players // PER_OUTLET)
    companies = max(1, players // PER_COMPANY)
    await _many(conn, "region", ["id", "name"], [[r + 1, f"Region {r + 1}"]
                                                  for r in range(REGIONS)])
    await _many(conn, "company", ["id", "name", "kind", "created_at"],
                [[c + 1, f"Company {c + 1}", "dealer", now] for c in range(companies)])
    await _many(conn, "outlet", ["id", "company_id", "region_id", "name"],
                [[o + 1, o % companies + 1, o % REGIONS + 1, f"Outlet {o + 1}"]
                 for o in range(outlets)])
    month_ago = now - timedelta(days=45)
    people = [[p + 1, f"bench{p + 1}@example.com", "x", f"Player {p + 1}", f"P{p + 1}", "en",
               p % outlets + 1, "player", True, True, True,
               month_ago + timedelta(seconds=rng.randrange(45 * 86400 - 3600))]
              for p in range(players)]
    await _many(conn, "person", ["id", "email", "password_hash", "full_name", "display_name",
                                 "language", "outlet_id", "roles", "is_active",
                                 "email_burn_warnings", "email_news", "created_at"], people)
    await _many(conn, "account", ["id", "kind", "name", "person_id", "balance", "held",
                                  "earned_total", "created_at"],
                [[p + 1, "person", f"Player {p + 1}", p + 1, 0, 0, 0, now]
                 for p in range(players)])
    system = {code: players + 1 + i for i, code in enumerate(
        ("issuance", "catalog", "burns", "bench:cause"))}
    await _many(conn, "account", ["id", "kind", "code", "name", "balance", "held",
                                  "earned_total", "created_at"],
                [[account, "system", code, code, 0, 0, 0, now]
                 for code, account in system.items()])
    days = [(now - timedelta(days=d)).date().isoformat() for d in range(45)]
    await _many(conn, "analytics_visit", ["person_id", "day"],
                [[p + 1, day] for p in range(players)
                 for day in rng.sample(days, min(visits, len(days)))])
    rows = []
    for i in range(entries):
        person = rng.randrange(players) + 1
        kind = rng.choices(("earn", "spend", "donate", "burn"), (80, 10, 5, 5))[0]
        source, target = {"earn": (system["issuance"], person),
                          "spend": (person, system["catalog"]),
                          "donate": (person, system["bench:cause"]),
                          "burn": (person, system["burns"])}[kind]
        moment = month_ago + timedelta(seconds=rng.randrange(45 * 86400 - 3600))
        rows.append([f"bench:{i}", kind, source, target, rng.randrange(10, 300), "Bench",
                     "inactivity" if kind == "burn" else "bench", season_of(moment), moment])
        if len(rows) == CHUNK:
            await _many(conn, "transfer", ["key", "kind", "source_id", "target_id", "amount",
                                           "reason", "reference", "season", "created_at"], rows)
            rows = []
    await _many(conn, "transfer", ["key", "kind", "source_id", "target_id", "amount",
                                   "reason", "reference", "season", "created_at"], rows)


async def _median(runs: int, call: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def measure(database_url: str, workdir: Path) -> list[tuple[str, str]]:
    players, visits = _size("PLAYERS", 1_000_000), _size("VISITS", 4)
    entries, runs = _size("ENTRIES", 10_000_000), _size("RUNS", 5)
    now = datetime.now(UTC)
    await migrate_database(database_url)
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        started = time.perf_counter()
        await generate(players, visits, entries, now)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        read = await rollups.fold(now, settle=timedelta(0), batch=5000)
        folded = time.perf_counter() - started
        month = season_of(now)
        conn = connections.get("default")
        raw = ("SELECT month, SUM(new_players), SUM(active_players), SUM(visits), "  # noqa: S608
               "SUM(earned), SUM(spent), SUM(donated), SUM(burned_inactivity) "
               f"FROM analytics_month WHERE outlet_id = {rollups.NETWORK_ROW} "
               f"AND month <= {placeholders(conn, 1)[0]} GROUP BY month")
        figures = await _median(runs, lambda: service.programme(service.NETWORK, month,
                                                                now=now))
        table = await _median(runs, lambda: service.teams(service.NETWORK, month,
                                                          by=service.Grouping.COMPANY))
        ceiling = await _median(runs, lambda: conn.execute_query(raw, [month]))
        results = [
            ("players / ledger entries / visits",
             f"{players:,} / {entries:,} / {players * visits:,}"),
            ("generate (SQL)", f"{generated:.1f} s"),
            ("fold job over all of it", f"{folded:.1f} s, {read / folded:,.0f} rows/s"),
            ("programme figures, whole network (service)", f"{1000 * figures:.1f} ms"),
            ("companies table, whole network (service)", f"{1000 * table:.1f} ms"),
            ("ceiling: raw GROUP BY over the network's rows", f"{1000 * ceiling:.1f} ms"),
        ]
        marketing = await Person.create(email="marketing@example.com", password_hash="x",
                                        full_name="Mia", display_name="Mia",
                                        roles=Role.MARKETING.value)
        token, _ = await accounts.start_session(marketing, lifetime=timedelta(hours=1))
        settings = Settings(database_url=database_url, secret_key="bench",
                            scheduler_enabled=False, media_dir=str(workdir / "media"))
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     cookies={"portal_session": token}) as client:
            page = await client.get(f"/analytics?month={month}")
            assert page.status_code == 200, page.status_code
            rendered = await _median(runs, lambda: client.get(f"/analytics?month={month}"))
            results.append(("GET /analytics, whole network (ASGI, rendered)",
                             f"{1000 * rendered:.1f} ms"))
        previous = previous_season(now)
        results.append(("months with figures", f"{previous}, {month}"))
        return results
    finally:
        await Tortoise.close_connections()


async def main() -> None:
    engine = os.environ.get("PORTAL_BENCH_ANALYTICS_DATABASE", "sqlite")
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        if engine == "postgres":
            name = f"bench_analytics_{uuid.uuid4().hex[:8]}"
            url = await create_database(name)
        else:
            name, url = "", f"sqlite://{workdir / 'bench.sqlite3'}"
        try:
            results = await measure(url, workdir)
        finally:
            if name:
                await _drop(name)
    width = max(len(label) for label, _ in results)
    print(f"Programme page at scale ({engine})")
    for label, value in results:
        print(f"  {label.ljust(width)}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
