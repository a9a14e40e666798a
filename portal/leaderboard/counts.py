"""Whether the counts a rank sums still equal the scores they count (``portal check``).

The database keeps them itself (the triggers of migrations 0016, 0020 and 0022 change them
in the statement that changes a score), so a difference means a score changed with its
triggers off: a restore of one table without the others, a bulk load with triggers
disabled. A rank would then be off by the difference; the fix is to refill the counts
from the scores (the migrations' backfills).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from tortoise import connections

from portal.db import is_postgres
from portal.leaderboard.models import ALL_TIME

# How a reached_at falls into an hour, a minute and a second: the one definition, the
# triggers' own (a migration's functions, frozen with it).
_MOMENTS = importlib.import_module("portal.migrations.0022_score_moment_counts")
_SHOWN = 3  # differences named per table; the rest are counted


@dataclass(frozen=True)
class CountProblem:
    table: str
    message: str


def _recounts(postgres: bool) -> dict[str, tuple[str, str]]:
    """Per count table: its rows held (players > 0) and the same grouped from the scores,
    as (key columns..., players)."""
    recounts = {"score_count": (
        "SELECT board, points, players FROM score_count WHERE players > 0",
        "SELECT season, earned, COUNT(*) FROM season_score WHERE earned > 0 "  # noqa: S608
        f"GROUP BY season, earned UNION ALL SELECT '{ALL_TIME}', earned_total, COUNT(*) "
        "FROM account WHERE kind = 'person' AND earned_total > 0 GROUP BY earned_total")}
    for table, column, at in _MOMENTS.LEVELS:
        moment = at("reached_at", postgres=postgres)
        recounts[table] = (
            f"SELECT season, points, {column}, players FROM {table} WHERE players > 0",  # noqa: S608
            f"SELECT season, earned, {moment}, COUNT(*) FROM season_score "  # noqa: S608
            f"WHERE earned > 0 GROUP BY season, earned, {moment}")
    return recounts


async def count_problems() -> list[CountProblem]:
    """Every count table whose rows differ from a recount of the scores; empty when all
    agree. Reads every score: an operator's check, not a request's."""
    conn = connections.get("default")
    problems = []
    for table, (held, counted) in _recounts(is_postgres(conn)).items():
        held, counted = f"SELECT * FROM ({held}) h", f"SELECT * FROM ({counted}) c"  # noqa: S608
        stored = await conn.execute_query(f"{held} EXCEPT {counted}")  # noqa: S608
        missing = await conn.execute_query(f"{counted} EXCEPT {held}")  # noqa: S608
        rows = [("stored", tuple(r)) for r in stored[1]] + \
            [("counted", tuple(r)) for r in missing[1]]
        if rows:
            named = "; ".join(f"{kind} {', '.join(str(v) for v in row)}"
                              for kind, row in sorted(rows, key=lambda r: r[1])[:_SHOWN])
            problems.append(CountProblem(table, (
                f"{len(rows)} row(s) differ from a recount of the scores "
                f"(key, players): {named}")))
    return problems
