"""Player boards: this month (the season), a past month, and all time, as the viewer sees
them: the top, their own place with their neighbours, and a page.

Players are ranked by points *earned* (per season in ``season_score``, all time in
``account.earned_total``), never by balance, so spending or a burn never lowers a rank.
Ties go to whoever reached the score first, then to the older account. Each read is an
index range, and a rank costs no more deep in the board than its tie group (``scores``);
nothing here reads the ledger, and reading never writes: a finished month reads the same
before the season-end job freezes it and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pypika_tortoise.queries import QueryBuilder
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from portal.accounts.models import Person
from portal.leaderboard import place, scores, standings
from portal.ledger.models import Account
from portal.seasons import season_of

PLAYER_BOARDS = ("season", "all-time")
NEIGHBOURS = 5
TOP = 10


@dataclass(frozen=True)
class Row:
    rank: int
    account_id: int
    name: str  # the display name: never the e-mail
    outlet: str
    points: int
    is_me: bool


@dataclass(frozen=True)
class Board:
    kind: str  # season or all-time
    season: str | None
    top: list[Row]
    me: Row | None  # None when the viewer has no points on this board yet
    around_me: list[Row]  # up to five above, the viewer, up to five below
    page: list[Row]
    page_number: int
    has_more: bool
    frozen: bool  # a finished month: its final standings, frozen by the job or not yet

    @property
    def to_next(self) -> int | None:
        """The points the viewer needs to pass the player just above (a tie goes to
        whoever got there first); None at the top or off the board."""
        if self.me is None:
            return None
        above = [row for row in self.around_me if row.rank < self.me.rank]
        return above[-1].points - self.me.points + 1 if above else None


@dataclass(frozen=True)
class Place:
    """A player's place on this month's board, and what some points just did to it."""

    rank: int
    points: int
    previous_rank: int | None  # before the points; None when they were not on it yet
    to_next: int | None  # points to pass the player just above; None at the top

    @property
    def places_up(self) -> int:
        return 0 if self.previous_rank is None else self.previous_rank - self.rank


@dataclass(frozen=True)
class Filters:
    region_id: int | None = None
    outlet_id: int | None = None


async def board(viewer: Person, *, kind: str, season: str | None = None,
                filters: Filters | None = None, page: int = 1, size: int = 50,
                now: datetime | None = None) -> Board:
    """A player board ("season" or "all-time") as the viewer sees it."""
    filters = filters or Filters()
    current = season_of(now or datetime.now(UTC))
    if kind == "season":
        season = season or current
    final = kind == "season" and season is not None and season < current
    source = scores.within(await _source(kind, season, final=final),
                           region_id=filters.region_id, outlet_id=filters.outlet_id)
    conn = connections.get("default")
    me_id = await _account_id(conn, viewer)

    def row(raw: dict[str, Any], rank: int) -> Row:
        return Row(rank, raw["account_id"], raw["name"], raw["outlet"] or "",
                   int(raw["points"]), raw["account_id"] == me_id)

    top = [row(r, n + 1) for n, r in enumerate(await _read(conn, scores.top(source, limit=TOP)))]
    me, around = None, []
    found = await _place(conn, source, me_id, above=NEIGHBOURS, below=NEIGHBOURS)
    if mine := _mine(found):
        rank = 1 + int(mine["ahead"])
        me = row(mine, rank)
        around = ([row(r, rank - int(r["away"])) for r in _side(found, scores.ABOVE)][::-1] + [me]
                  + [row(r, rank + int(r["away"])) for r in _side(found, scores.BELOW)])
    rows = await _read(conn, scores.top(source, limit=size + 1, offset=(page - 1) * size))
    listed = [row(r, (page - 1) * size + n + 1) for n, r in enumerate(rows[:size])]
    return Board(kind, season, top, me, around, listed, page, len(rows) > size, final)


async def season_place(viewer: Person, *, season: str, gained: int = 0) -> Place | None:
    """The viewer's place on a live month's board, and the place they held before the
    last ``gained`` points (ranked as if they still had that score); None off the board."""
    source = scores.season(season)
    conn = connections.get("default")
    found = await _place(conn, source, await _account_id(conn, viewer), above=1, below=0,
                         gained=gained if gained > 0 else None)
    if not (mine := _mine(found)):
        return None
    points = int(mine["points"])
    rank = 1 + int(mine["ahead"])
    above = _side(found, scores.ABOVE)
    previous: int | None = rank
    if gained > 0:
        # The old score at the row's own tie-breakers: every row ahead of it is ahead of
        # the old place, the viewer's own new row among them.
        previous = int(mine["ahead_before"]) if points - gained > 0 else None
    return Place(rank=rank, points=points, previous_rank=previous,
                 to_next=int(above[0]["points"]) - points + 1 if above else None)


async def _place(conn: BaseDBAsyncClient, source: scores.Scores, account_id: int, *,
                 above: int, below: int, gained: int | None = None) -> list[dict[str, Any]]:
    """The rows of ``scores.place``: on a live month's whole board (the one every player
    sees after each answer) in its hand-written statement, ``place``."""
    if source.hours is not None and source.people is None:
        return await _rows(conn, *place.statement(conn, source.hours, account_id, above=above,
                                                  below=below, gained=gained))
    return await _read(conn, scores.place(source, account_id, above=above, below=below,
                                          gained=gained))


def _mine(found: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The viewer's own row among those ``scores.place`` read; None off the board."""
    return next((r for r in found if r["side"] == scores.MINE), None)


def _side(found: list[dict[str, Any]], side: int) -> list[dict[str, Any]]:
    """The rows ``scores.place`` read on one side of the viewer, nearest first."""
    return sorted((r for r in found if r["side"] == side), key=lambda r: int(r["away"]))


async def _source(kind: str, season: str | None, *, final: bool) -> scores.Scores:
    if kind != "season":
        return scores.all_time()
    assert season is not None
    if final and await standings.is_frozen(season):
        return scores.final_standings(season)
    return scores.season(season)


async def _account_id(conn: BaseDBAsyncClient, person: Person) -> int:
    return (await Account.filter(person_id=person.id).using_db(conn).only("id").get()).id


async def _read(conn: BaseDBAsyncClient, query: QueryBuilder) -> list[dict[str, Any]]:
    return await _rows(conn, *scores.sql(query, conn))


async def _rows(conn: BaseDBAsyncClient, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    # Every query of a board passes here: tests/bench/scale.py times them one by one.
    return list(await conn.execute_query_dict(sql, params))
