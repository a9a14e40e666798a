"""Players per score and hour of arrival on each season's board
(``leaderboard.models.ScoreHourCount``), kept by triggers, and filled here from the scores
already there.

With 0016's counts a rank summed the higher scores, then counted the rows of its own score
reached first: at a million players and a hundred distinct scores, some ten thousand rows
at #500,000. With these it sums its own score's earlier hours (one row per hour somebody
reached that score, a few hundred in a month) and counts only the rows of its own hour
reached first.

The hour is an integer, YYYYMMDDHH in UTC. On SQLite it is read off the stored text
(Tortoise writes "YYYY-MM-DD HH:MM:SS[.ffffff]+00:00"), as the board orders by that text
and a rank bounds its own hour's rows by the text's first 13 characters: the hour counted
must be exactly those characters. On PostgreSQL it is the hour of the timestamp in UTC.

As 0016's, the triggers change the counts in the statement that changes a score, for any
writer. They only count season boards: the all-time board breaks its ties on
``account.last_earned_at``, and ``account`` carries no trigger (see 0016). PostgreSQL fires
a table's triggers in name order, so 0016's counts are always taken before these: every
change takes its rows table by table, lower score first (scores only grow), and two
changes cannot deadlock.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor


def hour(moment: str, *, postgres: bool) -> str:
    """SQL: the hour ``moment`` (a reached_at) is counted in."""
    if postgres:
        return f"CAST(to_char({moment} AT TIME ZONE 'UTC', 'YYYYMMDDHH24') AS BIGINT)"
    return f"CAST(strftime('%Y%m%d%H', substr({moment}, 1, 13) || ':00') AS INTEGER)"


def backfill_sql(postgres: bool) -> list[str]:
    """The counts of the scores there are, from nothing (the table must be empty)."""
    at = hour("reached_at", postgres=postgres)
    return ["INSERT INTO score_hour_count (season, points, hour, players) "  # noqa: S608
            f"SELECT season, earned, {at}, COUNT(*) FROM season_score WHERE earned > 0 "
            f"GROUP BY season, earned, {at}"]


def _add(row: str, postgres: bool) -> str:
    # INSERT ... SELECT: SQLite's upsert needs the WHERE to tell ON CONFLICT from a join.
    return ("INSERT INTO score_hour_count (season, points, hour, players) "  # noqa: S608
            f"SELECT {row}.season, {row}.earned, {hour(f'{row}.reached_at', postgres=postgres)}"
            f", 1 WHERE {row}.earned > 0 ON CONFLICT (season, points, hour) "
            "DO UPDATE SET players = score_hour_count.players + 1")


def _take(row: str, postgres: bool) -> str:
    return ("UPDATE score_hour_count SET players = players - 1 "  # noqa: S608
            f"WHERE season = {row}.season AND points = {row}.earned "
            f"AND hour = {hour(f'{row}.reached_at', postgres=postgres)} AND {row}.earned > 0")


def _moved(postgres: bool) -> str:
    """SQL: an update moved the row to another count."""
    differ = "IS DISTINCT FROM" if postgres else "IS NOT"
    return " OR ".join(f"{old} {differ} {new}" for old, new in (
        ("OLD.season", "NEW.season"), ("OLD.earned", "NEW.earned"),
        (hour("OLD.reached_at", postgres=postgres), hour("NEW.reached_at", postgres=postgres))))


def sqlite_triggers() -> list[str]:
    """Three triggers: a score inserted, changed or deleted."""
    cases = [("insert", "INSERT", "NEW.earned > 0", [_add("NEW", False)]),
             ("update", "UPDATE OF season, earned, reached_at", _moved(False),
              [_take("OLD", False), _add("NEW", False)]),
             ("delete", "DELETE", "OLD.earned > 0", [_take("OLD", False)])]
    return [f"CREATE TRIGGER season_score_hour_counted_{name} AFTER {event} ON season_score "
            f"WHEN {when} BEGIN " + " ".join(f"{sql};" for sql in made) + " END"
            for name, event, when, made in cases]


def postgres_triggers() -> list[str]:
    """One function for the same three cases, and its trigger."""
    return [
        "CREATE FUNCTION season_score_hour_counted() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        f"IF TG_OP = 'UPDATE' AND NOT ({_moved(True)}) THEN RETURN NULL; END IF; "
        f"IF TG_OP <> 'INSERT' THEN {_take('OLD', True)}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_add('NEW', True)}; END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER season_score_hour_counted AFTER INSERT OR DELETE OR UPDATE OF season, "
        "earned, reached_at ON season_score FOR EACH ROW "
        "EXECUTE FUNCTION season_score_hour_counted()",
    ]


def drop_sql(postgres: bool) -> list[str]:
    if postgres:
        return ["DROP TRIGGER IF EXISTS season_score_hour_counted ON season_score",
                "DROP FUNCTION IF EXISTS season_score_hour_counted()"]
    return [f"DROP TRIGGER IF EXISTS season_score_hour_counted_{name}"
            for name in ("insert", "update", "delete")]


async def backfill(conn: Any) -> None:
    for sql in backfill_sql(conn.capabilities.dialect == "postgres"):
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
    dependencies = [('portal', '0019_analytics_refunds_companies_held')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ScoreHourCount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('season', fields.CharField(max_length=7)),
                ('points', fields.BigIntField()),
                ('hour', fields.BigIntField()),
                ('players', fields.IntField()),
            ],
            options={'table': 'score_hour_count', 'app': 'portal', 'unique_together': (('season', 'points', 'hour'),), 'indexes': [Index(fields=['season', 'points', 'hour', 'players'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(_count_from_now_on, _stop_counting),
    ]
