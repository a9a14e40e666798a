"""The game's hot path in hand-written SQL: a question shown and an answer accepted.

Every GET of a question and every POST of an answer of every player comes through here,
so each reads what it needs in one statement (the game scoped to its owner, its quiz and
pack, the question, and any answer already given to it) instead of a query per model, and
the services in ``games.py`` build their replies from those rows and what they wrote,
never reading back a row they already have. Everything else in play stays on the ORM.

The statements run on SQLite and PostgreSQL alike; the one difference is how the current
question's id is read out of the game's JSON ``question_order``.

Showing a question for the first time records its ``sent_at`` (the start of its clock)
in a commit that does not wait for the disk (``show``); the answer's commit, which does,
makes it durable too. The README's "One durable commit per answer" says why that is safe.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.backends.sqlite.client import SqliteClient

from portal.accounts.service import Also
from portal.db import is_postgres, placeholders, sqlite_alone
from portal.play.models import GameStatus


@dataclass(frozen=True)
class GameRow:
    id: int
    quiz_id: int
    attempt: int
    status: GameStatus
    question_order: list[int]
    current: int
    sent_at: datetime | None
    deadline: datetime
    correct: int
    points: int


@dataclass(frozen=True)
class QuizRow:
    id: int
    title: dict[str, str]
    time_limit: int
    base_points: int
    scoring: str
    default_language: str  # the pack's


@dataclass(frozen=True)
class QuestionRow:
    id: int
    type: str
    text: dict[str, str]
    image: str | None
    image_alt: dict[str, str] | None
    choices: list[dict[str, Any]]
    explanation: dict[str, str] | None
    # The game's order of the choices: position as shown -> authored index. Only this
    # question's is read, not the game's whole choice_order.
    order: list[int]


@dataclass(frozen=True)
class AnswerRow:
    question_id: int
    chosen: list[int]  # authored choice indexes; [] when time ran out
    elapsed_ms: int
    correct: bool
    points: int


@dataclass(frozen=True)
class Found:
    """One read of the hot path: the game, its quiz, a question of it (None when the
    game has no such question, or no current one) and the answer already given to it."""

    game: GameRow
    quiz: QuizRow
    question: QuestionRow | None
    answer: AnswerRow | None


# The hot path's columns, named apart from the person's: the API reads them in the
# session's own statement (``with_session``), next to the person's columns.
_COLUMNS = """g.id AS game_id, g.quiz_id, g.attempt, g.status, g.question_order,
 g.current, g.sent_at, g.deadline, g.correct, g.points,
 z.title AS quiz_title, z.time_limit, z.base_points, z.scoring, pk.default_language,
 q.id AS question_id, q.type, q.text, q.image, q.image_alt, q.choices, q.explanation,
 {choice_order} AS choice_order, {answer_columns}"""
_SELECT = "SELECT " + _COLUMNS + """
FROM game g
JOIN quiz z ON z.id = g.quiz_id
JOIN pack pk ON pk.id = z.pack_id
LEFT JOIN question q ON q.id = {question}{answer_join}
WHERE g.id = {game} AND g.person_id = {person}"""
# In the session's statement (accounts.resume_session: the person is p) every join is
# LEFT, so a game that is not the person's leaves the session's row with no game in it.
_SESSION_JOINS = """
LEFT JOIN game g ON g.id = {game} AND g.person_id = p.id
LEFT JOIN quiz z ON z.id = g.quiz_id
LEFT JOIN pack pk ON pk.id = z.pack_id
LEFT JOIN question q ON q.id = {question}{answer_join}"""
# A question named by the request may have its answer already (a replay); the current one
# cannot: an answer moves the game past its question in the same transaction.
_ANSWER_COLUMNS = "a.chosen, a.elapsed_ms, a.correct AS answer_correct, a.points AS answer_points"
_NO_ANSWER = ("NULL AS chosen, NULL AS elapsed_ms, NULL AS answer_correct, "
              "NULL AS answer_points")
_ANSWER_JOIN = "\nLEFT JOIN answer a ON a.game_id = g.id AND a.question_id = q.id"
# The id at the game's current position of its JSON question_order (NULL past the end).
_CURRENT = {"sqlite": "json_extract(g.question_order, '$[' || g.current || ']')",
            "postgres": "(g.question_order ->> g.current)::int"}
# The question's own entry of the game's JSON choice_order (keyed by the question's id).
_CHOICE_ORDER = {"sqlite": """json_extract(g.choice_order, '$."' || q.id || '"')""",
                 "postgres": "g.choice_order -> q.id::text"}
_MARKS = {"sqlite": ("?", "?", "?"), "postgres": ("$1", "$2", "$3")}

_STEP = """UPDATE game SET current = current + 1, sent_at = NULL,
 correct = correct + {0}, points = points + {1}
WHERE id = {2} AND current = {3} AND status = 'active' AND deadline > {4}"""
_INSERT_ANSWER = """INSERT INTO answer
 (game_id, question_id, chosen, answered_at, elapsed_ms, correct, points)
VALUES ({0}, {1}, {2}, {3}, {4}, {5}, {6})"""
# _STEP and _INSERT_ANSWER as one statement: the answer's row is inserted from the step's
# RETURNING row, so none is when the step moved nothing.
_RECORD_POSTGRES = """WITH step AS (UPDATE game SET current = current + 1, sent_at = NULL,
 correct = correct + $1, points = points + $2
WHERE id = $3 AND current = $4 AND status = 'active' AND deadline > $5 RETURNING id)
INSERT INTO answer (game_id, question_id, chosen, answered_at, elapsed_ms, correct, points)
SELECT $6, $7, $8, $9, $10, $11, $12 FROM step RETURNING id"""
_SHOW = "UPDATE game SET sent_at = {0} WHERE id = {1} AND current = {2} AND sent_at IS NULL"
# _SHOW as one statement, its own transaction, whose commit does not wait for the disk: a
# row is written only where every condition held, set_config's (SET LOCAL's, for this
# transaction only) included, so it always ran before anything this commit makes durable.
_SHOW_POSTGRES = ("UPDATE game SET sent_at = $1 WHERE id = $2 AND current = $3 "
                  "AND sent_at IS NULL "
                  "AND set_config('synchronous_commit', 'off', true) = 'off'")


def _dialect(conn: BaseDBAsyncClient) -> str:
    return "postgres" if is_postgres(conn) else "sqlite"


def _marks(conn: BaseDBAsyncClient, count: int) -> list[str]:
    return [f"${n}" for n in range(1, count + 1)] if is_postgres(conn) else ["?"] * count


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _found(row: Mapping[str, Any]) -> Found:
    game = GameRow(
        id=row["game_id"], quiz_id=row["quiz_id"], attempt=row["attempt"],
        status=GameStatus(row["status"]), question_order=_json(row["question_order"]),
        current=row["current"],
        sent_at=None if row["sent_at"] is None else _moment(row["sent_at"]),
        deadline=_moment(row["deadline"]), correct=row["correct"], points=row["points"])
    quiz = QuizRow(id=game.quiz_id, title=_json(row["quiz_title"]),
                   time_limit=row["time_limit"], base_points=row["base_points"],
                   scoring=row["scoring"], default_language=row["default_language"])
    question = None if row["question_id"] is None else QuestionRow(
        id=row["question_id"], type=row["type"], text=_json(row["text"]),
        image=row["image"], image_alt=_json(row["image_alt"]),
        choices=_json(row["choices"]), explanation=_json(row["explanation"]),
        order=_json(row["choice_order"]))
    answer = None if row["chosen"] is None else AnswerRow(
        question_id=row["question_id"], chosen=_json(row["chosen"]),
        elapsed_ms=row["elapsed_ms"], correct=bool(row["answer_correct"]),
        points=row["answer_points"])
    return Found(game, quiz, question, answer)


async def read(person_id: int, game_id: int, question_id: int | None = None
               ) -> Found | None:
    """The person's game with its quiz and the question ``question_id`` and its answer,
    if any; or, when None, the current question (not answered: no answer is looked for).
    One statement. None: no such game of theirs."""
    conn = connections.get("default")
    dialect = _dialect(conn)
    game_mark, person_mark, question_mark = _MARKS[dialect]
    values: list[Any] = [game_id, person_id]
    if question_id is None:
        question, columns, join = _CURRENT[dialect], _NO_ANSWER, ""
    else:
        question, columns, join = question_mark, _ANSWER_COLUMNS, _ANSWER_JOIN
        values.append(question_id)
    sql = _SELECT.format(question=question, answer_columns=columns, answer_join=join,
                         game=game_mark, person=person_mark,
                         choice_order=_CHOICE_ORDER[dialect])
    if dialect == "sqlite":  # its markers are positional: the question's comes first
        values = values[2:] + values[:2]
    rows = await conn.execute_query_dict(sql, values)
    return _found(rows[0]) if rows else None


def with_session(game_id: int, question_id: int | None = None) -> Also:
    """``read``'s columns for the session's own statement (``require_token(also=...)``):
    the API's question and answer read who asks and their game in one statement, as
    their raw twins do. ``found_in`` turns the row back into what ``read`` returns."""
    dialect = _dialect(connections.get("default"))
    marks = placeholders(connections.get("default"), 2)
    params: tuple[Any, ...]
    if question_id is None:
        question, columns, join = _CURRENT[dialect], _NO_ANSWER, ""
        params = (game_id,)
    else:
        question, columns, join = marks[1], _ANSWER_COLUMNS, _ANSWER_JOIN
        params = (game_id, question_id)
    return Also(columns=", " + _COLUMNS.format(answer_columns=columns,
                                               choice_order=_CHOICE_ORDER[dialect]),
                joins=_SESSION_JOINS.format(game=marks[0], question=question,
                                            answer_join=join),
                params=params)


def found_in(row: Mapping[str, Any]) -> Found | None:
    """What ``read`` would have found, from a session's row read ``with_session``."""
    return None if row.get("game_id") is None else _found(row)


async def step(conn: BaseDBAsyncClient, game: GameRow, *, correct: bool, points: int,
               now: datetime) -> bool:
    """Moves the game past its current question, guarded: only if it is still on it,
    active and before its deadline. False: another request moved it, or it ended."""
    sql = _STEP.format(*_marks(conn, 5))
    moved, _ = await conn.execute_query(sql, _step_values(game, answer_correct=correct,
                                                          points=points, now=now))
    return moved == 1


async def insert_answer(conn: BaseDBAsyncClient, game_id: int, answer: AnswerRow, *,
                        now: datetime) -> None:
    """The answer's row; a second one for the same game and question is an
    IntegrityError."""
    await conn.execute_query(_INSERT_ANSWER.format(*_marks(conn, 7)),
                             _answer_values(game_id, answer, now=now))


async def record(game: GameRow, answer: AnswerRow, *, now: datetime) -> bool:
    """``step`` and ``insert_answer`` as one durable transaction in one round trip, for
    an answer that does not end the game. False (nothing written): another request moved
    the game on, or it ended; an answer already stored is an IntegrityError.

    On SQLite the transaction runs whole on the driver's thread (``BEGIN IMMEDIATE``, the
    two writes, ``COMMIT`` at the connection's own synchronous level): one hand-off to it
    instead of five. On PostgreSQL it is one statement, the answer's row inserted from the
    step's RETURNING row, so nothing is written unless the step moved the game.
    """
    step_values = _step_values(game, answer_correct=answer.correct, points=answer.points,
                               now=now)
    answer_values = _answer_values(game.id, answer, now=now)
    client = connections.get("default")
    if isinstance(client, TransactionalDBClient):  # in a transaction: written in it
        if not await step(client, game, correct=answer.correct, points=answer.points,
                          now=now):
            return False
        await insert_answer(client, game.id, answer, now=now)
        return True
    if isinstance(client, SqliteClient):
        return await sqlite_alone(client, _record_sqlite, step_values, answer_values)
    rows = await client.execute_query_dict(_RECORD_POSTGRES, [*step_values, *answer_values])
    return len(rows) == 1


def _step_values(game: GameRow, *, answer_correct: bool, points: int, now: datetime
                 ) -> list[Any]:
    return [int(answer_correct), points, game.id, game.current, now]


def _answer_values(game_id: int, answer: AnswerRow, *, now: datetime) -> list[Any]:
    chosen = json.dumps(answer.chosen, separators=(",", ":"))
    return [game_id, answer.question_id, chosen, now, answer.elapsed_ms, answer.correct,
            answer.points]


def _record_sqlite(db: sqlite3.Connection, step_values: list[Any],
                   answer_values: list[Any]) -> bool:
    """``record`` on SQLite, run whole on the driver's thread."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute(_STEP.format(*"?" * 5), step_values).rowcount != 1:
            db.execute("ROLLBACK")
            return False
        db.execute(_INSERT_ANSWER.format(*"?" * 7), answer_values)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return True


async def show(game: GameRow, now: datetime) -> bool:
    """Starts the clock of the game's current question at ``now``, unless it has started
    (a second tab at the same moment keeps the first). True when this call started it.

    The commit does not wait for the disk: on PostgreSQL ``synchronous_commit`` is off
    for this transaction only (one statement, its own transaction, sets it locally as it
    writes); on SQLite (WAL) the connection is at ``synchronous=NORMAL``
    for this transaction only, in one call on the driver's thread that puts the
    connection's own level back whatever happens. Each is made durable by the next
    durable commit (the WAL is one ordered log: flushing a later commit flushes this one),
    at the latest the answer's. A power cut before that can only lose a clock whose
    question nobody has answered yet: it starts again when the question is next shown.
    """
    client = connections.get("default")
    if isinstance(client, TransactionalDBClient):  # in a transaction: its commit decides
        moved, _ = await client.execute_query(_SHOW.format(*_marks(client, 3)),
                                              [now, game.id, game.current])
    elif isinstance(client, SqliteClient):
        return await sqlite_alone(client, _show_sqlite,
                                       (now.isoformat(" "), game.id, game.current))
    else:  # one round trip instead of BEGIN, SET LOCAL, UPDATE, COMMIT
        moved, _ = await client.execute_query(_SHOW_POSTGRES, [now, game.id, game.current])
    return moved == 1


def _show_sqlite(db: sqlite3.Connection, values: tuple[Any, ...]) -> bool:
    """``show`` on SQLite, run whole on the driver's thread, so nothing can interrupt it
    between lowering the connection's durability and putting it back."""
    level = db.execute("PRAGMA synchronous").fetchone()[0]
    db.execute("PRAGMA synchronous=NORMAL")
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            moved = db.execute(_SHOW.format("?", "?", "?"), values).rowcount
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.execute(f"PRAGMA synchronous={int(level)}")
    return bool(moved == 1)
