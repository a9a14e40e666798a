"""Seasons as boards know them: which month a board may show, a finished month's frozen
final standings, and the badges of its top three.

Freezing is the ``season-end`` job's alone (``portal.jobs.tasks``): reading a board never
writes. Until the job has run, a finished month is read live from ``season_score``, with
the same rows the frozen standings then hold.
"""

from __future__ import annotations

import re
from datetime import datetime

from portal.accounts.models import Person
from portal.db import placeholders, write_transaction
from portal.i18n import N_, Refusal
from portal.leaderboard.models import SeasonFreeze, SeasonStanding
from portal.ledger.models import SeasonScore
from portal.seasons import previous_season, season_bounds, season_of

_SEASON = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


class BadSeason(Refusal):
    """Not a month a board can show: a past or the current one, like 2026-12."""

    status = 400

    def __init__(self) -> None:
        super().__init__(N_("Choose one of the offered seasons."))


def parse_season(raw: str | None, *, now: datetime) -> str:
    """The month a board request names (the current one when it names none)."""
    if raw is None:
        return season_of(now)
    if not _SEASON.fullmatch(raw) or raw > season_of(now):
        raise BadSeason
    try:
        season_bounds(raw)  # year 0000 matches the pattern but is no date
    except ValueError:
        raise BadSeason from None
    return raw


async def freeze_season(season: str, *, now: datetime) -> bool:
    """Keeps a finished season's final standings, once: whoever claims the season first
    writes them all in one statement; a second call changes nothing (False)."""
    if await SeasonFreeze.exists(season=season):
        return False
    async with write_transaction() as conn:
        p = placeholders(conn, 2)
        claimed = await conn.execute_query_dict(
            f"INSERT INTO season_freeze (season, frozen_at) VALUES ({p[0]}, {p[1]}) "  # noqa: S608
            "ON CONFLICT (season) DO NOTHING RETURNING season", [season, now])
        if not claimed:
            return False
        # The order is the live board's (scores.season): frozen or not, a month reads the same.
        await conn.execute_query(
            "INSERT INTO season_standing (season, account_id, rank, earned) "  # noqa: S608
            f"SELECT {p[0]}, s.account_id, ROW_NUMBER() OVER (ORDER BY s.earned DESC, "
            "s.reached_at ASC, s.account_id ASC), s.earned FROM season_score s "
            "JOIN account a ON a.id = s.account_id "
            f"WHERE s.season = {p[1]} AND a.kind = 'person' AND s.earned > 0",
            [season, season])
    return True


async def is_frozen(season: str) -> bool:
    return await SeasonFreeze.exists(season=season)


async def past_seasons(*, now: datetime) -> list[str]:
    """Finished months to pick from, latest first: the frozen ones, and last month even
    before the season-end job has frozen it."""
    frozen = {str(season) for season in
              await SeasonFreeze.all().values_list("season", flat=True)}
    last = previous_season(now)
    if last not in frozen and await SeasonScore.exists(season=last, earned__gt=0):
        frozen.add(last)
    return sorted(frozen, reverse=True)


async def badges(person: Person) -> list[tuple[str, int]]:
    """(season, place) for every season this person finished in the top three."""
    rows = await SeasonStanding.filter(account__person_id=person.id, rank__lte=3).order_by(
        "-season")
    return [(row.season, row.rank) for row in rows]
