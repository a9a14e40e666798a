"""The programme page at scale, next to raw SQL over the same rollups, on SQLite and
PostgreSQL.

``python -m tests.bench.analytics`` measures, for each engine in
``PORTAL_BENCH_ANALYTICS_DATABASES`` (default ``sqlite,postgres``), on a fresh database
migrated by the portal's migrations:

* **the data**: ``tests/bench/scale.py``'s league (``board_steps``:
  ``PORTAL_BENCH_ANALYTICS_PLAYERS`` players, default 1,000,000, 100 to an outlet, 10
  outlets to a company, 20 regions; ``PORTAL_BENCH_ANALYTICS_ENTRIES`` earn transfers,
  default 10,000,000, over the previous and the current month), loaded by scale's bulk
  loader, plus ``PORTAL_BENCH_ANALYTICS_VISITS`` visit days per player (default 4, over
  the last 40 days) and the rollups those rows fold into (``rollup_steps``: the same rows
  ``rollups.fold`` writes, made by ``INSERT ... SELECT ... GROUP BY``, with the fold's
  cursors at the end of each source: folding ten million transfers one batch at a time
  would take most of an hour here; ``tests/analytics/test_bench_rollups.py`` holds these
  steps equal to the fold's own rows);
* **the page**, median of ``PORTAL_BENCH_ANALYTICS_RUNS`` runs (default 5), as marketing,
  for the whole network this month: ``service.programme`` and the companies table
  (``service.teams``) in-process; ``GET /analytics`` (rendered) and
  ``GET /api/v1/analytics/programme`` through the ASGI app in-process; and the SQL one
  page view sends, checked to read no ledger, account, hold, visit or person-month table;
* **the ceiling**: the same figures by raw SQL on a direct aiosqlite or asyncpg
  connection (the network's months, its days, the points held) and the companies table
  (one ``GROUP BY company_id``);
* **the fold** of ``PORTAL_BENCH_ANALYTICS_FOLD`` new earn transfers (default 20,000) on
  top of all that, rows per second, and the fold with nothing new (it counts the points
  held in open bids again every run).

Scratch PostgreSQL databases are made on ``PORTAL_BENCH_ANALYTICS_POSTGRES_URL`` (default
``postgres://postgres@127.0.0.1:5432/postgres``) and dropped after; SQLite files live in a
temporary directory. ``PORTAL_BENCH_ANALYTICS_PLAYERS=10000
PORTAL_BENCH_ANALYTICS_ENTRIES=100000`` runs in well under a minute.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from portal.accounts import service as accounts
from portal.accounts.models import Person, Role
from portal.analytics import rollups, service
from portal.app import create_app
from portal.seasons import season_of
from portal.settings import Settings
from tests.bench import scale
from tests.sql_log import statements

VISIT_SPAN = 40  # days back from today that visits fall on
# Loaded with their indexes dropped meanwhile (the cursors' table has no id to move).
ROLLUP_TABLES = ("analytics_visit", "analytics_player_month", "analytics_month",
                 "analytics_day")
# What a programme view must never read: the ledger, and the big per-person tables.
NOT_ON_A_VIEW = ("transfer", "account", "hold", "analytics_visit", "analytics_player_month",
                 "season_score")


@dataclass(frozen=True)
class Sizes:
    players: int
    entries: int
    visits: int
    runs: int
    fold: int


def sizes_from_env() -> Sizes:
    def number(name: str, default: int) -> int:
        return int(os.environ.get(f"PORTAL_BENCH_ANALYTICS_{name}", default))

    visits = number("VISITS", 4)
    if not 0 <= visits <= 4:
        raise SystemExit("PORTAL_BENCH_ANALYTICS_VISITS is 0 to 4 days a player")
    return Sizes(number("PLAYERS", 1_000_000), number("ENTRIES", 10_000_000), visits,
                 number("RUNS", 5), number("FOLD", 20_000))


# -- the rollups, made in bulk ------------------------------------------------------------


def _day(d: scale.Dialect, column: str) -> str:
    """A timestamp column's UTC day, ``YYYY-MM-DD`` (SQLite keeps Tortoise's text)."""
    if d.engine == "sqlite":
        return f"substr({column}, 1, 10)"
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def _epoch_day(d: scale.Dialect, epoch: str) -> str:
    if d.engine == "sqlite":
        return f"strftime('%Y-%m-%d', {epoch}, 'unixepoch')"
    return f"to_char(to_timestamp({epoch}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def rollup_steps(d: scale.Dialect, players: int, visits: int, now: datetime) -> scale.Steps:
    """After ``scale.board_steps``: ``visits`` visit days per player (distinct days within
    the last ``VISIT_SPAN``), then the rollups ``rollups.fold`` makes of people, visits and
    transfers (per person and month, per outlet and month, per outlet and day, the
    network's rows), and the fold's cursors at the end of each source."""
    today = int(now.replace(hour=12, minute=0, second=0, microsecond=0).timestamp())
    pre, src = d.numbers(players * visits)
    back = f"(((i - 1) % {players} + ((i - 1) / {players}) * 11) % {VISIT_SPAN})"
    sums = ("new_players", "active_players", "visits", "earned")
    outlet_sums = ", ".join(f"SUM({c})" for c in sums)
    # The columns these rows have no source for (no games, spends...): 0, as the fold's.
    none = [c for c in rollups.MONTH_COLUMNS if c not in sums]
    month_zero, month_zeros = ", ".join(none), ", ".join("0" for _ in none)
    day_zero = "games_finished, spent, donated, captured, burned"
    day_zeros = "0, 0, 0, 0, 0"
    return [
        ("visits", f"{pre}INSERT INTO analytics_visit (person_id, day) "  # noqa: S608
                   f"SELECT 1 + (i - 1) % {players}, {_epoch_day(d, f'{today} - {back} * 86400')} "
                   f"FROM {src}"),
        ("person months", "INSERT INTO analytics_player_month (month, person_id, visit_days, "  # noqa: S608
                          "games, earned) SELECT month, person_id, SUM(days), 0, SUM(earned) "
                          "FROM (SELECT substr(v.day, 1, 7) AS month, v.person_id, 1 AS days, "
                          "0 AS earned FROM analytics_visit v UNION ALL "
                          f"SELECT substr({_day(d, 't.created_at')}, 1, 7), a.person_id, 0, "
                          "t.amount FROM transfer t JOIN account a ON a.id = t.target_id "
                          "WHERE t.kind = 'earn' AND a.person_id IS NOT NULL) x "
                          "GROUP BY month, person_id"),
        ("outlet months", "INSERT INTO analytics_month (month, outlet_id, company_id, "  # noqa: S608
                          f"region_id, {', '.join(sums)}, {month_zero}) "
                          f"SELECT x.month, x.outlet_id, o.company_id, o.region_id, {outlet_sums}, "
                          f"{month_zeros} "
                          f"FROM (SELECT substr({_day(d, 'p.created_at')}, 1, 7) AS month, "
                          "p.outlet_id, 1 AS new_players, 0 AS active_players, 0 AS visits, "
                          "0 AS earned FROM person p WHERE p.roles LIKE '%player%' UNION ALL "
                          "SELECT m.month, p.outlet_id, 0, CASE WHEN m.visit_days > 0 THEN 1 "
                          "ELSE 0 END, m.visit_days, m.earned FROM analytics_player_month m "
                          "JOIN person p ON p.id = m.person_id) x "
                          "JOIN outlet o ON o.id = x.outlet_id GROUP BY x.month, x.outlet_id, "
                          "o.company_id, o.region_id"),
        ("network months", "INSERT INTO analytics_month (month, outlet_id, company_id, "  # noqa: S608
                           f"region_id, {', '.join(sums)}, {month_zero}) SELECT month, -1, -1, -1, "
                           f"{outlet_sums}, {month_zeros} FROM analytics_month GROUP BY month"),
        ("outlet days", "INSERT INTO analytics_day (day, outlet_id, company_id, region_id, "  # noqa: S608
                        f"visits, earned, {day_zero}) SELECT x.day, x.outlet_id, o.company_id, "
                        f"o.region_id, SUM(x.visits), SUM(x.earned), {day_zeros} "
                        "FROM (SELECT v.day, p.outlet_id, 1 AS visits, 0 AS earned "
                        "FROM analytics_visit v "
                        "JOIN person p ON p.id = v.person_id UNION ALL "
                        f"SELECT {_day(d, 't.created_at')}, p.outlet_id, 0, t.amount "
                        "FROM transfer t JOIN account a ON a.id = t.target_id "
                        "JOIN person p ON p.id = a.person_id WHERE t.kind = 'earn') x "
                        "JOIN outlet o ON o.id = x.outlet_id GROUP BY x.day, x.outlet_id, "
                        "o.company_id, o.region_id"),
        ("network days", "INSERT INTO analytics_day (day, outlet_id, company_id, region_id, "  # noqa: S608
                         f"visits, earned, {day_zero}) SELECT day, -1, -1, -1, SUM(visits), "
                         f"SUM(earned), {day_zeros} FROM analytics_day GROUP BY day"),
        ("fold cursors", "INSERT INTO analytics_cursor (source, done_through, safe_through, "
                         "seen_max) SELECT s, m, m, m FROM ("
                         "SELECT 'person' AS s, COALESCE(MAX(id), 0) AS m FROM person UNION ALL "
                         "SELECT 'visit', COALESCE(MAX(id), 0) FROM analytics_visit UNION ALL "
                         "SELECT 'transfer', COALESCE(MAX(id), 0) FROM transfer UNION ALL "
                         "SELECT 'game', COALESCE(MAX(id), 0) FROM game) c"),
    ]


# -- measuring ------------------------------------------------------------------------------


async def _median(runs: int, call: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:,.1f} ms"


RAW_MONTHS = ("SELECT month, SUM(new_players), SUM(active_players), SUM(players_with_game), "
              "SUM(players_with_five), SUM(visits), SUM(games_finished), SUM(earned), "
              "SUM(spent), SUM(refunded), SUM(donated), SUM(captured), SUM(burned_inactivity) "
              "FROM analytics_month WHERE outlet_id = -1 AND month <= ? GROUP BY month")
RAW_DAYS = ("SELECT day, SUM(visits), SUM(games_finished), SUM(earned) FROM analytics_day "
            "WHERE outlet_id = -1 AND day >= ? AND day <= ? GROUP BY day")
RAW_HELD = "SELECT held FROM analytics_held WHERE outlet_id = -1"
RAW_COMPANIES = ("SELECT company_id, SUM(CASE WHEN month = ? THEN active_players ELSE 0 END), "
                 "SUM(new_players), SUM(CASE WHEN month = ? THEN earned ELSE 0 END) "
                 "FROM analytics_month WHERE outlet_id > 0 AND month <= ? GROUP BY company_id")


async def _raw_figures(raw: scale.Raw, month: str) -> None:
    days = rollups.month_days(month)
    await raw.rows(RAW_MONTHS, month)
    await raw.rows(RAW_DAYS, days[0], days[-1])
    await raw.rows(RAW_HELD)


async def _more_transfers(db: scale.Scratch, count: int, players: int, now: datetime) -> None:
    """``count`` new earn transfers this month, after every other (for the fold)."""
    d = scale.Dialect(db.engine)
    pre, src = d.numbers(count)
    epoch = f"({int(now.timestamp())} - i % 3600)"
    first = await _one(db, "SELECT MAX(id) FROM transfer")
    issuance = await _one(db, "SELECT id FROM account WHERE code = 'issuance'")
    sql = (f"{pre}INSERT INTO transfer (id, key, kind, amount, reason, reference, season, "  # noqa: S608
           f"created_at, source_id, target_id) SELECT {first} + i, 'bench:more:' || i, 'earn', "
           f"10, 'Bench', 'bench', {d.month(epoch)}, {d.moment(epoch)}, {issuance}, "
           f"1 + (i * 7919) % {players} FROM {src}")
    async with scale.Raw(db) as raw:
        await raw.update_in_transaction(sql)


async def _one(db: scale.Scratch, sql: str) -> int:
    async with scale.Raw(db) as raw:
        return int(await raw.value(sql) or 0)


async def measure(db: scale.Scratch, sizes: Sizes, now: datetime, workdir: Path
                  ) -> list[tuple[str, str]]:
    month = season_of(now)
    results: list[tuple[str, str]] = []
    async with scale.Raw(db) as raw:
        ceiling = await _median(sizes.runs, lambda: _raw_figures(raw, month))
        teams_ceiling = await _median(sizes.runs, lambda: raw.rows(RAW_COMPANIES, month, month,
                                                                   month))
        month_rows = await raw.value("SELECT COUNT(*) FROM analytics_month")
        day_rows = await raw.value("SELECT COUNT(*) FROM analytics_day")
    async with scale.portal_orm(db):
        started = time.perf_counter()
        assert await rollups.fold(now, settle=timedelta(0)) == 0, "the bulk rollups are behind"
        idle_fold = time.perf_counter() - started
        figures = await _median(sizes.runs, lambda: service.programme(service.NETWORK, month,
                                                                      now=now))
        table = await _median(sizes.runs, lambda: service.teams(
            service.NETWORK, month, by=service.Grouping.COMPANY))
        marketing = await Person.create(email="marketing@bench.example.com", password_hash="!",
                                        full_name="Mia", display_name="Mia",
                                        roles=Role.MARKETING.value)
        web, _ = await accounts.start_session(marketing, lifetime=timedelta(hours=1))
        api, _ = await accounts.start_session(marketing, kind="api", lifetime=timedelta(hours=1))
        settings = Settings(database_url=db.url, secret_key="bench", scheduler_enabled=False,
                            media_dir=str(workdir / "media"))
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     cookies={"portal_session": web}) as client:
            with statements() as sent:
                page = await client.get(f"/analytics?month={month}")
            assert page.status_code == 200, page.status_code
            read = _tables_read(sent)
            bad = sorted(read & set(NOT_ON_A_VIEW))
            assert not bad, f"a programme view read {bad}"
            rendered = await _median(sizes.runs, lambda: client.get(f"/analytics?month={month}"))
            bearer = {"Authorization": f"Bearer {api}"}
            answer = await client.get("/api/v1/analytics/programme", headers=bearer)
            assert answer.status_code == 200, answer.text
            called = await _median(sizes.runs, lambda: client.get(
                "/api/v1/analytics/programme", headers=bearer))
    await _more_transfers(db, sizes.fold, sizes.players, now)
    async with scale.portal_orm(db):
        started = time.perf_counter()
        folded = await rollups.fold(now, settle=timedelta(0), batch=5000)
        fold_time = time.perf_counter() - started
    results += [
        ("rollup rows (month / day)", f"{month_rows:,} / {day_rows:,}"),
        ("programme figures, network (service)", _ms(figures)),
        ("companies table, network (service)", _ms(table)),
        ("GET /analytics (ASGI, rendered)", _ms(rendered)),
        ("GET /api/v1/analytics/programme (ASGI)", _ms(called)),
        ("ceiling: raw figures (months, days, held)", _ms(ceiling)),
        ("ceiling: raw companies GROUP BY", _ms(teams_ceiling)),
        ("a view's SQL", f"{len(sent)} statements; tables: {', '.join(sorted(read))}"),
        ("fold, nothing new (counts held points)", _ms(idle_fold)),
        (f"fold of {folded:,} new transfers", f"{fold_time:.1f} s, "
                                              f"{folded / fold_time:,.0f} rows/s"),
    ]
    return results


def _tables_read(sent: Sequence[str]) -> set[str]:
    """The tables named after FROM or JOIN in the statements."""
    found = set()
    for statement in sent:
        words = statement.replace('"', " ").replace("`", " ").replace(",", " ").split()
        for before, word in zip(words, words[1:], strict=False):
            if before.upper() in ("FROM", "JOIN") and word[:1].isalpha():
                found.add(word.lower())
    return found


async def run_engine(engine: str, sizes: Sizes, workdir: Path, admin_url: str
                     ) -> list[tuple[str, str]]:
    now = datetime.now(UTC)
    db = scale.scratch(engine, "analytics", workdir, admin_url)
    try:
        await scale.create(db)
        d = scale.Dialect(engine, last_active=True)
        loaded = await scale.load(
            db, (*scale.BOARD_TABLES, *ROLLUP_TABLES),
            scale.board_steps(d, sizes.players, sizes.entries, now)
            + rollup_steps(d, sizes.players, sizes.visits, now), f"{engine} analytics")
        results = [("players / ledger entries / visits",
                    f"{sizes.players:,} / {sizes.entries:,} / {sizes.players * sizes.visits:,}"),
                   ("load (scale's league, visits, rollups)", f"{loaded:.1f} s")]
        return results + await measure(db, sizes, now, workdir)
    finally:
        await scale.drop(db)


async def main() -> None:
    sizes = sizes_from_env()
    engines = [e.strip() for e in os.environ.get("PORTAL_BENCH_ANALYTICS_DATABASES",
                                                 "sqlite,postgres").split(",") if e.strip()]
    admin_url = os.environ.get("PORTAL_BENCH_ANALYTICS_POSTGRES_URL", scale.DEFAULT_POSTGRES_URL)
    if "postgres" in engines:
        await scale.check_postgres(admin_url)
    with tempfile.TemporaryDirectory() as folder:
        for engine in engines:
            results = await run_engine(engine, sizes, Path(folder), admin_url)
            width = max(len(label) for label, _ in results)
            print(f"Programme page at scale ({scale.ENGINES[engine]})", flush=True)
            for label, value in results:
                print(f"  {label.ljust(width)}  {value}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
