"""Leaderboards: seasons (calendar months) and their frozen final standings."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.db import placeholders, write_transaction


def previous_season(now: datetime) -> str:
    return (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


async def freeze_season(season: str, *, now: datetime) -> bool:
    """Keeps a finished season's final standings, once: whoever claims the season first
    writes them all in one statement; a second call changes nothing (False)."""
    async with write_transaction() as conn:
        p = placeholders(conn, 2)
        claimed, _ = await conn.execute_query(
            f"INSERT INTO season_freeze (season, frozen_at) VALUES ({p[0]}, {p[1]}) "  # noqa: S608
            "ON CONFLICT (season) DO NOTHING", [season, now])
        if not claimed:
            return False
        q = placeholders(conn, 2)
        await conn.execute_query(
            "INSERT INTO season_standing (season, account_id, rank, earned) "  # noqa: S608
            f"SELECT {q[0]}, s.account_id, ROW_NUMBER() OVER (ORDER BY s.earned DESC, "
            "s.reached_at ASC, s.account_id ASC), s.earned FROM season_score s "
            "JOIN account a ON a.id = s.account_id "
            f"WHERE s.season = {q[1]} AND a.kind = 'person' AND s.earned > 0",
            [season, season])
    return True
