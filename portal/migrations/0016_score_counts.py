"""Counts of players per score on each board (``leaderboard.models.ScoreCount``), kept by
triggers, and filled here from the scores already there.

A rank deep in a million-player board counted half a million index entries; with the
counts it sums the players on each higher score (a few thousand rows at most) and counts
only those who reached the same score first. The triggers change the counts in the very
statement that changes a score: the ledger's award, a bulk load or a hand correction
alike, in the same transaction.

What counts (as ``leaderboard.scores`` reads the boards): a season's board, its
``season_score`` rows with ``earned`` > 0; the all-time board, the person accounts with
``earned_total`` > 0. Both follow ``season_score`` alone: an account's ``earned_total``
is the sum of its season scores (both are its earnings, which ``portal check`` holds),
so a season score's change moves the account's all-time total by as much. No trigger
sits on ``account``: through Tortoise, SQLite reports the rows a trigger changes as
changed by the UPDATE itself, and the ledger's guarded balance updates require exactly
one.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

BACKFILL = [
    "INSERT INTO score_count (board, points, players) "
    "SELECT season, earned, COUNT(*) FROM season_score WHERE earned > 0 "
    "GROUP BY season, earned",
    "INSERT INTO score_count (board, points, players) "
    "SELECT 'all-time', earned_total, COUNT(*) FROM account "
    "WHERE kind = 'person' AND earned_total > 0 GROUP BY earned_total",
]


def _add(board: str, points: str, when: str) -> str:
    # INSERT ... SELECT: SQLite's upsert needs the WHERE to tell ON CONFLICT from a join.
    return ("INSERT INTO score_count (board, points, players) "  # noqa: S608 - fixed SQL
            f"SELECT {board}, {points}, 1 WHERE {when} "
            "ON CONFLICT (board, points) DO UPDATE SET players = score_count.players + 1")


def _take(board: str, points: str, when: str) -> str:
    return ("UPDATE score_count SET players = players - 1 "  # noqa: S608 - fixed SQL
            f"WHERE board = {board} AND points = {points} AND {when}")


def _counts(row: str, *, gone: bool, came: bool) -> list[str]:
    """The statements that move the season_score row ``row`` (NEW or OLD; the other one
    is named by the flags) between counts: its season's, then the all-time board's,
    each taken at the lower score first (scores only grow)."""
    old, new = ("OLD", "NEW")
    total = (f"(SELECT COALESCE(SUM(earned), 0) FROM season_score "
             f"WHERE account_id = {row}.account_id)")
    person = f"EXISTS (SELECT 1 FROM account WHERE id = {row}.account_id AND kind = 'person')"
    made = []
    if gone:
        made.append(_take(f"{old}.season", f"{old}.earned", f"{old}.earned > 0"))
    if came:
        made.append(_add(f"{new}.season", f"{new}.earned", f"{new}.earned > 0"))
    before = total + (f" - {new}.earned" if came else "") + (f" + {old}.earned" if gone else "")
    made += [_take("'all-time'", before, person),
             _add("'all-time'", total, f"{total} > 0 AND {person}")]
    return made


def sqlite_triggers() -> list[str]:
    """Three triggers: a score inserted, changed or deleted."""
    cases = [("insert", "INSERT", "NEW", False, True, "NEW.earned > 0"),
             ("update", "UPDATE OF season, earned", "NEW", True, True,
              "OLD.season IS NOT NEW.season OR OLD.earned IS NOT NEW.earned"),
             ("delete", "DELETE", "OLD", True, False, "OLD.earned > 0")]
    return [f"CREATE TRIGGER season_score_counted_{name} AFTER {event} ON season_score "
            f"WHEN {when} BEGIN "
            + " ".join(f"{sql};" for sql in _counts(row, gone=gone, came=came)) + " END"
            for name, event, row, gone, came, when in cases]


def postgres_triggers() -> list[str]:
    """One function for the same three cases, and its trigger."""
    def block(row: str, gone: bool, came: bool) -> str:
        return " ".join(f"{sql};" for sql in _counts(row, gone=gone, came=came))

    return [
        "CREATE FUNCTION season_score_counted() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'INSERT' THEN IF NEW.earned > 0 THEN "
        f"{block('NEW', False, True)} END IF; "
        "ELSIF TG_OP = 'UPDATE' THEN "
        "IF OLD.season IS DISTINCT FROM NEW.season OR OLD.earned IS DISTINCT FROM NEW.earned "
        f"THEN {block('NEW', True, True)} END IF; "
        f"ELSIF OLD.earned > 0 THEN {block('OLD', True, False)} "
        "END IF; RETURN NULL; END $$",
        "CREATE TRIGGER season_score_counted AFTER INSERT OR DELETE OR UPDATE OF season, "
        "earned ON season_score FOR EACH ROW EXECUTE FUNCTION season_score_counted()",
    ]


def drop_sql(postgres: bool) -> list[str]:
    if postgres:
        return ["DROP TRIGGER IF EXISTS season_score_counted ON season_score",
                "DROP FUNCTION IF EXISTS season_score_counted()"]
    return [f"DROP TRIGGER IF EXISTS season_score_counted_{name}"
            for name in ("insert", "update", "delete")]


async def backfill(conn: Any) -> None:
    """The counts of the scores there are, from nothing (the table must be empty)."""
    for sql in BACKFILL:
        await conn.execute_script(sql)


async def _count_from_now_on(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    postgres = conn.capabilities.dialect == "postgres"
    for sql in postgres_triggers() if postgres else sqlite_triggers():
        await conn.execute_script(sql)
    await backfill(conn)


async def _stop_counting(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    for sql in drop_sql(conn.capabilities.dialect == "postgres"):
        await conn.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('portal', '0015_system_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ScoreCount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('board', fields.CharField(max_length=8)),
                ('points', fields.BigIntField()),
                ('players', fields.IntField()),
            ],
            options={'table': 'score_count', 'app': 'portal', 'unique_together': (('board', 'points'),), 'indexes': [Index(fields=['board', 'points', 'players'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(_count_from_now_on, _stop_counting),
    ]
