"""Ledger reasons as a message id with parameters, said in the reader's language.

Transfers and holds get ``reason_message`` (the English ``N_`` message id) and
``reason_params`` (JSON). The English ``reason`` column stays as it is. Existing rows are
mapped back to their message where the English sentence parses as one the portal wrote
(quiz and course awards, the welcome bonus, inactivity burns, the demo history); a quiz's
or course's title becomes its title in every language when the transfer's reference still
names the game or course. Anything else (an adjustment a person typed) keeps no message
id and is shown as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

QUIZ = "Quiz: %(title)s (%(correct)s of %(total)s correct)"
COURSE = "Course completed: %(title)s"
BURN = "Points burned: no finished game or course since %(date)s"
# Messages without parameters: the English sentence is the message id.
PLAIN = {
    "Welcome bonus: onboarding courses completed",
    "Quiz: Pump basics (demo history)",
    "Quiz: Filter cartridges (demo history)",
    "Course: Installing a booster pump (demo history)",
    "Quiz: Water hardness (demo history)",
    "Course: Selling the service plan (demo history)",
    "E-gift certificate (demo history)",
}
_QUIZ = re.compile(r"Quiz: (?P<title>.+) \((?P<correct>\d+) of (?P<total>\d+) correct\)",
                   re.DOTALL)
_COURSE = re.compile(r"Course completed: (?P<title>.+)", re.DOTALL)
_BURN = re.compile(r"Points burned: no finished game or course since (?P<date>\d{4}-\d{2}-\d{2})")
BATCH = 1000

Titles = Callable[[str, str], dict[str, str] | None]


def parse(reason: str, reference: str, titles: Titles) -> tuple[str, dict[str, Any]] | None:
    """The message and parameters an English reason was made from, or None."""
    if reason in PLAIN:
        return reason, {}
    if match := _QUIZ.fullmatch(reason):
        title = titles("game", reference) or match["title"]
        return QUIZ, {"title": _title(title), "correct": int(match["correct"]),
                      "total": int(match["total"])}
    if match := _COURSE.fullmatch(reason):
        return COURSE, {"title": _title(titles("course", reference) or match["title"])}
    if match := _BURN.fullmatch(reason):
        return BURN, {"date": {"$date": match["date"]}}
    return None


def _title(title: str | dict[str, str]) -> object:
    return {"$texts": title} if isinstance(title, dict) else title


class _Titles:
    """Titles of every quiz and course in every language, the pack's default language
    first; games are looked up a batch at a time."""

    def __init__(self, conn: Any, marks: Callable[[int], list[str]]) -> None:
        self.conn = conn
        self.marks = marks
        self.courses: dict[str, dict[str, str]] = {}
        self.quizzes: dict[int, dict[str, str]] = {}
        self.games: dict[str, int] = {}

    @staticmethod
    def _ordered(raw: Any, default: str) -> dict[str, str]:
        texts = json.loads(raw) if isinstance(raw, str) else dict(raw)
        return dict(sorted(texts.items(), key=lambda item: item[0] != default))

    async def load(self) -> None:
        for row in await self.conn.execute_query_dict(
                "SELECT course.id, course.title, pack.default_language FROM course "
                "JOIN pack ON pack.id = course.pack_id"):
            self.courses[f"course:{row['id']}"] = self._ordered(row["title"],
                                                               row["default_language"])
        for row in await self.conn.execute_query_dict(
                "SELECT quiz.id, quiz.title, pack.default_language FROM quiz "
                "JOIN pack ON pack.id = quiz.pack_id"):
            self.quizzes[row["id"]] = self._ordered(row["title"], row["default_language"])

    async def load_games(self, references: list[str]) -> None:
        self.games.clear()
        ids = sorted({int(r[5:]) for r in references if r.startswith("game:")
                      and r[5:].isdigit()})
        if ids:
            marks = ", ".join(self.marks(len(ids)))
            for row in await self.conn.execute_query_dict(
                    f"SELECT id, quiz_id FROM game WHERE id IN ({marks})", ids):  # noqa: S608
                self.games[f"game:{row['id']}"] = row["quiz_id"]

    def __call__(self, what: str, reference: str) -> dict[str, str] | None:
        if what == "course":
            return self.courses.get(reference)
        return self.quizzes.get(self.games.get(reference, 0))


async def _map_reasons(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    postgres = conn.capabilities.dialect == "postgres"

    def marks(count: int) -> list[str]:
        return [f"${n}" for n in range(1, count + 1)] if postgres else ["?"] * count

    titles = _Titles(conn, marks)
    await titles.load()
    for table in ("transfer", "hold"):
        last = 0
        while True:
            p = marks(2)
            rows = await conn.execute_query_dict(
                f'SELECT id, reason, reference FROM "{table}" '  # noqa: S608 - our table
                f"WHERE id > {p[0]} AND reason_message IS NULL ORDER BY id LIMIT {p[1]}",
                [last, BATCH])
            if not rows:
                break
            last = rows[-1]["id"]
            await titles.load_games([row["reference"] or "" for row in rows])
            updates = []
            for row in rows:
                found = parse(row["reason"], row["reference"] or "", titles)
                if found is not None:
                    updates.append([found[0], json.dumps(found[1]), row["id"]])
            if updates:
                p = marks(3)
                await conn.execute_many(
                    f'UPDATE "{table}" SET reason_message = {p[0]}, '  # noqa: S608
                    f"reason_params = {p[1]} WHERE id = {p[2]}", updates)


async def _nothing(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    """Going back drops the columns; the English reasons were never changed."""


class Migration(migrations.Migration):
    dependencies = [('portal', '0010_analytics')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Transfer',
            name='reason_message',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='Transfer',
            name='reason_params',
            field=fields.JSONField(null=True),
        ),
        ops.AddField(
            model_name='Hold',
            name='reason_message',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='Hold',
            name='reason_params',
            field=fields.JSONField(null=True),
        ),
        ops.RunPython(_map_reasons, _nothing),
    ]
