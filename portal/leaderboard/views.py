"""Leaderboard pages: this month, all time, and teams; with the viewer's own place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.models import Outlet, Person, Region
from portal.accounts.sessions import require_person
from portal.leaderboard import ranking, standings, teams
from portal.seasons import season_of
from portal.web.pagination import page_number
from portal.web.templating import render


def _optional_id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**31:
        raise HTTPException(400, i18n.gettext("Choose one of the offered options."))
    return int(raw)


def _season(request: Request, now: datetime) -> str:
    try:  # the month picker's "this month" may arrive empty
        return standings.parse_season(request.query_params.get("season") or None, now=now)
    except standings.BadSeason as exc:
        raise HTTPException(400, exc.translated()) from None


async def _company_outlets(outlet_id: int | None) -> list[Outlet]:
    if outlet_id is None:
        return []
    own = await Outlet.get(id=outlet_id)
    return await Outlet.filter(company_id=own.company_id)


async def index(request: Request) -> Response:
    require_person(request)
    return RedirectResponse(request.url_for("leaderboard.board", board="season"),
                            status_code=303)


async def show(request: Request) -> Response:
    who = require_person(request)
    kind = request.path_params["board"]
    if kind not in ranking.PLAYER_BOARDS + teams.TEAM_BOARDS:
        raise HTTPException(404)
    now = datetime.now(UTC)
    season = _season(request, now)
    minimum = request.app.state.settings.leaderboard_min_active
    context: dict[str, Any] = {
        "kind": kind, "season": season, "current_season": season_of(now),
        "past_seasons": await standings.past_seasons(now=now), "board": None, "teams": None,
        "minimum": minimum, "region_id": None, "outlet_id": None,
    }
    if kind in ranking.PLAYER_BOARDS:
        context.update(await _player_board(request, who.person, kind, season, now))
    else:
        context["teams"] = await teams.team_board(who.person, by=kind, season=season,
                                                  minimum_active=minimum)
    template = ("leaderboard/_board.html" if request.headers.get("hx-request")
                else "leaderboard/board.html")
    return render(request, template, **context)


async def _player_board(request: Request, viewer: Person, kind: str, season: str,
                        now: datetime) -> dict[str, Any]:
    """A player board's part of the page: the board, its filters and what they offer."""
    filters = ranking.Filters(region_id=_optional_id(request, "region"),
                              outlet_id=_optional_id(request, "outlet"))
    return {
        "board": await ranking.board(viewer, kind=kind, season=season, filters=filters,
                                     page=page_number(request), now=now),
        "region_id": filters.region_id, "outlet_id": filters.outlet_id,
        "regions": await Region.all(),
        # The viewer's own company's outlets: a network has thousands.
        "outlets": await _company_outlets(viewer.outlet_id),
    }


routes = [
    Route("/leaderboard", index, methods=["GET"], name="leaderboard.index"),
    Route("/leaderboard/{board}", show, methods=["GET"], name="leaderboard.board"),
]
