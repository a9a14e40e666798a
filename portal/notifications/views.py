"""The notification centre: the list, and marking notifications read."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.notifications import service as notifications
from portal.web.auth import require_person
from portal.web.pagination import page_number
from portal.web.templating import render


async def centre(request: Request) -> Response:
    who = require_person(request)
    page = page_number(request)
    items, more = await notifications.recent(
        who.person.id, offset=(page - 1) * 25, limit=25,
        zone=request.app.state.settings.time_zone)
    return render(request, "notifications/list.html", items=items, page=page, more=more)


async def mark_read(request: Request) -> Response:
    who = require_person(request)
    await notifications.mark_read(who.person.id, now=datetime.now(UTC))
    return RedirectResponse(request.url_for("notifications.centre"), status_code=303)


routes = [
    Route("/notifications", centre, methods=["GET"], name="notifications.centre"),
    Route("/notifications/read", mark_read, methods=["POST"], name="notifications.read"),
]
