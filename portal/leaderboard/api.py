"""Leaderboards through the JSON API, with the viewer's rank and neighbours."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal.accounts.sessions import require_token
from portal.leaderboard import ranking, standings, teams
from portal.web.api import ApiError, only_query_parameters


class RowOut(BaseModel):
    rank: int
    name: str
    outlet: str
    points: int
    is_me: bool


class BoardOut(BaseModel):
    board: str
    season: str | None
    frozen: bool
    me: RowOut | None
    around_me: list[RowOut]
    top: list[RowOut]


class TeamOut(BaseModel):
    rank: int
    name: str
    active: int
    average: float
    is_mine: bool


class TeamBoardOut(BaseModel):
    board: str
    season: str
    minimum_active: int
    teams: list[TeamOut]


MODELS: list[type[BaseModel]] = [BoardOut, RowOut, TeamBoardOut, TeamOut]


def _row(row: ranking.Row) -> RowOut:
    # Only what a player may see of another: display name, outlet, points (never e-mail).
    return RowOut(rank=row.rank, name=row.name, outlet=row.outlet, points=row.points,
                  is_me=row.is_me)


async def leaderboard(request: Request) -> Response:
    """A leaderboard with my rank and neighbours.
    ---
    summary: A leaderboard (season, all-time, outlets, companies or regions)
    security: [{bearer: []}]
    parameters:
      - name: board
        in: path
        required: true
        schema: {type: string, enum: [season, all-time, outlets, companies, regions]}
      - name: season
        in: query
        description: A past or the current month; the current one when left out
        schema: {type: string, pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', example: "2026-12"}
    responses:
      200:
        description: Player boards answer BoardOut, team boards TeamBoardOut
        content:
          application/json:
            schema:
              oneOf:
                - {$ref: '#/components/schemas/BoardOut'}
                - {$ref: '#/components/schemas/TeamBoardOut'}
      400: {description: Bad season}
      404: {description: No such board}
    """
    who = await require_token(request)
    only_query_parameters(request, "season")
    kind = request.path_params["board"]
    now = datetime.now(UTC)
    try:
        season = standings.parse_season(request.query_params.get("season"), now=now)
    except standings.BadSeason:
        raise ApiError(400, "season must be a past or the current month, like 2026-12.") from None
    if kind in ranking.PLAYER_BOARDS:
        board = await ranking.board(who.person, kind=kind, season=season, now=now)
        out = BoardOut(board=kind, season=board.season, frozen=board.frozen,
                       me=_row(board.me) if board.me else None,
                       around_me=[_row(r) for r in board.around_me],
                       top=[_row(r) for r in board.top])
        return JSONResponse(out.model_dump())
    if kind not in teams.TEAM_BOARDS:
        raise ApiError(404, "There is no such leaderboard.")
    minimum = request.app.state.settings.leaderboard_min_active
    rows = await teams.team_board(who.person, by=kind, season=season, minimum_active=minimum)
    return JSONResponse(TeamBoardOut(
        board=kind, season=season, minimum_active=minimum,
        teams=[TeamOut(**{k: v for k, v in asdict(t).items() if k != "id"}) for t in rows],
    ).model_dump())


routes: list[BaseRoute] = [
    Route("/leaderboards/{board}", leaderboard, methods=["GET"], name="api.leaderboard"),
]
