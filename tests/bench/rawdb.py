"""Raw database ceilings: what the portal's database does with no portal in the way.

``python -m tests.bench.rawdb DATABASE_URL`` measures, from this one process, on scratch
tables shaped like ``answer`` and ``question`` that it creates and drops again:

* single-row INSERTs per second, each its own committed transaction (``BEGIN IMMEDIATE``
  on SQLite, as the portal's ``write_transaction``): the ceiling of answer submission,
  which must commit every answer before it responds;
* one INSERT of N rows (500) in one transaction: the ceiling of publishing a pack.

``python -m tests.bench.rawdb DATABASE_URL --twin-port N`` serves instead the raw twin of
the game's question and answer (goal 1 of issue 14): ``GET`` and ``POST`` on the portal's
own paths (``/api/v1/play/games/{id}/question`` and ``.../answer``, bearer tokens the
portal issued), a bare Starlette app on the raw driver (aiosqlite with the portal's
pragmas, or an asyncpg pool the size of Tortoise's: ``tests.bench.bare.Db``) answering the
same JSON from the least SQL the game needs: one statement reading the session, the
person, the game, its quiz and pack, the question and any answer already given; for a
question shown the first time, its clock's write committed without waiting for the disk
(as ``portal.play.gamesql.show`` does); for an answer, one transaction with the guarded
step of the game and the answer's row (on the last question, the game's end too, but no
award: the twin has no ledger). The game driver (``tests/bench/game.py --twin``) plays it
exactly as it plays the portal.

SQLite is opened with the pragmas the portal's connections get (Tortoise's defaults plus
the URL parameters ``portal.db.tortoise_config`` adds: WAL, ``synchronous=FULL``, the busy
timeout), with the standard library's ``sqlite3``; PostgreSQL with ``asyncpg``. It prints
``BENCH_RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from portal.content.service import localized
from portal.db import tortoise_config
from portal.play.scoring import answer_grace_ms, answer_points, in_time, is_survey
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


# -- the raw twin of the game's question and answer -----------------------------------------

GRACE_SECONDS = 2  # the portal's default PORTAL_ANSWER_GRACE_SECONDS
_TWIN_READ = """SELECT s.expires_at, s.last_seen_at, p.is_active, p.language, p.roles,
 g.id, g.status, g.question_order, g.choice_order, g.current, g.sent_at, g.deadline,
 g.correct, g.points, z.title AS quiz_title, z.time_limit, z.base_points, z.scoring,
 pk.default_language, q.id AS question_id, q.type, q.text, q.image, q.choices,
 q.explanation{answer_columns}
FROM session s JOIN person p ON p.id = s.person_id
JOIN game g ON g.person_id = p.id AND g.id = ?
JOIN quiz z ON z.id = g.quiz_id JOIN pack pk ON pk.id = z.pack_id
LEFT JOIN question q ON q.id = {question}{answer_join}
WHERE s.id_hash = ? AND s.kind = 'api'"""
_TWIN_CURRENT = {False: "json_extract(g.question_order, '$[' || g.current || ']')",
                 True: "(g.question_order ->> g.current)::int"}
_TWIN_SHOW = "UPDATE game SET sent_at = ? WHERE id = ? AND current = ? AND sent_at IS NULL"
_TWIN_STEP = ("UPDATE game SET current = current + 1, sent_at = NULL, "
              "correct = correct + ?, points = points + ?, status = ?, finished_at = ? "
              "WHERE id = ? AND current = ? AND status = 'active' AND deadline > ?")
_TWIN_INSERT = ("INSERT INTO answer (game_id, question_id, chosen, answered_at, elapsed_ms, "
                "correct, points) VALUES (?, ?, ?, ?, ?, ?, ?)")


def _twin_show_sqlite(db: sqlite3.Connection, values: tuple[Any, ...]) -> int:
    level = db.execute("PRAGMA synchronous").fetchone()[0]
    db.execute("PRAGMA synchronous=NORMAL")
    try:
        db.execute("BEGIN IMMEDIATE")
        moved = db.execute(_TWIN_SHOW, values).rowcount
        db.execute("COMMIT")
    finally:
        db.execute(f"PRAGMA synchronous={int(level)}")
    return int(moved)


def _twin_answer_sqlite(db: sqlite3.Connection, step: tuple[Any, ...],
                        row: tuple[Any, ...]) -> bool:
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute(_TWIN_STEP, step).rowcount != 1:
            db.execute("ROLLBACK")
            return False
        db.execute(_TWIN_INSERT, row)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return True


def _dt(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class GameTwin:
    """The question and the answer from the least SQL, on the raw driver."""

    def __init__(self, db: Any) -> None:
        self.db = db

    async def _read(self, request: Request, question_id: int | None
                    ) -> dict[str, Any] | Response:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token or len(token) > 100:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        answer = question_id is not None
        sql = _TWIN_READ.format(
            question="?" if answer else _TWIN_CURRENT[self.db.postgres],
            answer_columns=(", a.chosen, a.elapsed_ms, a.correct AS answer_correct, "
                            "a.points AS answer_points") if answer else "",
            answer_join=(" LEFT JOIN answer a ON a.game_id = g.id AND a.question_id = q.id"
                         if answer else ""))
        args = [question_id] if answer else []
        rows = await self._fetch(sql, request.path_params["game_id"], args, token)
        if not rows:
            return JSONResponse({"error": "not found"}, status_code=404)
        row = rows[0]
        now = datetime.now(UTC)
        if (_dt(row["expires_at"]) <= now or not row["is_active"]
                or "player" not in row["roles"].split(",")):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return row

    async def _fetch(self, sql: str, game_id: int, args: list[Any], token: str
                     ) -> list[dict[str, Any]]:
        digest = hashlib.sha256(token.encode()).hexdigest()
        # The marks in the text's order: the game's, the question's (answers only), the
        # token's. On PostgreSQL they are numbered in that order too.
        return list(await self.db.fetch(sql, game_id, *args, digest))

    def _shown(self, row: dict[str, Any], remaining: float) -> dict[str, Any]:
        language, default = row["language"], row["default_language"]
        order = _json(row["question_order"])
        choices = _json(row["choices"])
        positions = _json(row["choice_order"])[str(row["question_id"])]
        return {"game_id": row["id"], "quiz_title": localized(_json(row["quiz_title"]),
                                                              language, default),
                "number": order.index(row["question_id"]) + 1, "total": len(order),
                "question_id": row["question_id"], "type": row["type"],
                "text": localized(_json(row["text"]), language, default),
                "image": row["image"],
                "choices": [{"position": position,
                             "text": localized(choices[authored]["text"], language, default)}
                            for position, authored in enumerate(positions)],
                "time_limit": row["time_limit"], "remaining": max(0.0, remaining),
                "points_so_far": row["points"]}

    async def question(self, request: Request) -> Response:
        found = await self._read(request, None)
        if isinstance(found, Response):
            return found
        row, now = found, datetime.now(UTC)
        if (row["status"] != "active" or _dt(row["deadline"]) <= now
                or row["question_id"] is None):
            return Response(status_code=204)
        if row["sent_at"] is None:
            await self._show(row["id"], row["current"], now)
            sent_at = now
        else:
            sent_at = _dt(row["sent_at"])
        remaining = row["time_limit"] - (now - sent_at).total_seconds()
        return JSONResponse(self._shown(row, remaining))

    async def _show(self, game_id: int, current: int, now: datetime) -> None:
        if not self.db.postgres:
            conn = self.db.conn
            await conn._execute(_twin_show_sqlite, conn._conn,
                                (now.isoformat(" "), game_id, current))
            return
        async with self.db.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit TO OFF")
            await conn.execute(self.db._sql(_TWIN_SHOW), now, game_id, current)

    async def answer(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            question_id, positions = int(body["question_id"]), list(body["choices"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "invalid body"}, status_code=422)
        found = await self._read(request, question_id)
        if isinstance(found, Response):
            return found
        row, now = found, datetime.now(UTC)
        if row["question_id"] is None:
            return JSONResponse({"error": "not your question"}, status_code=409)
        order = _json(row["choice_order"])[str(question_id)]
        choices = _json(row["choices"])
        grace = answer_grace_ms(row["time_limit"], at_most_seconds=GRACE_SECONDS)
        if row["chosen"] is not None:
            chosen, correct = _json(row["chosen"]), bool(row["answer_correct"])
            points, finished = row["answer_points"], row["status"] != "active"
        else:
            questions = _json(row["question_order"])
            if (row["status"] != "active" or row["sent_at"] is None
                    or questions[row["current"]] != question_id
                    or any(p not in range(len(order)) for p in positions)):
                return JSONResponse({"error": "not your question"}, status_code=409)
            chosen = sorted(order[p] for p in positions)
            right = sorted(i for i, c in enumerate(choices) if c["correct"])
            elapsed = (now - _dt(row["sent_at"])) // timedelta(milliseconds=1)
            correct = (not is_survey(row["scoring"]) and chosen == right and bool(chosen)
                       and in_time(elapsed, time_limit=row["time_limit"], grace_ms=grace))
            points = answer_points(correct=correct, elapsed_ms=elapsed,
                                   time_limit=row["time_limit"],
                                   base_points=row["base_points"], grace_ms=grace,
                                   scoring=row["scoring"])
            finished = row["current"] + 1 == len(questions)
            if not await self._answer(row, question_id, chosen, elapsed, correct, points,
                                      finished, now):
                return JSONResponse({"error": "game over"}, status_code=409)
        return JSONResponse({
            "game_id": row["id"], "question_id": question_id, "correct": correct,
            "timed_out": not chosen,
            "outcome": ("timed_out" if not chosen else "correct" if correct else "wrong"),
            "points": points,
            "correct_positions": [p for p, a in enumerate(order) if choices[a]["correct"]],
            "chosen_positions": [p for p, a in enumerate(order) if a in chosen],
            "explanation": localized(_json(row["explanation"]), row["language"],
                                     row["default_language"]),
            "finished": finished})

    async def _answer(self, row: dict[str, Any], question_id: int, chosen: list[int],
                      elapsed: int, correct: bool, points: int, finished: bool,
                      now: datetime) -> bool:
        status, ended = ("finished", now) if finished else ("active", None)
        step = [int(correct), points, status, ended, row["id"], row["current"], now]
        values = [row["id"], question_id, json.dumps(chosen, separators=(",", ":")), now,
                  elapsed, correct, points]
        if not self.db.postgres:
            conn = self.db.conn
            text = [None if v is None else v.isoformat(" ") if isinstance(v, datetime)
                    else v for v in step]
            saved = [v.isoformat(" ") if isinstance(v, datetime) else v for v in values]
            return bool(await conn._execute(_twin_answer_sqlite, conn._conn, tuple(text),
                                            tuple(saved)))
        async with self.db.pool.acquire() as conn, conn.transaction():
            moved = await conn.execute(self.db._sql(_TWIN_STEP), *step)
            if moved != "UPDATE 1":
                return False
            await conn.execute(self.db._sql(_TWIN_INSERT), *values)
        return True


def twin_app(database_url: str) -> Starlette:
    from tests.bench.bare import Db  # the raw driver the page twins use

    twin = GameTwin(Db(database_url))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await twin.db.open()
        try:
            yield
        finally:
            await twin.db.close()

    return Starlette(lifespan=lifespan, routes=[
        Route("/", lambda request: PlainTextResponse("ok"), methods=["GET"]),
        Route("/api/v1/play/games/{game_id:int}/question", twin.question, methods=["GET"]),
        Route("/api/v1/play/games/{game_id:int}/answer", twin.answer, methods=["POST"])])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.rawdb", description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--twin-port", type=int, help="serve the game's twin on this port")
    args = parser.parse_args(argv)
    if args.twin_port:
        import uvicorn

        # As tests.bench.bare serves: portal.cli._serve's arguments, no access log.
        uvicorn.run(twin_app(args.database_url), host="127.0.0.1", port=args.twin_port,
                    proxy_headers=True, log_level="info", access_log=False)
        return 0
    found = measure(args.database_url, seconds=args.seconds, rows=args.rows,
                    repeats=args.repeats)
    print("BENCH_RESULT " + json.dumps(asdict(found)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
