"""The pages that bring capabilities together: the player's dashboard, a game's result
(with the ledger's balance and the board's ranks, which play cannot ask for), the rules."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.models import Role
from portal.accounts.sessions import require_person
from portal.burns import service as burns
from portal.catalog import service as catalog
from portal.leaderboard import ranking
from portal.ledger import service as ledger
from portal.play import month, results
from portal.seasons import season_of
from portal.web.templating import render


async def dashboard(request: Request) -> Response:
    who = require_person(request)
    if Role.PLAYER not in who.roles and who.roles & {Role.MARKETING, Role.ADMIN}:
        # Marketing cannot play: their home is the programme's figures.
        return RedirectResponse(request.url_for("analytics.programme"), status_code=303)
    settings = request.app.state.settings
    account = await ledger.account_of_person(who.person.id)
    now = datetime.now(UTC)
    outlook = await burns.outlook(account, settings, now=now, zone=i18n.current_zone())
    recent, _ = await ledger.history(account, limit=5)
    cards = await month.cards(who.person, now=now) if Role.PLAYER in who.roles else []
    waiting = [card for card in cards if card.state in {"new", "in_progress"}]
    rewards = (await catalog.outlook(who.person, threshold=settings.redemption_threshold,
                                     account=account)
               if Role.PLAYER in who.roles else None)
    return render(request, "pages/dashboard.html", points=outlook.points, burn=outlook,
                  zone=i18n.current_zone(), recent=recent,
                  welcome=request.query_params.get("welcome"), now=now, waiting=waiting,
                  live_count=len(cards), rewards=rewards)


async def game_result(request: Request) -> Response:
    """The reward moment: what the game credited, the balance it made, the move on this
    month's board, the answers missed, and the next thing to play."""
    who = require_person(request, Role.PLAYER)
    now = datetime.now(UTC)
    found = await results.game_result(who.person, request.path_params["game_id"])
    place = None
    if found.finished_at is not None and season_of(found.finished_at) == season_of(now):
        place = await ranking.season_place(who.person, season=season_of(now),
                                           gained=found.credited.total)
    account = await ledger.account_of_person(who.person.id)
    following = next((card for card in await month.cards(who.person, now=now)
                      if card.state in {"new", "in_progress"}
                      and (card.kind, card.id) != ("quiz", found.summary.quiz_id)), None)
    return render(request, "play/result.html", result=found, summary=found.summary,
                  place=place, available=account.balance - account.held, following=following)


async def rules(request: Request) -> Response:
    return render(request, "pages/rules.html", settings=request.app.state.settings)


async def health(request: Request) -> Response:
    return Response("ok", media_type="text/plain")


routes = [
    Route("/", dashboard, methods=["GET"], name="pages.dashboard"),
    Route("/play/game/{game_id:id}/result", game_result, methods=["GET"],
          name="pages.game_result"),
    Route("/rules", rules, methods=["GET"], name="pages.rules"),
    Route("/health", health, methods=["GET"], name="pages.health"),
]
