"""Leaderboards and the inactivity burn at scale: the last two sections of ``make bench``.

``python -m tests.bench.scale`` (``tests/bench/run.py`` runs it in its own process after
the other sections; run alone, it prints its own tables) measures, for each database
engine in ``PORTAL_BENCH_SCALE_DATABASES``:

* **leaderboards**: a fresh database (migrated with ``portal.db.migrate_database``) is
  filled in bulk by SQL alone: ``PORTAL_BENCH_SCALE_PLAYERS`` people with their accounts
  (default 1,000,000), ``PORTAL_BENCH_SCALE_ENTRIES`` earn transfers (default
  10,000,000) spread over the whole previous month and the current month's first
  ``PORTAL_BENCH_SCALE_MONTH_HOURS`` hours (default 3: a monthly rush, when every score of
  the month is reached in a few hours, the hardest case for a rank; the board is read at
  that moment of the clock's month, whatever the day, so the 1st and the 20th measure the
  same board; 480 spreads them over 20 days), and the account totals and
  ``season_score`` rows aggregated from those transfers with INSERT ... SELECT ... GROUP
  BY. Then, in-process with Tortoise, ``leaderboard.ranking.board(kind="season")`` is
  timed, query by query and whole, for a viewer near the top and one in the middle of the
  board, next to raw SQL over ``season_score`` (top 10, the rank as a COUNT(*), a page)
  run on a direct aiosqlite or asyncpg connection, for the leader (#1) and the middle
  player; the rank with its neighbours is shown next to the top 10 as a ratio (issue
  14's goal 6: at most 2). Each query's plan is shown. On SQLite,
  ``portal web`` then serves ``GET /leaderboard/season`` to the middle player under wrk,
  next to the bare Starlette endpoint;
* **inactivity burns**: for each size in ``PORTAL_BENCH_SCALE_BURN_ACCOUNTS`` (default
  100,000 and 1,000,000 accounts, 70% of them due) ``burns.burn_inactive(now, days=30)``
  is timed, then checked (every due account keeps only its held points, one burn
  transfer and one notification each, nothing else changed, a second run burns nothing,
  and on the smallest size ``ledger.check_invariants()`` finds nothing), next to the
  ceiling: one raw ``UPDATE account SET balance = held WHERE ...`` on a copy of the same
  database, and next to the same writes (a transfer and a notice per due account, the
  balances, the burns account; the same rows, checked) as four set-based statements in
  one transaction on another copy, and as the same four per 100,000 account ids on a
  third: the ratio of the portal to the faster of the two is issue 14's goal 7 (at most
  1.5). The growth
  from the smallest to the largest size is shown (linear is the size ratio).

The SQLite and PostgreSQL data sets are generated at the same time (SQLite in a thread of
this process, PostgreSQL in its server): the machine has two cores. Timings are taken one
engine at a time, with nothing else running. Scratch PostgreSQL databases are created on
the server of ``PORTAL_BENCH_SCALE_POSTGRES_URL`` (default
``postgres://postgres@127.0.0.1:5432/postgres``; the user must be allowed to CREATE
DATABASE) and dropped afterwards; SQLite files live in the work directory.

Knobs, besides the four above: ``PORTAL_BENCH_SCALE_BURN_ACCOUNTS`` (comma-separated
sizes), ``PORTAL_BENCH_SCALE_POSTGRES_URL``, ``PORTAL_BENCH_SCALE_RUNS`` (timed runs per
figure, default 5: the median is shown), ``PORTAL_BENCH_SCALE_CONNECTIONS`` (wrk
connections for the page and its bare ceiling, default 1: at a million players a page
takes over a second, more connections only queue behind it, and wrk gives up on a
request after 5 s),
``PORTAL_BENCH_SCALE_PLANS=full`` (print the query plans, not only what they read), and
run.py's ``PORTAL_BENCH_DURATION``, ``PORTAL_BENCH_WARMUP`` (at least 5 s here) and
``PORTAL_BENCH_LOADGEN``. ``PORTAL_BENCH_SCALE_DATABASES=none`` skips these sections.

At the default sizes they take about 9 minutes on a 2-core machine: some 2.5 to generate
the leaderboard data, 3.5 to burn (mostly the million accounts), the rest measuring.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiosqlite
import asyncpg
import httpx
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from portal.accounts.models import Person
from portal.accounts.service import DEFAULT_PASSWORD_PROFILE, password_hasher
from portal.burns import service as burns
from portal.db import migrate_database, tortoise_config
from portal.leaderboard import ranking as boards
from portal.ledger import service as ledger
from portal.seasons import season_of
from tests.bench import run as bench
from tests.bench.rawdb import sqlite_pragmas

# The score counts the leaderboards keep (per score, and per score and hour, minute and
# second), filled from the scores as the migrations fill them.
_SCORE_COUNTS = importlib.import_module("portal.migrations.0016_score_counts")
_HOUR_COUNTS = importlib.import_module("portal.migrations.0020_score_hour_counts")
_MOMENT_COUNTS = importlib.import_module("portal.migrations.0022_score_moment_counts")
COUNT_TABLES = ("score_count", "score_hour_count", "score_minute_count", "score_second_count")


def count_backfill(postgres: bool) -> list[str]:
    return [*_SCORE_COUNTS.BACKFILL, *_HOUR_COUNTS.backfill_sql(postgres),
            *_MOMENT_COUNTS.backfill_sql(postgres)]


DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
ENGINES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
VIEWER_PASSWORD = "bench-scale-password"
BURN_DAYS = 30
# A day no activity falls on: the ceiling's SQL puts each account's own in its place, as
# the portal's does in its burns' reasons.
SOME_DAY = date(1, 1, 1)
# The burn's ceiling in chunks: a transaction per this many account ids.
CEILING_CHUNK = 100_000
# One account in ten of each kind below (the rest are idle with points: due).
ACTIVE, FULLY_HELD, HALF_HELD, NEVER_EARNED = 0, 1, 2, 3
# Multipliers that spread the generated rows: a prime far above any size used here, so
# ``j * SPREAD % players`` visits every player once per ``players`` entries.
SPREAD = 2654435761
# The page under load: a warm-up long enough for the first pages to come back (one takes
# over a second at a million players).
PAGE_WARMUP = 5.0
# The parts of a board; board_part() tells which one each query of board() serves.
TOP, PLACE, PAGE, OTHER = ("top 10", "rank + neighbours", "page 1", "other")


# -- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    players: int
    entries: int
    engines: tuple[str, ...]
    burn_sizes: tuple[int, ...]
    postgres_url: str
    runs: int
    duration: float
    warmup: float
    connections: int  # for the page and its bare ceiling
    loadgen: str
    full_plans: bool
    month_hours: int = 3  # this month's earnings: spread over its first this many hours


def _env_int(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise bench.BenchError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise bench.BenchError(f"{name} must be at least {minimum:,}")
    return value


def config_from_env() -> Config:
    raw = os.environ.get("PORTAL_BENCH_SCALE_DATABASES", "sqlite,postgres").strip().lower()
    engines = () if raw in {"", "none"} else tuple(
        dict.fromkeys(e.strip() for e in raw.split(",") if e.strip()))
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise bench.BenchError("PORTAL_BENCH_SCALE_DATABASES lists sqlite and/or postgres "
                               f"(or none), not {', '.join(unknown)}")
    sizes_raw = os.environ.get("PORTAL_BENCH_SCALE_BURN_ACCOUNTS", "100000,1000000")
    try:
        sizes = tuple(sorted({int(s) for s in sizes_raw.split(",") if s.strip()}))
    except ValueError:
        raise bench.BenchError("PORTAL_BENCH_SCALE_BURN_ACCOUNTS is a comma-separated list "
                               f"of sizes, not {sizes_raw!r}") from None
    if not sizes or sizes[0] < 10:
        raise bench.BenchError("PORTAL_BENCH_SCALE_BURN_ACCOUNTS needs sizes of 10 or more")
    players = _env_int("PORTAL_BENCH_SCALE_PLAYERS", 1_000_000, minimum=100)
    entries = _env_int("PORTAL_BENCH_SCALE_ENTRIES", 10_000_000, minimum=2)
    loadgen = os.environ.get("PORTAL_BENCH_LOADGEN") or ("wrk" if shutil.which("wrk")
                                                         else "python")
    return Config(players=players, entries=entries, engines=engines, burn_sizes=sizes,
                  postgres_url=(os.environ.get("PORTAL_BENCH_SCALE_POSTGRES_URL")
                                or DEFAULT_POSTGRES_URL),
                  runs=_env_int("PORTAL_BENCH_SCALE_RUNS", 5),
                  duration=bench._env_number("PORTAL_BENCH_DURATION", 10),
                  warmup=bench._env_number("PORTAL_BENCH_WARMUP", 2),
                  connections=_env_int("PORTAL_BENCH_SCALE_CONNECTIONS", 1),
                  loadgen=loadgen,
                  full_plans=os.environ.get("PORTAL_BENCH_SCALE_PLANS", "") == "full",
                  month_hours=_env_int("PORTAL_BENCH_SCALE_MONTH_HOURS", 3))


def _say(message: str) -> None:
    print(f"  {message}", flush=True)


# -- scratch databases --------------------------------------------------------------------


@dataclass
class Scratch:
    """A throwaway database: a SQLite file in the work directory, or a PostgreSQL database
    created next to the admin URL's."""

    engine: str
    url: str
    name: str  # the SQLite file's path, or the PostgreSQL database's name
    admin_url: str = ""

    @property
    def label(self) -> str:
        return ENGINES[self.engine]

    @property
    def dsn(self) -> str:
        """For asyncpg: the URL without Tortoise's query parameters."""
        return urlsplit(self.url)._replace(scheme="postgres", query="").geturl()


def scratch(engine: str, purpose: str, workdir: Path, admin_url: str) -> Scratch:
    if engine == "sqlite":
        path = workdir / f"{purpose}.sqlite3"
        return Scratch(engine, f"sqlite://{path}", str(path))
    name = f"portal_bench_scale_{os.getpid()}_{purpose}"
    return Scratch(engine, urlsplit(admin_url)._replace(path=f"/{name}").geturl(), name,
                   admin_url)


def _admin_dsn(admin_url: str) -> str:
    return urlsplit(admin_url)._replace(scheme="postgres", query="").geturl()


async def _admin(sql: str, admin_url: str) -> None:
    conn = await asyncpg.connect(_admin_dsn(admin_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create(db: Scratch) -> None:
    """An empty database with the portal's schema, by its own migrations."""
    if db.engine == "postgres":
        await _admin(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)', db.admin_url)
        await _admin(f'CREATE DATABASE "{db.name}"', db.admin_url)
    else:
        _remove_sqlite(db.name)
    await migrate_database(db.url)


async def copy(db: Scratch, purpose: str, workdir: Path) -> Scratch:
    """A copy of ``db`` (nobody may be connected to it)."""
    twin = scratch(db.engine, purpose, workdir, db.admin_url)
    if db.engine == "postgres":
        await _admin(f'DROP DATABASE IF EXISTS "{twin.name}" WITH (FORCE)', db.admin_url)
        await _admin(f'CREATE DATABASE "{twin.name}" TEMPLATE "{db.name}"', db.admin_url)
    else:
        _remove_sqlite(twin.name)
        await asyncio.to_thread(shutil.copyfile, db.name, twin.name)
    return twin


async def drop(db: Scratch) -> None:
    if db.engine == "postgres":
        await _admin(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)', db.admin_url)
    else:
        _remove_sqlite(db.name)


def _remove_sqlite(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)


async def check_postgres(admin_url: str) -> None:
    try:
        conn = await asyncpg.connect(_admin_dsn(admin_url), timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise bench.BenchError(
            f"PostgreSQL does not answer at {admin_url} ({exc}): start it (make postgres), "
            "set PORTAL_BENCH_SCALE_POSTGRES_URL, or PORTAL_BENCH_SCALE_DATABASES=sqlite"
        ) from None
    await conn.close()


# -- bulk SQL, in either dialect --------------------------------------------------------------


@dataclass(frozen=True)
class Dialect:
    """The engine's SQL, and what the migrated schema has: ``account.last_active_at``
    (migration 0006; before it, the last earning was the last activity)."""

    engine: str
    last_active: bool = False

    @property
    def activity(self) -> str:
        """The column inactivity burns read, as the portal's own queries do."""
        return "last_active_at" if self.last_active else "last_earned_at"

    def last_columns(self) -> str:
        return "last_earned_at, last_active_at" if self.last_active else "last_earned_at"

    def last_values(self, expr: str) -> str:
        return f"{expr}, {expr}" if self.last_active else expr

    def numbers(self, count: int) -> tuple[str, str]:
        """``(prefix, source)`` for ``{prefix}INSERT ... SELECT ... FROM {source}`` reading
        ``i`` = 1 .. count (64-bit on both engines)."""
        if self.engine == "sqlite":
            return (f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "  # noqa: S608
                    f"WHERE i < {int(count)}) ", "n")
        return "", f"generate_series(1::bigint, {int(count)}::bigint) AS n(i)"

    def padded(self, expr: str, width: int) -> str:
        if self.engine == "sqlite":
            return f"printf('%0{width}d', {expr})"
        return f"lpad(({expr})::text, {width}, '0')"

    def moment(self, epoch: str) -> str:
        """A timestamp column value from seconds since 1970 (SQLite: the text Tortoise
        writes, ``YYYY-MM-DD HH:MM:SS+00:00``)."""
        if self.engine == "sqlite":
            return f"strftime('%Y-%m-%d %H:%M:%S+00:00', {epoch}, 'unixepoch')"
        return f"to_timestamp({epoch})"

    def month(self, epoch: str) -> str:
        if self.engine == "sqlite":
            return f"strftime('%Y-%m', {epoch}, 'unixepoch')"
        return f"to_char(to_timestamp({epoch}) AT TIME ZONE 'UTC', 'YYYY-MM')"


Steps = list[tuple[str, str]]  # (what, SQL)


def standing_accounts(first_free: int) -> Steps:
    """Migration 0015's standing system accounts (ids 1 to 3) moved out of the players'
    ids, to ``first_free`` on; issuance goes, as the steps write it with its balance."""
    return [("standing accounts", "DELETE FROM account WHERE code = 'issuance'"),
            ("standing accounts moved", "UPDATE account SET id = id + "  # noqa: S608
             f"{int(first_free)} WHERE kind = 'system'")]


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def board_steps(d: Dialect, players: int, entries: int, now: datetime) -> Steps:
    """A league: regions, companies, outlets (100 players each), the players and their
    accounts, ``entries`` earn transfers (half in the previous month, half in this one,
    in time order, each player ``entries / players`` of them), and what the ledger keeps
    from them: season scores, balances, totals, last earnings, the issuance account."""
    regions, outlets = 20, max(1, players // 100)
    companies = max(1, outlets // 10)
    issuance = players + 1
    start = _month_start(now)
    previous = _month_start(start - timedelta(days=1))
    prev0, cur0 = int(previous.timestamp()), int(start.timestamp())
    prev_span, cur_span = cur0 - prev0, max(1, int(now.timestamp()) - cur0)
    half = entries // 2
    created = int((now - timedelta(days=400)).timestamp())
    pre, src = d.numbers(players)
    epoch = (f"(CASE WHEN i <= {half} THEN {prev0} + (i - 1) * {prev_span} / {half} "
             f"ELSE {cur0} + (i - {half} - 1) * {cur_span} / {entries - half} END)")
    target = f"(1 + (i * {SPREAD}) % {players})"
    t_pre, t_src = d.numbers(entries)
    r_pre, r_src = d.numbers(regions)
    c_pre, c_src = d.numbers(companies)
    o_pre, o_src = d.numbers(outlets)
    return [
        *standing_accounts(players + 2),
        ("regions", f"{r_pre}INSERT INTO region (id, name) "  # noqa: S608
                    f"SELECT i, 'Region ' || {d.padded('i', 2)} FROM {r_src}"),
        ("companies", f"{c_pre}INSERT INTO company (id, name, kind, created_at) "  # noqa: S608
                      f"SELECT i, 'Company ' || {d.padded('i', 5)}, CASE WHEN i % 3 = 0 "
                      f"THEN 'retailer' ELSE 'dealer' END, {d.moment(str(created))} "
                      f"FROM {c_src}"),
        ("outlets", f"{o_pre}INSERT INTO outlet (id, name, company_id, region_id) "  # noqa: S608
                    f"SELECT i, 'Outlet ' || {d.padded('i', 6)}, 1 + (i - 1) % {companies}, "
                    f"1 + (i - 1) % {regions} FROM {o_src}"),
        ("people", f"{pre}INSERT INTO person (id, email, password_hash, full_name, "  # noqa: S608
                   "display_name, language, roles, is_active, created_at, outlet_id, "
                   "email_burn_warnings, email_news) "
                   f"SELECT i, 'player-' || {d.padded('i', 7)} || '@scale.example.com', '!', "
                   f"'Scale Player ' || {d.padded('i', 7)}, 'Player ' || {d.padded('i', 7)}, "
                   f"'en', 'player', TRUE, {d.moment(f'{created} + i % 86400')}, "
                   f"1 + (i - 1) % {outlets}, TRUE, TRUE FROM {src}"),
        # Keys in insertion order: their unique index is appended to, not shuffled.
        ("earn transfers", f"{t_pre}INSERT INTO transfer (id, key, kind, amount, "  # noqa: S608
                           "reason, reference, season, created_at, created_by_id, "
                           "source_id, target_id) "
                           f"SELECT i, 'game:' || {d.padded('i', 10)} || ':earn', 'earn', "
                           "5 + (i * 7919) % 96, 'Quiz: Scale bench quiz', "
                           f"'game:' || i, {d.month(epoch)}, {d.moment(epoch)}, NULL, "
                           f"{issuance}, {target} FROM {t_src}"),
        ("season totals", "CREATE TEMP TABLE scale_totals AS SELECT target_id, season, "
                          "SUM(amount) AS earned, MAX(created_at) AS reached FROM transfer "
                          "WHERE kind = 'earn' GROUP BY target_id, season"),
        ("season scores", "INSERT INTO season_score (account_id, season, earned, reached_at) "
                          "SELECT target_id, season, earned, reached FROM scale_totals "
                          "ORDER BY target_id, season"),
        ("accounts", "INSERT INTO account (id, kind, code, name, balance, held, earned_total, "  # noqa: S608
                     f"{d.last_columns()}, created_at, person_id, company_id) "
                     "SELECT p.id, 'person', NULL, p.full_name, COALESCE(t.earned, 0), 0, "
                     f"COALESCE(t.earned, 0), {d.last_values('t.reached')}, p.created_at, "
                     "p.id, NULL "
                     "FROM person p LEFT JOIN (SELECT target_id, SUM(earned) AS earned, "
                     "MAX(reached) AS reached FROM scale_totals GROUP BY target_id) t "
                     "ON t.target_id = p.id"),
        ("issuance account", "INSERT INTO account (id, kind, code, name, balance, held, "  # noqa: S608
                             "earned_total, created_at) "
                             f"SELECT {issuance}, 'system', 'issuance', 'Points issued', "
                             "-COALESCE(SUM(earned), 0), 0, 0, "
                             f"{d.moment(str(created))} FROM scale_totals"),
        ("tidy", "DROP TABLE scale_totals"),
    ]


BOARD_TABLES = ("region", "company", "outlet", "person", "transfer", "season_score",
                "account")
BURN_TABLES = ("person", "transfer", "season_score", "hold", "account")


def _burn_amount(i: str) -> str:
    return f"(10 + ({i} * 7919) % 990)"


def _burn_kind(i: str) -> str:
    return f"({i} % 10)"


def burn_steps(d: Dialect, accounts: int, now: datetime) -> Steps:
    """``accounts`` players: one in ten earned within the last month (not due), one in ten
    has all its points held by an open bid (not due), one in ten never earned (nothing to
    burn); the rest earned once, 31 to 120 days ago (due; one in ten of them has half
    its points held, which stay). Balances, holds and totals aggregate the transfers and
    holds, as the ledger keeps them."""
    issuance, auction = accounts + 1, accounts + 2
    now_s = int(now.timestamp())
    created = now_s - 400 * 86400
    pre, src = d.numbers(accounts)
    days = (f"(CASE WHEN {_burn_kind('i')} = {ACTIVE} THEN 1 + i % 28 "
            "ELSE 31 + i % 90 END)")
    epoch = f"({now_s} - {days} * 86400 - i % 86400)"
    held = (f"(CASE WHEN {_burn_kind('i')} = {FULLY_HELD} THEN {_burn_amount('i')} "
            f"ELSE {_burn_amount('i')} / 2 END)")
    return [
        *standing_accounts(accounts + 2),
        ("people", f"{pre}INSERT INTO person (id, email, password_hash, full_name, "  # noqa: S608
                   "display_name, language, roles, is_active, created_at, outlet_id, "
                   "email_burn_warnings, email_news) "
                   f"SELECT i, 'idle-' || {d.padded('i', 7)} || '@scale.example.com', '!', "
                   f"'Idle Player ' || {d.padded('i', 7)}, 'Idle ' || {d.padded('i', 7)}, "
                   f"'en', 'player', TRUE, {d.moment(str(created))}, NULL, FALSE, FALSE "
                   f"FROM {src}"),
        ("earn transfers", f"{pre}INSERT INTO transfer (key, kind, amount, reason, "  # noqa: S608
                           "reference, season, created_at, created_by_id, source_id, "
                           "target_id) "
                           f"SELECT 'quiz:1:person:' || {d.padded('i', 7)}, 'earn', "
                           f"{_burn_amount('i')}, 'Quiz: Scale bench quiz', 'game:' || i, "
                           f"{d.month(epoch)}, "
                           f"{d.moment(epoch)}, NULL, {issuance}, i FROM {src} "
                           f"WHERE {_burn_kind('i')} <> {NEVER_EARNED}"),
        ("open holds", f"{pre}INSERT INTO hold (key, amount, reason, reference, status, "  # noqa: S608
                       "created_at, resolved_at, account_id, capture_id, target_id) "
                       f"SELECT 'bid:bench:' || i, {held}, 'Bid on the bench lot', "
                       f"'auction:bench', 'open', {d.moment(epoch)}, NULL, i, NULL, {auction} "
                       f"FROM {src} WHERE {_burn_kind('i')} IN ({FULLY_HELD}, {HALF_HELD})"),
        ("season scores", "INSERT INTO season_score (account_id, season, earned, reached_at) "
                          "SELECT target_id, season, SUM(amount), MAX(created_at) FROM transfer "
                          "WHERE kind = 'earn' GROUP BY target_id, season"),
        ("accounts", "INSERT INTO account (id, kind, code, name, balance, held, earned_total, "  # noqa: S608
                     f"{d.last_columns()}, created_at, person_id, company_id) "
                     "SELECT p.id, 'person', NULL, p.full_name, COALESCE(t.total, 0), "
                     f"COALESCE(h.total, 0), COALESCE(t.total, 0), {d.last_values('t.last')}, "
                     "p.created_at, p.id, NULL FROM person p "
                     "LEFT JOIN (SELECT target_id, SUM(amount) AS total, MAX(created_at) AS last "
                     "FROM transfer WHERE kind = 'earn' GROUP BY target_id) t "
                     "ON t.target_id = p.id "
                     "LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM hold "
                     "WHERE status = 'open' GROUP BY account_id) h ON h.account_id = p.id"),
        ("issuance account", "INSERT INTO account (id, kind, code, name, balance, held, "  # noqa: S608
                             "earned_total, created_at) "
                             f"SELECT {issuance}, 'system', 'issuance', 'Points issued', "
                             "-COALESCE(SUM(amount), 0), 0, 0, "
                             f"{d.moment(str(created))} FROM transfer"),
        ("auction account", "INSERT INTO account (id, kind, code, name, balance, held, "  # noqa: S608
                            f"earned_total, created_at) VALUES ({auction}, 'system', "
                            f"'auction:bench', 'Bench auction', 0, 0, 0, "
                            f"{d.moment(str(created))})"),
    ]


def load_sqlite(path: str, tables: Sequence[str], steps: Steps, tag: str) -> float:
    """Runs ``steps`` in one transaction on a fresh migrated file, its secondary indexes
    dropped meanwhile and rebuilt after (same definitions), its triggers too (the score
    counts are filled after, as migrations 0016, 0020 and 0022 fill them), then ANALYZE.
    Journal and fsync are off while loading: a failed load is thrown away anyway."""
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000",
                       "temp_store=MEMORY", "foreign_keys=OFF"):
            conn.execute(f"PRAGMA {pragma}")
        marks = ", ".join("?" * len(tables))
        indexes, triggers = (conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = ? "  # noqa: S608
            f"AND sql IS NOT NULL AND tbl_name IN ({marks})", [kind, *tables]).fetchall()
            for kind in ("index", "trigger"))
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        for what, sql in steps:
            with _step(tag, what):
                conn.execute(sql)
        with _step(tag, f"{len(indexes)} indexes rebuilt"):
            for _, sql in indexes:
                conn.execute(sql)
        with _step(tag, "score counts (migrations 0016, 0020 and 0022's backfills)"):
            for sql in count_backfill(postgres=False):
                conn.execute(sql)
            for _, sql in triggers:
                conn.execute(sql)
        conn.execute("COMMIT")
        with _step(tag, "ANALYZE"):
            conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return time.perf_counter() - started


@contextmanager
def _step(tag: str, what: str) -> Iterator[None]:
    began = time.perf_counter()
    yield
    _say(f"[{tag}] {what}: {time.perf_counter() - began:.1f} s")


async def load_postgres(dsn: str, tables: Sequence[str], steps: Steps, tag: str) -> float:
    """Runs ``steps`` on a fresh migrated database, the loaded tables' foreign keys and
    secondary indexes dropped meanwhile and made again after, their triggers off (the
    score counts are filled after, as migrations 0016, 0020 and 0022 fill them) (same
    definitions: the foreign keys are validated then), sequences moved past the ids used,
    VACUUM ANALYZE, the counts too (as autovacuum would, so index-only scans see an
    up-to-date visibility map)."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'; "
                           "SET TIME ZONE 'UTC'")
        names = list(tables)
        foreign = await conn.fetch(
            "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY($1)",
            names)
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY($1) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            names)
        for fk in foreign:
            await conn.execute(f'ALTER TABLE "{fk["tbl"]}" DROP CONSTRAINT "{fk["conname"]}"')
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        for table in names:
            await conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        for what, sql in steps:
            with _step(tag, what):
                await conn.execute(sql)
        with _step(tag, "score counts (migrations 0016, 0020 and 0022's backfills)"):
            for sql in count_backfill(postgres=True):
                await conn.execute(sql)
        for table in names:
            await conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        began = time.perf_counter()
        for index in indexes:
            await conn.execute(index["indexdef"])
        for fk in foreign:
            await conn.execute(f'ALTER TABLE "{fk["tbl"]}" ADD CONSTRAINT "{fk["conname"]}" '
                               f'{fk["def"]}')
        _say(f"[{tag}] {len(indexes)} indexes rebuilt, {len(foreign)} foreign keys "
             f"validated: {time.perf_counter() - began:.1f} s")
        for table in names:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) "  # noqa: S608
                f'FROM "{table}" HAVING MAX(id) IS NOT NULL')
        began = time.perf_counter()
        # The counts too: filled above, read as the scores are.
        await conn.execute("VACUUM (ANALYZE) "
                           + ", ".join(f'"{t}"' for t in (*names, *COUNT_TABLES)))
        _say(f"[{tag}] VACUUM ANALYZE: {time.perf_counter() - began:.1f} s")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def load(db: Scratch, tables: Sequence[str], steps: Steps, tag: str) -> float:
    if db.engine == "sqlite":
        return await asyncio.to_thread(load_sqlite, db.name, tables, steps, tag)
    return await load_postgres(db.dsn, tables, steps, tag)


# -- raw connections (the ceilings) -------------------------------------------------------------


class Raw:
    """A direct aiosqlite or asyncpg connection, with the portal's SQLite pragmas."""

    def __init__(self, db: Scratch) -> None:
        self.db = db
        self._sqlite: aiosqlite.Connection | None = None
        self._pg: asyncpg.Connection | None = None

    async def __aenter__(self) -> Raw:
        if self.db.engine == "sqlite":
            path, pragmas = sqlite_pragmas(self.db.url)
            self._sqlite = await aiosqlite.connect(path, isolation_level=None)
            for name, value in pragmas.items():
                await self._sqlite.execute(f"PRAGMA {name}={value}")
        else:
            self._pg = await asyncpg.connect(self.db.dsn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
        if self._pg is not None:
            await self._pg.close()

    def sql(self, text: str) -> str:
        """``?`` markers, numbered for PostgreSQL."""
        if self._pg is None:
            return text
        parts = text.split("?")
        return "".join(p + (f"${n}" if n < len(parts) else "")
                       for n, p in enumerate(parts, start=1))

    async def rows(self, text: str, *params: Any) -> list[tuple[Any, ...]]:
        if self._pg is not None:
            return [tuple(r) for r in await self._pg.fetch(self.sql(text), *params)]
        assert self._sqlite is not None
        async with self._sqlite.execute(text, params) as cursor:
            return [tuple(r) for r in await cursor.fetchall()]

    async def columns(self, table: str) -> set[str]:
        if self._pg is not None:
            return {str(r[0]) for r in await self._pg.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = $1", table)}
        return {str(r[1]) for r in await self.rows(f'PRAGMA table_info("{table}")')}

    async def value(self, text: str, *params: Any) -> Any:
        found = await self.rows(text, *params)
        return found[0][0] if found else None

    async def update_in_transaction(self, text: str, *params: Any) -> int:
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite, as the portal's); the
        number of rows it changed."""
        return (await self.write_in_transaction([(text, params)]))[0]

    async def write_in_transaction(self, statements: Sequence[tuple[str, Sequence[Any]]]
                                   ) -> list[int]:
        """Several statements in one write transaction; the rows each changed."""
        changed = []
        if self._pg is not None:
            async with self._pg.transaction():
                for text, params in statements:
                    status = await self._pg.execute(self.sql(text), *params)
                    changed.append(int(status.split()[-1]))
            return changed
        assert self._sqlite is not None
        await self._sqlite.execute("BEGIN IMMEDIATE")
        for text, params in statements:
            cursor = await self._sqlite.execute(text, params)
            changed.append(cursor.rowcount)
        await self._sqlite.execute("COMMIT")
        return changed

    async def plan(self, text: str, params: Sequence[Any]) -> list[str]:
        """The query plan: EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL."""
        if self._pg is not None:
            rows = await self._pg.fetch("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) "
                                        + text, *params)
            return [str(r[0]) for r in rows]
        assert self._sqlite is not None
        async with self._sqlite.execute("EXPLAIN QUERY PLAN " + text, params) as cursor:
            found = await cursor.fetchall()
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _, detail in found:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + str(detail))
        return lines


@asynccontextmanager
async def portal_orm(db: Scratch) -> AsyncIterator[None]:
    """Tortoise set up on ``db``, as the portal's processes set it up."""
    # Tortoise keeps each model's INSERT statement per connection name across init calls:
    # this process switches engines, so the SQLite ones must not be sent to PostgreSQL.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(db.url))
    try:
        yield
    finally:
        await Tortoise.close_connections()


# -- leaderboards --------------------------------------------------------------------------------


RAW_ORDER = "ORDER BY earned DESC, reached_at ASC, account_id ASC"
RAW_TOP = ("SELECT account_id, earned FROM season_score WHERE season = ? AND earned > 0 "
           "ORDER BY earned DESC, reached_at ASC, account_id ASC LIMIT 10")
RAW_PAGE = RAW_TOP.replace("LIMIT 10", "LIMIT 51")
# The rank: those with more points, plus those with as many who got there first; two index
# ranges. RAW_RANK_OR is the same count with one OR'd condition, as board() asks it.
RAW_RANK = ("SELECT (SELECT COUNT(*) FROM season_score WHERE season = ? AND earned > ?) + "
            "(SELECT COUNT(*) FROM season_score WHERE season = ? AND earned = ? AND "
            "(reached_at < ? OR (reached_at = ? AND account_id < ?)))")
RAW_RANK_OR = ("SELECT COUNT(*) FROM season_score WHERE season = ? AND earned > 0 AND "
               "(earned > ? OR (earned = ? AND (reached_at < ? OR (reached_at = ? "
               "AND account_id < ?))))")
# Five above and five below: on each side, at most five within the viewer's score and five
# beyond it (four index ranges), the nearest five of those ten kept.
_SIDE = ("SELECT * FROM (SELECT * FROM (SELECT account_id, earned, reached_at "
         "FROM season_score WHERE season = ? AND earned = ? AND (reached_at {tie} ? OR "
         "(reached_at = ? AND account_id {tie} ?)) ORDER BY reached_at {near}, "
         "account_id {near} LIMIT 5) AS same UNION ALL SELECT * FROM (SELECT account_id, "
         "earned, reached_at FROM season_score WHERE season = ? AND earned {score} ? "
         "AND earned > 0 ORDER BY earned {far}, reached_at {near}, account_id {near} "
         "LIMIT 5) AS beyond) AS side_{name} ORDER BY earned {far}, reached_at {near}, "
         "account_id {near} LIMIT 5")
RAW_AROUND = (
    "SELECT * FROM ("  # noqa: S608 (fixed fragments only)
    + _SIDE.format(name="above", tie="<", score=">", near="DESC", far="ASC")
    + ") AS above UNION ALL SELECT * FROM ("
    + _SIDE.format(name="below", tie=">", score="<", near="ASC", far="DESC") + ") AS below")


@dataclass
class Viewer:
    rank: int
    account_id: int
    person_id: int
    earned: int
    reached: Any
    email: str


@dataclass
class BoardTimes:
    viewer: Viewer
    raw_top: float
    raw_rank: float
    raw_rank_or: float
    raw_around: float
    raw_page: float
    whole: float
    parts: dict[str, float]  # median time per part (its queries summed)
    queries: dict[str, int]  # queries per part
    plans: list[tuple[str, list[str]]] = field(default_factory=list)

    def part(self, *names: str) -> float:
        return sum(self.parts.get(name, 0.0) for name in names)

    def count(self, *names: str) -> int:
        return sum(self.queries.get(name, 0) for name in names)

    @property
    def raw_best_rank(self) -> float:
        """Ceiling b: the faster of the two raw rank queries."""
        return min(self.raw_rank, self.raw_rank_or)


@dataclass
class BoardReport:
    engine: str
    season: str
    ranked: int
    load_s: float
    times: list[BoardTimes] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def pick_viewers(raw: Raw, season: str, ranks: Sequence[int]) -> list[Viewer]:
    found = []
    for rank in ranks:
        row = (await raw.rows(
            "SELECT s.account_id, a.person_id, s.earned, s.reached_at, p.email "  # noqa: S608
            "FROM (SELECT account_id, earned, reached_at FROM season_score "
            f"WHERE season = ? AND earned > 0 {RAW_ORDER} LIMIT 1 OFFSET ?) s "
            "JOIN account a ON a.id = s.account_id JOIN person p ON p.id = a.person_id",
            season, rank - 1))[0]
        found.append(Viewer(rank, int(row[0]), int(row[1]), int(row[2]), row[3], str(row[4])))
    return found


async def _median_time(work: Callable[[], Awaitable[object]], runs: int) -> float:
    await work()  # warm
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        await work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


@contextmanager
def timed_board_queries(log: list[tuple[str, list[Any], float]]) -> Iterator[None]:
    """Times each query ``board()`` sends through ``leaderboard.ranking._rows``."""
    original = boards._rows

    async def timed(conn: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        began = time.perf_counter()
        try:
            return await original(conn, sql, params)
        finally:
            log.append((sql, list(params), time.perf_counter() - began))

    setattr(boards, "_rows", timed)  # noqa: B010 (a module attribute, put back below)
    try:
        yield
    finally:
        setattr(boards, "_rows", original)  # noqa: B010


async def time_board(raw: Raw, viewer: Viewer, season: str, now: datetime, runs: int,
                     problems: list[str]) -> BoardTimes:
    person = await Person.get(id=viewer.person_id)
    score, tie, me = viewer.earned, viewer.reached, viewer.account_id
    rank_args = (season, score, season, score, tie, tie, me)
    or_args = (season, score, score, tie, tie, me)
    same = (season, score, tie, tie, me)
    around_args = (*same, season, score, *same, season, score)
    raw_top = await _median_time(lambda: raw.rows(RAW_TOP, season), runs)
    raw_rank = await _median_time(lambda: raw.rows(RAW_RANK, *rank_args), runs)
    raw_rank_or = await _median_time(lambda: raw.rows(RAW_RANK_OR, *or_args), runs)
    raw_around = await _median_time(lambda: raw.rows(RAW_AROUND, *around_args), runs)
    raw_page = await _median_time(lambda: raw.rows(RAW_PAGE, season), runs)
    for query, args in ((RAW_RANK, rank_args), (RAW_RANK_OR, or_args)):
        counted = int(await raw.value(query, *args))
        if counted + 1 != viewer.rank:
            problems.append(f"a raw rank query put #{viewer.rank:,} at #{counted + 1:,}")
    neighbours = len(await raw.rows(RAW_AROUND, *around_args))
    if neighbours != min(boards.NEIGHBOURS, viewer.rank - 1) + boards.NEIGHBOURS:
        problems.append(f"the raw neighbours query found {neighbours} around "
                        f"#{viewer.rank:,}")

    result = await boards.board(person, kind="season", season=season, now=now)
    _check_board(result, viewer, [r[0] for r in await raw.rows(RAW_TOP, season)], problems)
    whole: list[float] = []
    per_part: dict[str, list[float]] = {}
    captured: list[tuple[str, list[Any], float]] = []
    for _ in range(runs):
        captured = []
        with timed_board_queries(captured):
            began = time.perf_counter()
            await boards.board(person, kind="season", season=season, now=now)
            whole.append(time.perf_counter() - began)
        summed: dict[str, float] = {}
        for sql, _, seconds in captured:
            summed[board_part(sql)] = summed.get(board_part(sql), 0.0) + seconds
        for name, seconds in summed.items():
            per_part.setdefault(name, []).append(seconds)
    queries = {name: sum(board_part(sql) == name for sql, _, _ in captured)
               for name in per_part}
    times = BoardTimes(viewer, raw_top, raw_rank, raw_rank_or, raw_around, raw_page,
                       statistics.median(whole),
                       {name: statistics.median(t) for name, t in per_part.items()}, queries)
    times.plans = [("raw rank, two ranges (ceiling b)",
                    await raw.plan(raw.sql(RAW_RANK), rank_args)),
                   ("raw neighbours, four ranges (ceiling d)",
                    await raw.plan(raw.sql(RAW_AROUND), around_args))]
    seen: dict[str, int] = {}
    for sql, params, _ in captured:
        name = board_part(sql)
        seen[name] = seen.get(name, 0) + 1
        number = f" {seen[name]}/{queries[name]}" if queries[name] > 1 else ""
        times.plans.append((f"board(): {name}{number}", await raw.plan(sql, params)))
    return times


def board_part(sql: str) -> str:
    """Which part of the board a query of ``board()`` reads, told by its SQL: the one that
    reads the viewer's row first (``WITH me``) is their place (own score, rank and
    neighbours), an OFFSET the page, LIMIT 10 the top."""
    if sql.startswith("WITH "):
        return PLACE
    if "OFFSET" in sql:
        return PAGE
    if re.search(rf"LIMIT {boards.TOP}\b", sql):
        return TOP
    return OTHER


def _check_board(result: boards.Board, viewer: Viewer, raw_top: list[int],
                 problems: list[str]) -> None:
    where = f"board for #{viewer.rank:,}"
    if result.me is None or result.me.rank != viewer.rank:
        problems.append(f"{where}: the viewer is at "
                        f"{'nowhere' if result.me is None else '#' + str(result.me.rank)}")
    if [row.account_id for row in result.top] != raw_top:
        problems.append(f"{where}: the top 10 differs from the raw query's")
    above = min(boards.NEIGHBOURS, viewer.rank - 1)
    if len(result.around_me) != above + 1 + boards.NEIGHBOURS:
        problems.append(f"{where}: {len(result.around_me)} rows around the viewer")
    if len(result.page) != 50 or not result.has_more:
        problems.append(f"{where}: page 1 has {len(result.page)} rows")


async def measure_boards(db: Scratch, config: Config, load_s: float, now: datetime
                         ) -> BoardReport:
    season = season_of(now)
    report = BoardReport(db.engine, season, 0, load_s)
    async with portal_orm(db), Raw(db) as raw:
        report.ranked = int(await raw.value(
            "SELECT COUNT(*) FROM season_score WHERE season = ? AND earned > 0", season))
        # Goal 6's player at #500,000 of a million (half the players), when that many rank.
        half = config.players // 2
        middle = half if report.ranked >= half else max(1, report.ranked // 2)
        for viewer in await pick_viewers(raw, season, (1, middle)):
            _say(f"[{db.label}] board() for the player at #{viewer.rank:,}, "
                 f"{config.runs} runs ...")
            report.times.append(await time_board(raw, viewer, season, now, config.runs,
                                                 report.problems))
    return report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f}"


def _ratio(ratio: float) -> str:
    """As run.py's, with the digits a ratio far below 1 needs."""
    if ratio >= 0.01 or ratio == 0:
        return f"{ratio:.2f}"
    return f"{ratio:.4f}" if ratio >= 0.0001 else "<0.0001"


def board_table(report: BoardReport, config: Config) -> str:
    label = ENGINES[report.engine]
    head: list[str] = [f"season board, median of {config.runs} runs"]
    for t in report.times:
        head += [f"#{t.viewer.rank:,} ms", "vs raw"]
    rows: list[list[str]] = [head]

    def row(name: str, pick: Callable[[BoardTimes], tuple[float, float | None]]) -> None:
        cells = [name]
        for t in report.times:
            value, ceiling = pick(t)
            cells += [_ms(value), "-" if ceiling is None else _ratio(value and ceiling / value)]
        rows.append(cells)

    row("raw SQL: top 10 of season_score (ceiling a)", lambda t: (t.raw_top, t.raw_top))
    row("raw SQL: rank, COUNT(*) over two index ranges (b1)",
        lambda t: (t.raw_rank, t.raw_best_rank))
    row("raw SQL: rank, COUNT(*) with one OR (b2)", lambda t: (t.raw_rank_or, t.raw_best_rank))
    row("raw SQL: 5 above and 5 below, four index ranges (ceiling d)",
        lambda t: (t.raw_around, t.raw_around))
    row("raw SQL: page 1, 51 rows (ceiling c)", lambda t: (t.raw_page, t.raw_page))
    row("board(): top 10, names joined (vs a)", lambda t: (t.part(TOP), t.raw_top))
    row("board(): own score, rank (counts summed + ties), 5 above + 5 below, names joined, "
        f"{_queries(report, PLACE)} (vs b + d)",
        lambda t: (t.part(PLACE), t.raw_best_rank + t.raw_around))
    row("board(): page 1, 51 rows, names joined (vs c)", lambda t: (t.part(PAGE), t.raw_page))
    row(f"board(): the whole call, {_queries(report)} + its account (vs a + b + c + d)",
        lambda t: (t.whole, t.raw_top + t.raw_best_rank + t.raw_page + t.raw_around))
    return "\n".join([f"leaderboards at scale, {label}: {config.players:,} players, "
                      f"{config.entries:,} ledger entries, {report.ranked:,} ranked in season "
                      f"{report.season} (data generated in {report.load_s:.0f} s)",
                      bench._format(rows),
                      "  ceilings: raw SQL on season_score alone, on a direct connection; "
                      "b is the faster of b1 and b2;",
                      "  vs raw: the ceiling's time over the measured time (1.00 is as fast)",
                      *rank_goal(report)])


def rank_goal(report: BoardReport) -> list[str]:
    """Issue 14's goal 6: a rank with its neighbours, deep in the board, in at most twice
    the time of the top 10 (both as board() reads them, names joined)."""
    lines = []
    for t in report.times:
        own = t.part(PLACE)
        lines.append(f"  rank + neighbours at #{t.viewer.rank:,}: {_ms(own)} ms = "
                     f"{own / t.part(TOP):.2f} x the top 10 ({_ms(t.part(TOP))} ms; "
                     "goal: at most 2.00)" if t.part(TOP) else "")
    if len(report.times) > 1 and report.times[0].part(PLACE):
        first, deep = report.times[0], report.times[-1]
        ratio = deep.part(PLACE) / first.part(PLACE)
        lines.append(f"  rank + neighbours at #{deep.viewer.rank:,} = {ratio:.2f} x at "
                     f"#{first.viewer.rank:,}")
    return lines


def _queries(report: BoardReport, *names: str) -> str:
    """How many queries board() sent for these parts (all when none are named)."""
    found = {t.count(*names) if names else sum(t.queries.values()) for t in report.times}
    return "/".join(str(n) for n in sorted(found)) + (" query" if found == {1} else " queries")


def plans_text(report: BoardReport, *, full: bool) -> str:
    """What the plan of each query of the middle viewer's board reads; ``full``: with the
    plans themselves."""
    if not report.times:
        return ""
    times = report.times[-1]
    label = ENGINES[report.engine]
    how = "EXPLAIN QUERY PLAN" if report.engine == "sqlite" else "EXPLAIN ANALYZE"
    lines = [f"query plans, {label} ({how}), the board of #{times.viewer.rank:,}:"]
    for name, plan in times.plans:
        lines.append(f"  {name}: {index_verdict(report.engine, plan)}")
        if full:
            lines += [f"      {line}" for line in plan]
    return "\n".join(lines)


def index_verdict(engine: str, plan: Sequence[str]) -> str:
    """Which indexes a plan reads and which tables it scans whole; on PostgreSQL also how
    many rows its scans read (returned or dropped by a filter, over all loops), the
    figure that grows with the board when an index range is too wide."""
    text = "\n".join(plan)
    notes = []
    if engine == "sqlite":
        # SQLite's plan does not say how many rows a range reads: the timings do.
        derived = set(re.findall(r"(?:MATERIALIZE|CO-ROUTINE) (\w+)", text))
        used = re.findall(r"USING (?:COVERING )?INDEX (\w+)", text)
        notes += [f"full scan of {name}" for name in re.findall(
            r"^\s*SCAN (\w+)$", text, re.MULTILINE) if name not in derived]
    else:
        used = re.findall(r"(?:Index (?:Only )?Scan(?: Backward)? using|Bitmap Index Scan on) "
                          r"(\w+)", text)
        notes.append(f"reads {_rows_read(plan):,} rows")
        notes += [f"full scan of {name}" for name in re.findall(r"Seq Scan on (\w+)", text)]
    verdict = "indexes " + ", ".join(dict.fromkeys(used)) if used else "no index"
    return "; ".join([verdict, *notes])


def _rows_read(plan: Sequence[str]) -> int:
    """PostgreSQL EXPLAIN ANALYZE: the rows each scan node returned or its filter dropped,
    times its loops (both figures are per loop)."""
    total, loops = 0, 0
    for line in plan:
        node = re.search(r"\(actual rows=(\d+) loops=(\d+)\)", line)
        if node:
            scan = "Scan" in line and "Bitmap Index Scan" not in line
            loops = int(node.group(2)) if scan else 0
            total += int(node.group(1)) * loops
        elif removed := re.search(r"Rows Removed by Filter: (\d+)", line):
            total += int(removed.group(1)) * loops
    return total


# -- the page under load ---------------------------------------------------------------------


def measure_page(db: Scratch, viewer: Viewer, workdir: Path, config: Config,
                 problems: list[str]) -> tuple[bench.Result, bench.Result]:
    """The bare endpoint, then ``GET /leaderboard/season`` signed in as ``viewer``."""
    asyncio.run(_set_password(db, viewer))
    env = bench._portal_env(db.url)
    env["PORTAL_MEDIA_DIR"] = str(workdir / "media")
    log = workdir / "load.log"
    port = bench._free_port()
    bare = bench.Server("bare starlette", [sys.executable, "-m", "tests.bench.bare",
                                           "--host", bench.HOST, "--port", str(port)],
                        env, workdir / "bare.log", port, "/")
    warmup = max(config.warmup, PAGE_WARMUP)
    with bench.running(bare):
        ceiling = bench.measure(bench.Target("bare starlette", bare.base + "/"),
                                warmup=warmup, duration=config.duration,
                                connections=config.connections, loadgen=config.loadgen,
                                log=log)
    port = bench._free_port()
    portal = bench.Server("portal web", [str(bench.BIN / "portal"), "web", "--host",
                                         bench.HOST, "--port", str(port), "--no-access-log"],
                          env, workdir / "portal.log", port, "/health")
    with bench.running(portal):
        cookie = bench._sign_in_web(portal.base, email=viewer.email,
                                    password=VIEWER_PASSWORD)
        target = bench.Target(f"GET /leaderboard/season as #{viewer.rank:,}",
                              portal.base + "/leaderboard/season", [f"Cookie: {cookie}"])
        page = httpx.get(target.url, headers={"Cookie": cookie}, timeout=60.0)
        if f'class="me" value="{viewer.rank}"' not in page.text:
            problems.append(f"GET /leaderboard/season does not show the viewer at "
                            f"#{viewer.rank} (status {page.status_code})")
        result = bench.measure(target, warmup=warmup, duration=config.duration,
                               connections=config.connections, loadgen=config.loadgen,
                               log=log)
    return ceiling, result


async def _set_password(db: Scratch, viewer: Viewer) -> None:
    # At the portal's default cost, so the viewer's sign-in is not also a rehash.
    hasher = password_hasher(DEFAULT_PASSWORD_PROFILE)
    hashed = await asyncio.to_thread(hasher.hash, VIEWER_PASSWORD)
    async with Raw(db) as raw:
        changed = await raw.update_in_transaction(
            "UPDATE person SET password_hash = ? WHERE id = ?", hashed, viewer.person_id)
    if changed != 1:
        raise bench.BenchError(f"no person {viewer.person_id} to sign in as")


def page_table(ceiling: bench.Result, page: bench.Result, config: Config) -> str:
    rows = [("leaderboard page, SQLite at scale", "req/s", "p50 ms", "p99 ms", "vs ceiling"),
            ("bare starlette (ceiling)", f"{ceiling.rps:,.0f}", f"{ceiling.p50_ms:.1f}",
             f"{ceiling.p99_ms:.1f}", "1.00"),
            (page.target.label, f"{page.rps:,.1f}", f"{page.p50_ms:.1f}",
             f"{page.p99_ms:.1f}", _ratio(ceiling.rps and page.rps / ceiling.rps))]
    plural = "s" if config.connections != 1 else ""
    return (f"{bench._format(rows)}\n  {config.connections} connection{plural}, "
            f"{config.duration:.0f} s after {max(config.warmup, PAGE_WARMUP):.0f} s of "
            "warm-up; "
            f"{page.requests:,} pages")


# -- inactivity burns ----------------------------------------------------------------------------


def due_accounts(d: Dialect) -> str:
    """The accounts an inactivity burn takes points from, as the portal selects them."""
    return (f"kind = 'person' AND balance - held > 0 "
            f"AND COALESCE({d.activity}, created_at) <= ?")


def raw_burn(d: Dialect) -> str:
    """The floor: the same accounts' points gone in one statement (no transfers)."""
    return f"UPDATE account SET balance = held WHERE {due_accounts(d)}"  # noqa: S608


def raw_burn_writes(d: Dialect, cutoff: Any, now: Any, run: str, season: str,
                    ids: tuple[int, int] | None = None) -> list[tuple[str, list[Any]]]:
    """The ceiling: the writes burn_inactive makes (a transfer and a notice per due
    account, their balances, the burns account), as four set-based statements in one
    transaction; the count of transfers first. The rows are the portal's, byte for byte:
    each transfer's reason with its day, the reason's message and parameters, each
    notice's points and day (a shorter row would be a lower bar, not a fairer one).
    ``ids``: only the accounts with ids in (low, high], for the ceiling in chunks."""
    due = due_accounts(d) + ("" if ids is None else f" AND id > {ids[0]:d} AND id <= {ids[1]:d}")
    reason = ledger.burn_reason(SOME_DAY)
    some, params = SOME_DAY.isoformat(), json.dumps(reason.stored_params(),
                                                    separators=(",", ":"))
    if d.engine == "sqlite":
        day = f"substr(COALESCE({d.activity}, created_at), 1, 10)"
        stored, build = f"REPLACE(?, ?, {day})", "json_object"
    else:
        day = f"to_char(COALESCE({d.activity}, created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        stored, build = f"CAST(REPLACE(?, ?, {day}) AS jsonb)", "jsonb_build_object"
    return [
        ("INSERT INTO transfer (key, kind, source_id, target_id, amount, reason, "  # noqa: S608
         "reason_message, reason_params, reference, season, created_at) "
         "SELECT 'burn:' || id || ':' || ?, 'burn', id, "
         "(SELECT id FROM account WHERE code = 'burns'), balance - held, "
         f"REPLACE(?, ?, {day}), ?, {stored}, 'inactivity', ?, ? FROM account WHERE {due}",
         [run, reason.english(), some, reason.message, params, some, season, now, cutoff]),
        ("INSERT INTO notification (person_id, key, kind, params, created_at) "  # noqa: S608
         f"SELECT person_id, 'burned:burn:' || id || ':' || ?, 'burned', {build}('points', "
         f"balance - held, 'date', {day}), ? FROM account WHERE {due}", [run, now, cutoff]),
        ("UPDATE account SET balance = balance + (SELECT COALESCE(SUM(balance - held), 0) "  # noqa: S608
         f"FROM account WHERE {due}) WHERE code = 'burns'", [cutoff]),
        (f"UPDATE account SET balance = held WHERE {due}", [cutoff]),  # noqa: S608
    ]


@dataclass
class BurnRun:
    engine: str
    accounts: int
    due: int
    burned: int
    portal_s: float
    raw_s: float
    writes_s: float  # the same writes, set-based (raw_burn_writes) in one transaction
    chunks_s: float  # the same, a transaction per CEILING_CHUNK accounts
    checks: list[str] = field(default_factory=list)


def _cutoff_value(db: Scratch, cutoff: datetime) -> Any:
    """The cutoff as the portal's queries pass it (Tortoise's text on SQLite)."""
    return cutoff.isoformat(" ") if db.engine == "sqlite" else cutoff


async def measure_burn(db: Scratch, twin: Scratch, writes_twin: Scratch, chunks_twin: Scratch,
                       d: Dialect, accounts: int, now: datetime, *, invariants: bool
                       ) -> BurnRun:
    """``burn_inactive`` on ``db``, checked; then the raw UPDATE on ``twin``, its copy,
    and the same writes set-based on ``writes_twin``, another copy."""
    cutoff = _cutoff_value(db, now - timedelta(days=BURN_DAYS))
    due_sql = ("SELECT COUNT(*), COALESCE(SUM(balance - held), 0) FROM account "  # noqa: S608
               f"WHERE {due_accounts(d)}")
    total_sql = "SELECT COALESCE(SUM(balance), 0) FROM account WHERE kind = 'person'"
    async with Raw(db) as raw:
        due, due_points = (int(v) for v in (await raw.rows(due_sql, cutoff))[0])
        total_before = int(await raw.value(total_sql))
    checks: list[str] = []
    async with portal_orm(db):
        began = time.perf_counter()
        burned = await burns.burn_inactive(now, days=BURN_DAYS)
        portal_s = time.perf_counter() - began
        again = await burns.burn_inactive(now, days=BURN_DAYS)
        if again:
            checks.append(f"a second burn_inactive burned {again:,} more")
        if invariants:
            problems = await ledger.check_invariants()
            checks += [f"invariant: {p.account_name}: {p.message}" for p in problems[:5]]
            if len(problems) > 5:
                checks.append(f"... and {len(problems) - 5:,} more broken invariants")
    async with Raw(db) as raw:
        left = int((await raw.rows(due_sql, cutoff))[0][0])
        total_after = int(await raw.value(total_sql))
        overdrawn = int(await raw.value(
            "SELECT COUNT(*) FROM account WHERE kind = 'person' AND balance < held"))
        transfers = tuple(int(v) for v in (await raw.rows(
            "SELECT COUNT(*), COUNT(DISTINCT source_id), COALESCE(SUM(amount), 0) "
            "FROM transfer WHERE kind = 'burn'"))[0])
        notified = int(await raw.value(
            "SELECT COUNT(*) FROM notification WHERE kind = 'burned'"))
        sink = int(await raw.value("SELECT balance FROM account WHERE code = 'burns'") or 0)
    if burned != due:
        checks.append(f"burn_inactive reported {burned:,} burned, {due:,} were due")
    if left:
        checks.append(f"{left:,} due accounts still have points available")
    if overdrawn:
        checks.append(f"{overdrawn:,} accounts hold more than their balance")
    if transfers != (due, due, due_points):
        checks.append(f"burn transfers (count, accounts, points) = {transfers}, expected "
                      f"{(due, due, due_points)}: one per due account")
    if total_after != total_before - due_points:
        checks.append(f"the players' balances fell by {total_before - total_after:,}, "
                      f"{due_points:,} were due to burn")
    if notified != due:
        checks.append(f"{notified:,} 'burned' notifications for {due:,} burns")
    if sink != due_points:
        checks.append(f"the burns account holds {sink:,}, {due_points:,} were burned")
    async with Raw(twin) as raw:
        began = time.perf_counter()
        changed = await raw.update_in_transaction(raw_burn(d), cutoff)
        raw_s = time.perf_counter() - began
    if changed != due:
        checks.append(f"the raw UPDATE changed {changed:,} rows, {due:,} were due")
    run = burns.last_burn_run(now).strftime("%Y-%m-%dT%H:%MZ")
    async with Raw(writes_twin) as raw:
        began = time.perf_counter()
        changes = await raw.write_in_transaction(raw_burn_writes(
            d, cutoff, _cutoff_value(db, now), run, season_of(now)))
        writes_s = time.perf_counter() - began
    if changes[0] != due:
        checks.append(f"the set-based writes made {changes[0]:,} transfers, {due:,} were due")
    async with Raw(chunks_twin) as raw:
        top = int(await raw.value("SELECT MAX(id) FROM account"))
        began = time.perf_counter()
        made = 0
        for low in range(0, top, CEILING_CHUNK):
            made += (await raw.write_in_transaction(raw_burn_writes(
                d, cutoff, _cutoff_value(db, now), run, season_of(now),
                ids=(low, low + CEILING_CHUNK))))[0]
        chunks_s = time.perf_counter() - began
    if made != due:
        checks.append(f"the set-based writes in chunks made {made:,} transfers, {due:,} "
                      "were due")
    rows = [await _burn_rows(twin) for twin in (db, writes_twin, chunks_twin)]
    if rows[0] != rows[1] or rows[0] != rows[2]:
        checks.append(f"the set-based writes wrote other rows than the portal: {rows[0]} "
                      f"against {rows[1]} and {rows[2]}")
    return BurnRun(db.engine, accounts, due, burned, portal_s, raw_s, writes_s, chunks_s,
                   [f"{ENGINES[db.engine]}, {accounts:,} accounts: {c}" for c in checks])


async def _burn_rows(db: Scratch) -> list[tuple[Any, ...]]:
    """A few burns' transfers and notices as written, to compare the portal's and the
    ceiling's (the same rows, or the ratio compares different work)."""
    async with Raw(db) as raw:
        return await raw.rows(
            "SELECT t.key, t.amount, t.reason, t.reason_message, "
            "CAST(t.reason_params AS TEXT), t.reference, t.season, n.kind, "
            "CAST(n.params AS TEXT) FROM transfer t JOIN notification n "
            "ON n.key = 'burned:' || t.key WHERE t.kind = 'burn' ORDER BY t.source_id LIMIT 3")


def burn_table(runs: list[BurnRun]) -> str:
    rows = [("inactivity burn, burn_inactive(days=30)", "accounts", "due", "portal s",
             "writes s (one tx)", "writes s (chunks)", "portal / writes", "raw UPDATE s",
             "µs per burn")]
    for r in runs:
        best = min(r.writes_s, r.chunks_s)
        rows.append((ENGINES[r.engine], f"{r.accounts:,}", f"{r.due:,}", f"{r.portal_s:,.2f}",
                     f"{r.writes_s:,.2f}", f"{r.chunks_s:,.2f}",
                     f"{r.portal_s / best:.2f}" if best else "-",
                     f"{r.raw_s:,.3f}",
                     f"{r.portal_s / r.due * 1e6:,.0f}" if r.due else "-"))
    lines = [bench._format(rows)]
    for engine in dict.fromkeys(r.engine for r in runs):
        mine = sorted((r for r in runs if r.engine == engine), key=lambda r: r.accounts)
        if len(mine) < 2:
            continue
        small, large = mine[0], mine[-1]
        size = large.accounts / small.accounts
        portal = large.portal_s / small.portal_s if small.portal_s else 0.0
        raw = large.raw_s / small.raw_s if small.raw_s else 0.0
        lines.append(f"  {ENGINES[engine]}, {small.accounts:,} -> {large.accounts:,} "
                     f"accounts (x{size:g}): burn_inactive x{portal:.1f} "
                     f"({_growth(portal, size)}), raw UPDATE x{raw:.1f} "
                     f"({_growth(raw, size)})")
    lines.append("  set-based writes: the same transfers, notices and balances (the same "
                 "rows, checked) as four statements in one transaction on a copy, and as the "
                 f"same four per {CEILING_CHUNK:,} account ids, a transaction each, on "
                 "another (one transaction that large outgrows SQLite's page cache); goal: "
                 "portal / the faster of the two at most 1.50. raw UPDATE: the balances "
                 "alone, one statement on a third copy")
    return "\n".join(lines)


def _growth(factor: float, size: float) -> str:
    ratio = factor / size
    if ratio > 1.5:
        return "worse than linear"
    if ratio < 0.67:
        return "better than linear"
    return "linear"


# -- the sections --------------------------------------------------------------------------------


@dataclass
class Outcome:
    tables: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def _create_and_load(dbs: Sequence[Scratch], tables: Sequence[str],
                           steps: Callable[[Dialect], Steps]
                           ) -> dict[str, tuple[Dialect, float]]:
    """Migrates each database (one at a time: Tortoise's set-up is global), then loads
    them all at once; each one's dialect and load time, by engine."""
    dialects = []
    for db in dbs:
        await create(db)
        async with Raw(db) as raw:
            dialects.append(Dialect(db.engine, "last_active_at" in await raw.columns("account")))
    times = await asyncio.gather(*(load(db, tables, steps(d), db.label)
                                   for db, d in zip(dbs, dialects, strict=True)))
    return {db.engine: (d, seconds)
            for db, d, seconds in zip(dbs, dialects, times, strict=True)}


class Scratches:
    """The scratch databases made so far: each dropped when done with, all in the end."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.made: list[Scratch] = []

    def add(self, *dbs: Scratch) -> None:
        self.made += dbs

    def done(self, *dbs: Scratch) -> None:
        for db in dbs:
            if not self.keep and db in self.made:
                self.made.remove(db)
                asyncio.run(drop(db))

    def close(self) -> None:
        if self.keep:
            if self.made:
                print("kept: " + ", ".join(db.name for db in self.made), flush=True)
            return
        for db in list(self.made):
            try:
                self.done(db)
            except (OSError, asyncpg.PostgresError) as exc:
                print(f"  could not drop the scratch database {db.name}: {exc}",
                      file=sys.stderr)


def board_moment(config: Config, clock: datetime) -> datetime:
    """When the board is read (and its month's earnings end): ``month_hours`` into the
    clock's month, whatever day the bench runs on, so that the 1st and the 20th measure
    the same board."""
    if config.month_hours > 27 * 24:
        raise bench.BenchError("PORTAL_BENCH_SCALE_MONTH_HOURS must stay within a month's "
                               "first 27 days (648 hours)")
    return _month_start(clock) + timedelta(hours=config.month_hours)


def leaderboard_section(config: Config, workdir: Path, scratches: Scratches,
                        outcome: Outcome) -> None:
    now = board_moment(config, datetime.now(UTC))
    dbs = [scratch(engine, "board", workdir, config.postgres_url) for engine in config.engines]
    scratches.add(*dbs)
    print(f"leaderboards at scale: generating {config.players:,} players and "
          f"{config.entries:,} ledger entries in {', '.join(db.label for db in dbs)} ...",
          flush=True)
    loaded = asyncio.run(_create_and_load(
        dbs, BOARD_TABLES, lambda d: board_steps(d, config.players, config.entries, now)))
    middle: Viewer | None = None
    for db in dbs:
        report = asyncio.run(measure_boards(db, config, loaded[db.engine][1], now))
        outcome.tables += [board_table(report, config),
                           plans_text(report, full=config.full_plans)]
        outcome.failures += [f"{db.label} leaderboard: {p}" for p in report.problems]
        if db.engine == "sqlite" and report.times:
            middle = report.times[-1].viewer
        if db.engine != "sqlite":
            scratches.done(db)
    sqlite_db = next((db for db in dbs if db.engine == "sqlite"), None)
    if sqlite_db is not None and middle is not None:
        print(f"leaderboard page: portal web on the {config.players:,}-player SQLite "
              f"database, signed in as #{middle.rank:,} ...", flush=True)
        problems: list[str] = []
        try:
            ceiling, page = measure_page(sqlite_db, middle, workdir, config, problems)
        except bench.BenchError as exc:
            outcome.failures.append(f"leaderboard page: {exc}")
        else:
            outcome.tables.append(page_table(ceiling, page, config))
            outcome.failures += [f"{r.target.label}: {p}" for r in (ceiling, page)
                                 for p in r.problems]
        outcome.failures += [f"leaderboard page: {p}" for p in problems]
        scratches.done(sqlite_db)


def burn_section(config: Config, workdir: Path, scratches: Scratches,
                 outcome: Outcome) -> None:
    runs: list[BurnRun] = []
    try:
        for size in config.burn_sizes:
            now = datetime.now(UTC)
            dbs = [scratch(engine, f"burn_{size}", workdir, config.postgres_url)
                   for engine in config.engines]
            scratches.add(*dbs)
            print(f"inactivity burn: generating {size:,} accounts in "
                  f"{', '.join(db.label for db in dbs)} ...", flush=True)

            def steps(d: Dialect, size: int = size, now: datetime = now) -> Steps:
                return burn_steps(d, size, now)

            loaded = asyncio.run(_create_and_load(dbs, BURN_TABLES, steps))
            for db in dbs:
                twin = asyncio.run(copy(db, f"burn_{size}_raw", workdir))
                writes_twin = asyncio.run(copy(db, f"burn_{size}_writes", workdir))
                chunks_twin = asyncio.run(copy(db, f"burn_{size}_chunks", workdir))
                scratches.add(twin, writes_twin, chunks_twin)
                _say(f"[{db.label}] burn_inactive over {size:,} accounts, then the raw "
                     "UPDATE on a copy ...")
                dialect = loaded[db.engine][0]
                run = asyncio.run(measure_burn(db, twin, writes_twin, chunks_twin, dialect,
                                               size, now,
                                               invariants=size == config.burn_sizes[0]))
                runs.append(run)
                outcome.failures += run.checks
                scratches.done(db, twin, writes_twin, chunks_twin)
    finally:
        if runs:
            outcome.tables.append(burn_table(runs))


def run_sections(config: Config, workdir: Path, outcome: Outcome, *, only: str | None = None,
                 keep: bool = False) -> None:
    """Runs the sections into ``outcome`` (what was measured stays there if one fails)."""
    if not config.engines:
        outcome.tables.append("leaderboards and burns at scale: skipped "
                              "(PORTAL_BENCH_SCALE_DATABASES=none)")
        return
    if "postgres" in config.engines:
        asyncio.run(check_postgres(config.postgres_url))
    scratches = Scratches(keep)
    try:
        if only in (None, "leaderboards"):
            leaderboard_section(config, workdir, scratches, outcome)
        if only in (None, "burns"):
            burn_section(config, workdir, scratches, outcome)
    finally:
        scratches.close()


def _on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: servers and databases go


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, help="for the SQLite files and the logs "
                        "(default: a new temporary directory, removed after a good run)")
    parser.add_argument("--result", type=Path, help="write the tables and failures there "
                        "as JSON instead of printing them (tests/bench/run.py reads it)")
    parser.add_argument("--only", choices=("leaderboards", "burns"),
                        help="run one of the two sections")
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated databases (to look into them)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="portal-bench-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    outcome = Outcome()
    try:
        config = config_from_env()
        run_sections(config, workdir, outcome, only=args.only, keep=args.keep)
    except bench.BenchError as exc:
        outcome.failures.append(f"scale bench failed: {exc}")
    seconds = time.perf_counter() - started
    outcome.tables.append(f"(leaderboards and burns at scale took {seconds:.0f} s)")
    if args.result is not None:
        args.result.write_text(json.dumps({"tables": outcome.tables,
                                           "failures": outcome.failures,
                                           "seconds": seconds}))
    else:
        for table in outcome.tables:
            print(f"\n{table}")
        for failure in outcome.failures:
            print(f"FAILED {failure}", file=sys.stderr)
        if outcome.failures:
            print(f"(logs kept in {workdir})", file=sys.stderr)
        elif args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
