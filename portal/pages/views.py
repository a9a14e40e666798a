"""The player's dashboard and the rules page."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.models import Role
from portal.accounts.sessions import require_person
from portal.burns import service as burns
from portal.catalog import service as catalog
from portal.ledger import service as ledger
from portal.play import month
from portal.web.templating import render


async def dashboard(request: Request) -> Response:
    who = require_person(request)
    settings = request.app.state.settings
    account = await ledger.account_of_person(who.person.id)
    now = datetime.now(UTC)
    outlook = await burns.outlook(account, settings, now=now)
    recent, _ = await ledger.history(account, limit=5)
    cards = await month.cards(who.person, now=now) if Role.PLAYER in who.roles else []
    waiting = [card for card in cards if card.state in {"new", "in_progress"}]
    rewards = (await catalog.outlook(who.person, threshold=settings.redemption_threshold)
               if Role.PLAYER in who.roles else None)
    return render(request, "pages/dashboard.html", points=outlook.points, burn=outlook,
                  zone=settings.time_zone, recent=recent,
                  welcome=request.query_params.get("welcome"), now=now, waiting=waiting,
                  live_count=len(cards), rewards=rewards)


async def rules(request: Request) -> Response:
    return render(request, "pages/rules.html", settings=request.app.state.settings)


async def health(request: Request) -> Response:
    return Response("ok", media_type="text/plain")


routes = [
    Route("/", dashboard, methods=["GET"], name="pages.dashboard"),
    Route("/rules", rules, methods=["GET"], name="pages.rules"),
    Route("/health", health, methods=["GET"], name="pages.health"),
]
