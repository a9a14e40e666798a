"""Seasons: a season is a calendar month in UTC, named like ``2026-12``.

Points earned are counted per season, boards rank a season, and a new season is announced
when its month begins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def season_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def previous_season(moment: datetime) -> str:
    start, _ = season_bounds(season_of(moment))
    return season_of(start - timedelta(days=1))


def season_bounds(season: str) -> tuple[datetime, datetime]:
    """The season's first moment, and the first moment of the next one."""
    start = datetime.strptime(season + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end
