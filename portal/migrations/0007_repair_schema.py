"""Gives SQLite back the game table's unique key and indexes (hand-written).

Migration 0004 altered ``game.finished_at``; Tortoise's SQLite schema editor does that by
rebuilding the table, and the rebuilt table kept neither the unique key on
(person, quiz, attempt) nor any of the game's indexes. Without the key a double tap on
Start could create two games for one attempt: give up one to see the answers, then score
them in the other. PostgreSQL altered the column in place and kept everything, so there
this migration changes nothing.

First the duplicate games are resolved, without touching the ledger (it is append-only):
in each group of games sharing (person, quiz, attempt) one keeps the attempt number: the
game the ledger credited (its transfer's reference names it), else the first finished,
else the first started. The others move to new attempt numbers after the player's last,
so the attempt count still counts every game played. A duplicate still being played is
abandoned (its provisional points burn, as for any abandoned game), and so is every game
of a group in which one game already ended: answers seen in one game must not be scored
in another. Then the key and the indexes are created with the names Tortoise gives them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

UNIQUE_NAME = "uid_game_person__204845"
UNIQUE_COLUMNS = ("person_id", "quiz_id", "attempt")
INDEXES = {  # name: columns, as the models declare them (Meta.indexes and db_index)
    "idx_game_person__b9bde4": ("person_id", "status"),
    "idx_game_deadlin_e0ada6": ("deadline",),
    "idx_game_finishe_64b0f8": ("finished_at",),
}


def _columns(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


def _keeper(games: list[dict[str, Any]], credited_game: str | None) -> dict[str, Any]:
    for game in games:
        if credited_game == f"game:{game['id']}":
            return game
    finished = [game for game in games if game["status"] == "finished"]
    return finished[0] if finished else games[0]


async def _resolve_duplicate_games(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    postgres = conn.capabilities.dialect == "postgres"

    def marks(count: int) -> list[str]:
        return [f"${n}" for n in range(1, count + 1)] if postgres else ["?"] * count

    now = datetime.now(UTC)
    # SQLite keeps Tortoise's datetimes as text in this form.
    now_value: object = now if postgres else now.isoformat(sep=" ")
    groups = await conn.execute_query_dict(
        "SELECT person_id, quiz_id, attempt FROM game "
        "GROUP BY person_id, quiz_id, attempt HAVING COUNT(*) > 1")
    for group in groups:
        person, quiz = group["person_id"], group["quiz_id"]
        p = marks(3)
        games = await conn.execute_query_dict(
            f"SELECT id, status FROM game WHERE person_id = {p[0]} AND quiz_id = {p[1]} "
            f"AND attempt = {p[2]} ORDER BY id", [person, quiz, group["attempt"]])
        p = marks(1)
        credits = await conn.execute_query_dict(
            f"SELECT reference FROM transfer WHERE key = {p[0]}",
            [f"quiz:{quiz}:person:{person}"])
        keeper = _keeper(games, credits[0]["reference"] if credits else None)
        ended = any(game["status"] != "active" for game in games)
        p = marks(2)
        rows = await conn.execute_query_dict(
            f"SELECT MAX(attempt) AS top FROM game WHERE person_id = {p[0]} "
            f"AND quiz_id = {p[1]}", [person, quiz])
        top = int(rows[0]["top"])
        for game in games:
            if game["status"] == "active" and (game is not keeper or ended):
                p = marks(2)
                await conn.execute_query(
                    f"UPDATE game SET status = 'abandoned', finished_at = {p[0]} "
                    f"WHERE id = {p[1]}", [now_value, game["id"]])
            if game is not keeper:
                top += 1
                p = marks(2)
                await conn.execute_query(
                    f"UPDATE game SET attempt = {p[0]} WHERE id = {p[1]}", [top, game["id"]])


async def _restore_keys_and_indexes(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client  # one statement at a time: a script would commit on SQLite
    if conn.capabilities.dialect == "postgres":
        # Kept by PostgreSQL; restored as the constraint Tortoise makes, should it be gone.
        _, found = await conn.execute_query(
            "SELECT 1 FROM pg_constraint WHERE conname = $1", [UNIQUE_NAME])
        if not found:
            await conn.execute_query(
                f'ALTER TABLE "game" ADD CONSTRAINT "{UNIQUE_NAME}" '
                f"UNIQUE ({_columns(UNIQUE_COLUMNS)})")
    else:
        await conn.execute_query(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{UNIQUE_NAME}" ON "game" '
            f"({_columns(UNIQUE_COLUMNS)})")
    for name, columns in INDEXES.items():
        await conn.execute_query(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "game" ({_columns(columns)})')


async def _nothing(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    """Going back keeps the repair: the older migrations declare the same key and indexes."""


class Migration(migrations.Migration):
    dependencies = [('portal', '0006_last_active')]

    initial = False

    operations = [
        ops.RunPython(_resolve_duplicate_games, _nothing),
        ops.RunPython(_restore_keys_and_indexes, _nothing),
    ]
