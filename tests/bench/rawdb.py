"""Raw database ceilings: what the portal's database does with no portal in the way.

``python -m tests.bench.rawdb DATABASE_URL`` measures, from this one process, on scratch
tables shaped like ``answer`` and ``question`` that it creates and drops again:

* single-row INSERTs per second, each its own committed transaction (``BEGIN IMMEDIATE``
  on SQLite, as the portal's ``write_transaction``): the ceiling of answer submission,
  which must commit every answer before it responds;
* one INSERT of N rows (500) in one transaction: the ceiling of publishing a pack.

SQLite is opened with the pragmas the portal's connections get (Tortoise's defaults plus
the URL parameters ``portal.db.tortoise_config`` adds: WAL, ``synchronous=FULL``, the busy
timeout), with the standard library's ``sqlite3``; PostgreSQL with ``asyncpg``. It prints
``BENCH_RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from portal.db import tortoise_config
from tests.bench.packs import question_document

# Scratch tables shaped like ``answer`` and ``question``; the names are written out in the
# statements below (bench_raw_answer, bench_raw_question).
INSERT_ANSWER = ("INSERT INTO bench_raw_answer (game_id, question_id, chosen, answered_at, "
                 "elapsed_ms, correct, points) VALUES ({})")
INSERT_QUESTION = ("INSERT INTO bench_raw_question (quiz_id, slug, position, type, text, "
                   "image, choices, explanation) VALUES ({})")
DROP = "DROP TABLE IF EXISTS bench_raw_answer, bench_raw_question"
# Tortoise's SQLite client sets these on every connection unless the URL says otherwise.
TORTOISE_SQLITE_PRAGMAS = {"journal_mode": "WAL", "journal_size_limit": "16384",
                           "foreign_keys": "ON"}


@dataclass
class Ceilings:
    engine: str
    pragmas: dict[str, str]
    commits: int
    seconds: float
    p50_us: int
    p99_us: int
    bulk_rows: int
    bulk_s: list[float]


def sqlite_pragmas(database_url: str) -> tuple[str, dict[str, str]]:
    """The file and the pragmas of the portal's own connections to this SQLite URL."""
    url = tortoise_config(database_url)["connections"]["default"]
    path = url.removeprefix("sqlite://").split("?")[0]
    return path, TORTOISE_SQLITE_PRAGMAS | dict(parse_qsl(urlsplit(url).query))


def _question_rows(rows: int, batch: int) -> list[tuple[Any, ...]]:
    """Rows shaped like the ``question`` rows publishing writes: 100 per quiz, texts and
    choices as JSON. Each batch gets quizzes of its own."""
    found = []
    for index in range(rows):
        quiz = index // 100 + 1
        doc = question_document(quiz, index % 100)
        found.append((batch * 1000 + quiz, doc["id"], index, doc["type"],
                      json.dumps(doc["text"]), None, json.dumps(doc.get("choices") or []),
                      json.dumps(doc["explanation"])))
    return found


def _percentile(values: list[int], p: float) -> int:
    ordered = sorted(values) or [0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def measure_sqlite(database_url: str, seconds: float, rows: int, repeats: int) -> Ceilings:
    path, pragmas = sqlite_pragmas(database_url)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for name, value in pragmas.items():
            conn.execute(f"PRAGMA {name}={value}")
        conn.execute("DROP TABLE IF EXISTS bench_raw_answer")
        conn.execute("DROP TABLE IF EXISTS bench_raw_question")
        conn.execute("""CREATE TABLE bench_raw_answer (
            id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, game_id INT NOT NULL,
            question_id INT NOT NULL, chosen JSON NOT NULL, answered_at TIMESTAMP NOT NULL,
            elapsed_ms INT NOT NULL, correct INT NOT NULL, points INT NOT NULL,
            UNIQUE (game_id, question_id))""")
        conn.execute("""CREATE TABLE bench_raw_question (
            id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, quiz_id INT NOT NULL,
            slug VARCHAR(60) NOT NULL, position INT NOT NULL, type VARCHAR(16) NOT NULL,
            text JSON NOT NULL, image VARCHAR(255), choices JSON NOT NULL, explanation JSON,
            UNIQUE (quiz_id, slug))""")
        insert = INSERT_ANSWER.format(", ".join("?" * 7))
        latencies: list[int] = []
        started = time.perf_counter()
        deadline = started + seconds
        while (now := time.perf_counter()) < deadline:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(insert, (len(latencies), 1, "[0]", datetime.now(UTC).isoformat(),
                                  1234, 1, 87))
            conn.execute("COMMIT")
            latencies.append(int((time.perf_counter() - now) * 1e6))
        elapsed = time.perf_counter() - started

        bulk: list[float] = []
        for repeat in range(repeats):
            batch = _question_rows(rows, repeat)
            began = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT_QUESTION.format(", ".join("?" * 8)), batch)
            conn.execute("COMMIT")
            bulk.append(time.perf_counter() - began)
        conn.execute("DROP TABLE bench_raw_answer")
        conn.execute("DROP TABLE bench_raw_question")
    finally:
        conn.close()
    return Ceilings("sqlite", pragmas, len(latencies), elapsed, _percentile(latencies, 50),
                    _percentile(latencies, 99), rows, bulk)


async def measure_postgres(database_url: str, seconds: float, rows: int,
                           repeats: int) -> Ceilings:
    import asyncpg

    parts = urlsplit(database_url)
    dsn = parts._replace(scheme="postgres", query="").geturl()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(DROP)
        await conn.execute("""CREATE TABLE bench_raw_answer (
            id BIGSERIAL PRIMARY KEY, game_id INT NOT NULL, question_id INT NOT NULL,
            chosen JSONB NOT NULL, answered_at TIMESTAMPTZ NOT NULL, elapsed_ms INT NOT NULL,
            correct BOOL NOT NULL, points INT NOT NULL, UNIQUE (game_id, question_id))""")
        await conn.execute("""CREATE TABLE bench_raw_question (
            id SERIAL PRIMARY KEY, quiz_id INT NOT NULL, slug VARCHAR(60) NOT NULL,
            position INT NOT NULL, type VARCHAR(16) NOT NULL, text JSONB NOT NULL,
            image VARCHAR(255), choices JSONB NOT NULL, explanation JSONB,
            UNIQUE (quiz_id, slug))""")
        insert = INSERT_ANSWER.format(", ".join(f"${n}" for n in range(1, 8)))
        latencies: list[int] = []
        started = time.perf_counter()
        deadline = started + seconds
        while (now := time.perf_counter()) < deadline:
            async with conn.transaction():
                await conn.execute(insert, len(latencies), 1, "[0]", datetime.now(UTC),
                                   1234, True, 87)
            latencies.append(int((time.perf_counter() - now) * 1e6))
        elapsed = time.perf_counter() - started

        bulk: list[float] = []
        for repeat in range(repeats):
            batch = _question_rows(rows, repeat)
            began = time.perf_counter()
            async with conn.transaction():
                await conn.executemany(
                    INSERT_QUESTION.format(", ".join(f"${n}" for n in range(1, 9))), batch)
            bulk.append(time.perf_counter() - began)
        await conn.execute(DROP)
    finally:
        await conn.close()
    return Ceilings("postgres", {}, len(latencies), elapsed, _percentile(latencies, 50),
                    _percentile(latencies, 99), rows, bulk)


def measure(database_url: str, *, seconds: float, rows: int, repeats: int) -> Ceilings:
    if database_url.startswith("sqlite:"):
        return measure_sqlite(database_url, seconds, rows, repeats)
    return asyncio.run(measure_postgres(database_url, seconds, rows, repeats))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.rawdb", description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    found = measure(args.database_url, seconds=args.seconds, rows=args.rows,
                    repeats=args.repeats)
    print("BENCH_RESULT " + json.dumps(asdict(found)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
