"""Players per score and minute, and per score and second, of arrival on each season's
board (``score_minute_count``, ``score_second_count``), kept by the triggers that keep
0020's hour counts, and filled here from the scores already there.

With 0020's hours a rank counted the rows of its own score and hour reached first. That
is a few rows when a month's scores are spread over weeks, but not in its first hours:
on the 1st every score is reached in the same few hours (PRODUCT.md's monthly rush), and
at #500,000 of a million the own hour held thousands of rows of the viewer's score. Now a
rank sums its score's earlier hours (at most 744 in a month), the earlier minutes of its
own hour (at most 60), the earlier seconds of its own minute (at most 60), and counts only
the rows of its own second reached first: the same few hundred reads on any day, whatever
the spread, unless thousands reach one score in one second.

A minute is the whole minutes since 1970 of ``reached_at`` in UTC, a second its whole
seconds: integers, so an hour's first minute and a minute's first second are arithmetic.
On SQLite they are read off the stored text's first 19 characters ("YYYY-MM-DD HH:MM:SS",
Tortoise writes UTC), which the board also compares a second's rows by; on PostgreSQL off
the timestamp's epoch.

Unlike 0016's and 0020's counts, these have no covering index: a rank reads at most 60
rows of each, and every change of a score writes a minute and a second count besides the
hour's (the count left out of every index, PostgreSQL can update it in its heap page). So
this replaces 0020's triggers with ones that keep all three levels (on PostgreSQL one
function call per row instead of two).
Each level's rows are taken then added, lower score first as before (scores only grow),
level by level in the same order, after 0016's counts (PostgreSQL fires a table's triggers
in name order): two changes cannot deadlock. A count that falls to zero stays.
"""

import importlib
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

_HOURS = importlib.import_module("portal.migrations.0020_score_hour_counts")
hour = _HOURS.hour


def second(moment: str, *, postgres: bool) -> str:
    """SQL: the second ``moment`` (a reached_at) is counted in, as seconds since 1970."""
    if postgres:
        return f"CAST(floor(extract(epoch FROM {moment})) AS BIGINT)"
    return f"CAST(strftime('%s', substr({moment}, 1, 19)) AS INTEGER)"


def minute(moment: str, *, postgres: bool) -> str:
    """SQL: the minute ``moment`` is counted in, as whole minutes since 1970."""
    if postgres:
        return f"CAST(floor(extract(epoch FROM {moment}) / 60) AS BIGINT)"
    return f"(CAST(strftime('%s', substr({moment}, 1, 19)) AS INTEGER) / 60)"


# Each level: its table, its column, and the column's value for a reached_at.
LEVELS = (("score_hour_count", "hour", hour), ("score_minute_count", "minute", minute),
          ("score_second_count", "second", second))
NEW_TABLES = LEVELS[1:]


def backfill_sql(postgres: bool) -> list[str]:
    """The minute and second counts of the scores there are (the tables must be empty)."""
    return [f"INSERT INTO {table} (season, points, {column}, players) "  # noqa: S608
            f"SELECT season, earned, {at('reached_at', postgres=postgres)}, COUNT(*) "
            f"FROM season_score WHERE earned > 0 "
            f"GROUP BY season, earned, {at('reached_at', postgres=postgres)}"
            for table, column, at in NEW_TABLES]


def _add(table: str, column: str, at: Any, row: str, postgres: bool) -> str:
    # INSERT ... SELECT: SQLite's upsert needs the WHERE to tell ON CONFLICT from a join.
    return (f"INSERT INTO {table} (season, points, {column}, players) "  # noqa: S608
            f"SELECT {row}.season, {row}.earned, {at(f'{row}.reached_at', postgres=postgres)}"
            f", 1 WHERE {row}.earned > 0 ON CONFLICT (season, points, {column}) "
            f"DO UPDATE SET players = {table}.players + 1")


def _take(table: str, column: str, at: Any, row: str, postgres: bool) -> str:
    return (f"UPDATE {table} SET players = players - 1 "  # noqa: S608
            f"WHERE season = {row}.season AND points = {row}.earned "
            f"AND {column} = {at(f'{row}.reached_at', postgres=postgres)} "
            f"AND {row}.earned > 0")


def _moved(postgres: bool) -> str:
    """SQL: an update moved the row to another count of some level (its second decides
    for the three: a row's hour and minute are those of its second)."""
    differ = "IS DISTINCT FROM" if postgres else "IS NOT"
    return " OR ".join(f"{old} {differ} {new}" for old, new in (
        ("OLD.season", "NEW.season"), ("OLD.earned", "NEW.earned"),
        (second("OLD.reached_at", postgres=postgres),
         second("NEW.reached_at", postgres=postgres))))


def _made(postgres: bool, *, gone: bool, came: bool) -> list[str]:
    made = []
    for table, column, at in LEVELS:
        if gone:
            made.append(_take(table, column, at, "OLD", postgres))
        if came:
            made.append(_add(table, column, at, "NEW", postgres))
    return made


def sqlite_triggers() -> list[str]:
    """Three triggers: a score inserted, changed or deleted."""
    cases = [("insert", "INSERT", "NEW.earned > 0", False, True),
             ("update", "UPDATE OF season, earned, reached_at", _moved(False), True, True),
             ("delete", "DELETE", "OLD.earned > 0", True, False)]
    return [f"CREATE TRIGGER season_score_time_counted_{name} AFTER {event} ON season_score "
            f"WHEN {when} BEGIN "
            + " ".join(f"{sql};" for sql in _made(False, gone=gone, came=came)) + " END"
            for name, event, when, gone, came in cases]


def postgres_triggers() -> list[str]:
    """One function for the same three cases, and its trigger."""
    def block(gone: bool, came: bool) -> str:
        return " ".join(f"{sql};" for sql in _made(True, gone=gone, came=came))

    return [
        "CREATE FUNCTION season_score_time_counted() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        f"IF TG_OP = 'INSERT' THEN {block(False, True)} "
        f"ELSIF TG_OP = 'DELETE' THEN {block(True, False)} "
        f"ELSIF {_moved(True)} THEN {block(True, True)} "
        "END IF; RETURN NULL; END $$",
        "CREATE TRIGGER season_score_time_counted AFTER INSERT OR DELETE OR UPDATE OF season, "
        "earned, reached_at ON season_score FOR EACH ROW "
        "EXECUTE FUNCTION season_score_time_counted()",
    ]


def drop_sql(postgres: bool) -> list[str]:
    if postgres:
        return ["DROP TRIGGER IF EXISTS season_score_time_counted ON season_score",
                "DROP FUNCTION IF EXISTS season_score_time_counted()"]
    return [f"DROP TRIGGER IF EXISTS season_score_time_counted_{name}"
            for name in ("insert", "update", "delete")]


async def backfill(conn: Any) -> None:
    for sql in backfill_sql(conn.capabilities.dialect == "postgres"):
        await conn.execute_script(sql)


async def _count_from_now_on(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    postgres = conn.capabilities.dialect == "postgres"
    for sql in [*_HOURS.drop_sql(postgres),
                *(postgres_triggers() if postgres else sqlite_triggers())]:
        await conn.execute_script(sql)
    await backfill(conn)


async def _stop_counting(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    postgres = conn.capabilities.dialect == "postgres"
    for sql in [*drop_sql(postgres),
                *(_HOURS.postgres_triggers() if postgres else _HOURS.sqlite_triggers())]:
        await conn.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('portal', '0021_catalog_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ScoreMinuteCount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('season', fields.CharField(max_length=7)),
                ('points', fields.BigIntField()),
                ('minute', fields.BigIntField()),
                ('players', fields.IntField()),
            ],
            options={'table': 'score_minute_count', 'app': 'portal', 'unique_together': (('season', 'points', 'minute'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScoreSecondCount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('season', fields.CharField(max_length=7)),
                ('points', fields.BigIntField()),
                ('second', fields.BigIntField()),
                ('players', fields.IntField()),
            ],
            options={'table': 'score_second_count', 'app': 'portal', 'unique_together': (('season', 'points', 'second'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(_count_from_now_on, _stop_counting),
    ]
