"""Team boards (outlets, companies, regions) and a partner manager's own staff, by month.

Who counts as active (finished a game in the month) is play's to say: its subqueries
(``portal.play.activity``) go into these statements, each still one query.
"""

from __future__ import annotations

from dataclasses import dataclass

from pypika_tortoise import Field, Order, Query, Table
from pypika_tortoise.functions import Coalesce, Count, Sum
from tortoise import connections

from portal.accounts.models import Person
from portal.leaderboard.scores import sql
from portal.play import activity
from portal.seasons import season_bounds

TEAM_BOARDS = ("outlets", "companies", "regions")


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
    person, outlet, company, region, account, score = (
        Table("person", alias="p"), Table("outlet", alias="o"), Table("company", alias="c"),
        Table("region", alias="r"), Table("account", alias="a"), Table("season_score", alias="s"))
    team = {"outlets": outlet, "companies": company, "regions": region}[by]
    start, end = season_bounds(season)
    query = (Query.from_(person).join(outlet).on(outlet.id == person.outlet_id)
             .join(company).on(company.id == outlet.company_id)
             .join(region).on(region.id == outlet.region_id)
             .join(account).on(account.person_id == person.id)
             .left_join(score).on((score.account_id == account.id) & (score.season == season))
             .select(team.id.as_("id"), team.name.as_("name"), Count("*").as_("active"),
                     Sum(Coalesce(score.earned, 0)).as_("total"))
             .where(person.is_active == True)  # noqa: E712 (builds SQL, not a comparison)
             .where(person.id.isin(activity.players_between(start=start, end=end)))
             .groupby(team.id, team.name).having(Count("*") >= minimum_active))
    conn = connections.get("default")
    rows = await conn.execute_query_dict(*sql(query, conn))
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
    person, outlet, account, score = (Table("person", alias="p"), Table("outlet", alias="o"),
                                      Table("account", alias="a"), Table("season_score", alias="s"))
    start, end = season_bounds(season)
    query = (Query.from_(person).join(outlet).on(outlet.id == person.outlet_id)
             .join(account).on(account.person_id == person.id)
             .left_join(score).on((score.account_id == account.id) & (score.season == season))
             .select(person.id.as_("id"), person.full_name.as_("name"),
                     outlet.name.as_("outlet"), Coalesce(score.earned, 0).as_("points"),
                     activity.games_finished(person.id, start=start, end=end).as_("games"))
             .where(outlet.company_id == manager.outlet.company_id)
             .orderby(Field("points"), order=Order.desc).orderby(person.full_name, order=Order.asc))
    conn = connections.get("default")
    rows = await conn.execute_query_dict(*sql(query, conn))
    return [StaffRow(int(r["id"]), str(r["name"]), str(r["outlet"]), int(r["games"]),
                     int(r["points"])) for r in rows]
