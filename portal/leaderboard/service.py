"""Leaderboards: this month (the season), all time, outlets, companies and regions.

Players are ranked by points *earned* (per season in ``season_score``, all time in
``account.earned_total``), never by balance, so spending or a burn never lowers a rank.
Ties go to whoever reached the score first, then to the older account. The top of a
board, one player's rank and their neighbours are each one indexed query; nothing here
reads the ledger. A finished season's final standings are frozen once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from portal.accounts.models import Person
from portal.db import is_postgres, placeholders, write_transaction
from portal.leaderboard.models import SeasonFreeze, SeasonStanding
from portal.ledger.models import Account
from portal.seasons import season_bounds, season_of

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
    frozen: bool


@dataclass(frozen=True)
class Filters:
    region_id: int | None = None
    outlet_id: int | None = None


class _Source:
    """Where a board's scores come from, as SQL fragments with their parameters.

    Counting and ordering read the score table alone, along the board index
    (score descending, then who got there first, then account id), so the top, a rank
    and its neighbours are index range scans; names are joined only for rows shown.
    """

    def __init__(self, conn: BaseDBAsyncClient, kind: str, season: str | None,
                 filters: Filters) -> None:
        self.conn = conn
        self.params: list[Any] = []
        if kind == "season":
            self.sql = (f"FROM season_score s WHERE s.season = {self._param(season)} "
                        "AND s.earned > 0 ")
            self.score, self.tie, self.key = "s.earned", "s.reached_at", "s.account_id"
        else:
            self.sql = "FROM account a WHERE a.kind = 'person' AND a.earned_total > 0 "
            self.score, self.tie, self.key = "a.earned_total", "a.last_earned_at", "a.id"
        if filters.region_id is not None or filters.outlet_id is not None:
            owner = "s.account_id" if kind == "season" else "a.id"
            people = ("SELECT acc.id FROM account acc JOIN person pp ON pp.id = acc.person_id "
                      "JOIN outlet oo ON oo.id = pp.outlet_id WHERE 1 = 1 ")
            if filters.region_id is not None:
                people += f"AND oo.region_id = {self._param(filters.region_id)} "
            if filters.outlet_id is not None:
                people += f"AND oo.id = {self._param(filters.outlet_id)} "
            self.sql += f"AND {owner} IN ({people}) "

    def _param(self, value: Any) -> str:
        self.params.append(value)
        return placeholders(self.conn, 1, start=len(self.params))[0]

    def listing(self, condition: str = "", order: str = "", limit: str = "") -> str:
        """SELECT the shown columns: the scores first, the names joined afterwards."""
        inner = (f"SELECT {self.key} AS account_id, {self.score} AS points, "
                 f"{self.tie} AS tie {self.sql} {condition} {order} {limit}")
        return ("SELECT r.account_id, r.points, r.tie, p.display_name AS name, "  # noqa: S608
                f"COALESCE(o.name, '') AS outlet FROM ({inner}) r "
                "JOIN account a ON a.id = r.account_id JOIN person p ON p.id = a.person_id "
                "LEFT JOIN outlet o ON o.id = p.outlet_id "
                + order.replace(self.score, "r.points").replace(self.tie, "r.tie")
                .replace(self.key, "r.account_id"))

    def order(self, *, reverse: bool = False) -> str:
        if reverse:
            return f"ORDER BY {self.score} ASC, {self.tie} DESC, {self.key} DESC"
        return f"ORDER BY {self.score} DESC, {self.tie} ASC, {self.key} ASC"

    def ranges(self, side: str, points: int, tie: Any, account_id: int) -> list[str]:
        """The rows ranked above (``side="ahead"``) or below the given one, as three
        conditions that each read one contiguous stretch of the board index: one OR
        across them would make the database walk far more of the index."""
        more, fewer = (">", "<") if side == "ahead" else ("<", ">")
        return [f"AND {self.score} {more} {{s}} ",
                f"AND {self.score} = {{s}} AND {self.tie} {fewer} {{t}} ",
                f"AND {self.score} = {{s}} AND {self.tie} = {{t}} AND {self.key} {fewer} {{i}} "]

    def drop_positive(self) -> None:
        """Leaves out "score > 0" where a tighter bound follows: SQLite builds its index
        range from the first bound it meets, and "> 0" would make it walk every row."""
        self.sql = self.sql.replace(f"AND {self.score} > 0 ", "")

    def bind(self, template: str, points: int, tie: Any, account_id: int) -> str:
        # Markers are added in the order they appear: SQLite's "?" are positional.
        values = {"s": points, "t": tie, "i": account_id}
        out, rest = "", template
        while "{" in rest:
            before, _, after = rest.partition("{")
            name, _, rest = after.partition("}")
            out += before + self._param(values[name])
        return out + rest


async def _rows(conn: BaseDBAsyncClient, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return list(await conn.execute_query_dict(sql, params))


def _row(raw: dict[str, Any], rank: int, me: int | None) -> Row:
    return Row(rank, raw["account_id"], raw["name"], raw["outlet"], int(raw["points"]),
               raw["account_id"] == me)


async def board(viewer: Person, *, kind: str, season: str | None = None,
                filters: Filters | None = None, page: int = 1, size: int = 50,
                now: datetime | None = None) -> Board:
    """A player board ("season" or "all-time") as the viewer sees it."""
    filters = filters or Filters()
    moment = now or datetime.now(UTC)
    if kind == "season":
        season = season or season_of(moment)
        if season < season_of(moment):
            # A finished month: its frozen standings (frozen now if nobody did yet).
            await freeze_season(season, now=moment)
            return await _frozen_board(viewer, season, filters, page, size)
    conn = connections.get("default")
    me_id = await _account_id(conn, viewer)

    def source() -> _Source:
        return _Source(conn, kind, season, filters)

    top_source = source()
    top = [_row(r, n + 1, me_id) for n, r in enumerate(await _rows(
        conn, top_source.listing(order=top_source.order(), limit=f"LIMIT {TOP}"),
        top_source.params))]

    me, around = None, []
    mine = source()
    found = await _rows(conn, mine.listing(f"AND {mine.key} = {mine._param(me_id)}"),
                        mine.params)
    if found:
        raw = found[0]
        mine_at = (int(raw["points"]), raw["tie"], me_id)
        rank = 1 + await _count(conn, source, "ahead", mine_at)
        me = _row(raw, rank, me_id)
        above = await _nearest(conn, source, "ahead", mine_at)
        below = await _nearest(conn, source, "behind", mine_at)
        around = ([_row(r, rank - n - 1, me_id) for n, r in enumerate(above)][::-1] + [me]
                  + [_row(r, rank + n + 1, me_id) for n, r in enumerate(below)])

    paged = source()
    rows = await _rows(conn, paged.listing(order=paged.order(),
                                           limit=f"LIMIT {size + 1} OFFSET {(page - 1) * size}"),
                       paged.params)
    listed = [_row(r, (page - 1) * size + n + 1, me_id) for n, r in enumerate(rows[:size])]
    return Board(kind, season, top, me, around, listed, page, len(rows) > size, False)


async def _count(conn: BaseDBAsyncClient, source: Callable[[], _Source], side: str,
                 at: tuple[int, Any, int]) -> int:
    """How many rows lie on ``side`` of the given one: a count per index stretch."""
    total = 0
    for index, template in enumerate(source().ranges(side, *at)):
        part = source()
        if side == "ahead" or index > 0:  # every such range already implies score > 0
            part.drop_positive()
        condition = part.bind(template, *at)
        rows = await _rows(conn, f"SELECT COUNT(*) AS n {part.sql} {condition}", part.params)
        total += int(rows[0]["n"])
    return total


async def _nearest(conn: BaseDBAsyncClient, source: Callable[[], _Source], side: str,
                   at: tuple[int, Any, int]) -> list[dict[str, Any]]:
    """The NEIGHBOURS rows nearest the given one on ``side``, nearest first."""
    found: list[dict[str, Any]] = []
    for index, template in enumerate(source().ranges(side, *at)):
        part = source()
        if side == "ahead" or index > 0:  # every such range already implies score > 0
            part.drop_positive()
        condition = part.bind(template, *at)
        order = part.order(reverse=side == "ahead")
        found += await _rows(conn, part.listing(condition, order, f"LIMIT {NEIGHBOURS}"),
                             part.params)

    def distance(row: dict[str, Any]) -> tuple[Any, ...]:
        if side == "ahead":  # just above first: lowest score, then latest, then highest id
            return (int(row["points"]), _Descending(row["tie"]), -int(row["account_id"]))
        return (-int(row["points"]), row["tie"], int(row["account_id"]))

    return sorted(found, key=distance)[:NEIGHBOURS]


class _Descending:
    """Sorts any comparable value the other way round."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return bool(self.value > other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value


async def _account_id(conn: BaseDBAsyncClient, person: Person) -> int:
    return (await Account.filter(person_id=person.id).using_db(conn).only("id").get()).id


async def _frozen_board(viewer: Person, season: str, filters: Filters, page: int, size: int
                        ) -> Board:
    query = SeasonStanding.filter(season=season).select_related(
        "account__person__outlet").order_by("rank")
    if filters.outlet_id is not None:
        query = query.filter(account__person__outlet_id=filters.outlet_id)
    if filters.region_id is not None:
        query = query.filter(account__person__outlet__region_id=filters.region_id)
    conn = connections.get("default")
    me_id = await _account_id(conn, viewer)

    def row(standing: SeasonStanding) -> Row:
        person = standing.account.person
        outlet = person.outlet.name if person and person.outlet else ""
        return Row(standing.rank, standing.account_id, person.display_name if person else "",
                   outlet, standing.earned, standing.account_id == me_id)

    top = [row(s) for s in await query.limit(TOP)]
    mine = await SeasonStanding.get_or_none(season=season, account_id=me_id).select_related(
        "account__person__outlet")
    around = []
    if mine is not None:
        around = [row(s) for s in await query.filter(
            rank__gte=mine.rank - NEIGHBOURS, rank__lte=mine.rank + NEIGHBOURS)]
    listed = [row(s) for s in await query.offset((page - 1) * size).limit(size + 1)]
    return Board("season", season, top, row(mine) if mine else None, around, listed[:size],
                 page, len(listed) > size, True)


# -- teams: outlets, companies, regions ---------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    rank: int
    id: int
    name: str
    active: int  # staff who finished at least one game this season
    average: float  # points earned this season per active member
    is_mine: bool


async def team_board(viewer: Person, *, by: str, season: str, minimum_active: int
                     ) -> list[TeamRow]:
    """Outlets, companies or regions ranked by the average points earned this season by
    their *active* staff; a team with fewer active staff than ``minimum_active`` is not
    ranked (a one-person outlet must not beat a whole network)."""
    group = {"outlets": ("o.id", "o.name"), "companies": ("c.id", "c.name"),
             "regions": ("r.id", "r.name")}[by]
    conn = connections.get("default")
    start, end = season_bounds(season)
    p = placeholders(conn, 4)
    rows = await conn.execute_query_dict(
        f"SELECT {group[0]} AS id, {group[1]} AS name, COUNT(*) AS active, "  # noqa: S608
        "SUM(COALESCE(s.earned, 0)) AS total "
        "FROM person p JOIN outlet o ON o.id = p.outlet_id "
        "JOIN company c ON c.id = o.company_id JOIN region r ON r.id = o.region_id "
        "JOIN account a ON a.person_id = p.id "
        f"LEFT JOIN season_score s ON s.account_id = a.id AND s.season = {p[0]} "
        f"WHERE p.is_active = {'TRUE' if is_postgres(conn) else '1'} "
        "AND p.id IN (SELECT DISTINCT g.person_id FROM game g WHERE g.status = 'finished' "
        f"AND g.finished_at >= {p[1]} AND g.finished_at < {p[2]}) "
        f"GROUP BY {group[0]}, {group[1]} HAVING COUNT(*) >= {p[3]}",
        [season, start, end, minimum_active])
    mine = await _viewer_team(viewer, by)
    ranked = sorted(rows, key=lambda r: (-int(r["total"]) / int(r["active"]), str(r["name"])))
    return [TeamRow(n + 1, int(r["id"]), str(r["name"]), int(r["active"]),
                    round(int(r["total"]) / int(r["active"]), 1), int(r["id"]) == mine)
            for n, r in enumerate(ranked)]


async def _viewer_team(viewer: Person, by: str) -> int | None:
    if viewer.outlet_id is None:
        return None
    await viewer.fetch_related("outlet")
    outlet = viewer.outlet
    assert outlet is not None
    return {"outlets": outlet.id, "companies": outlet.company_id,
            "regions": outlet.region_id}[by]


# -- seasons ------------------------------------------------------------------------------


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
        q = placeholders(conn, 2)
        await conn.execute_query(
            "INSERT INTO season_standing (season, account_id, rank, earned) "  # noqa: S608
            f"SELECT {q[0]}, s.account_id, ROW_NUMBER() OVER (ORDER BY s.earned DESC, "
            "s.reached_at ASC, s.account_id ASC), s.earned FROM season_score s "
            "JOIN account a ON a.id = s.account_id "
            f"WHERE s.season = {q[1]} AND a.kind = 'person' AND s.earned > 0",
            [season, season])
    return True


async def past_seasons() -> list[str]:
    return [str(season) for season in
            await SeasonFreeze.all().order_by("-season").values_list("season", flat=True)]


async def badges(person: Person) -> list[tuple[str, int]]:
    """(season, place) for every season this person finished in the top three."""
    rows = await SeasonStanding.filter(account__person_id=person.id, rank__lte=3).order_by(
        "-season")
    return [(row.season, row.rank) for row in rows]


@dataclass(frozen=True)
class StaffRow:
    person_id: int
    name: str
    outlet: str
    games: int  # finished this season
    points: int  # earned this season


async def staff_board(manager: Person, *, season: str) -> list[StaffRow]:
    """A partner manager's own company: each person's games and points this month."""
    if manager.outlet_id is None:
        return []
    await manager.fetch_related("outlet")
    assert manager.outlet is not None
    conn = connections.get("default")
    start, end = season_bounds(season)
    p = placeholders(conn, 4)
    rows = await conn.execute_query_dict(
        "SELECT p.id, p.full_name AS name, o.name AS outlet, "  # noqa: S608
        "COALESCE(s.earned, 0) AS points, (SELECT COUNT(*) FROM game g WHERE "
        f"g.person_id = p.id AND g.status = 'finished' AND g.finished_at >= {p[0]} "
        f"AND g.finished_at < {p[1]}) AS games "
        "FROM person p JOIN outlet o ON o.id = p.outlet_id "
        "JOIN account a ON a.person_id = p.id "
        f"LEFT JOIN season_score s ON s.account_id = a.id AND s.season = {p[2]} "
        f"WHERE o.company_id = {p[3]} ORDER BY points DESC, p.full_name",
        [start, end, season, manager.outlet.company_id])
    return [StaffRow(int(r["id"]), str(r["name"]), str(r["outlet"]), int(r["games"]),
                     int(r["points"])) for r in rows]
