"""The notification centre: the list, and marking notifications read."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.sessions import require_person
from portal.notifications import service as notifications
from portal.web.pagination import page_number
from portal.web.templating import render


async def centre(request: Request) -> Response:
    who = require_person(request)
    page = page_number(request)
    items, more = await notifications.recent(
        who.person.id, offset=(page - 1) * 25, limit=25,
        zone=i18n.current_zone())
    return render(request, "notifications/list.html", items=items, page=page, more=more,
                  unread=await notifications.unread_count(who.person.id))


async def bell(request: Request) -> Response:
    """The bell with its count: loaded by every page after it arrives (HTMX)."""
    who = require_person(request)
    return render(request, "notifications/_bell.html",
                  unread=await notifications.unread_count(who.person.id))


async def mark_read(request: Request) -> Response:
    who = require_person(request)
    await notifications.mark_read(who.person.id, now=datetime.now(UTC))
    return RedirectResponse(request.url_for("notifications.centre"), status_code=303)


routes = [
    Route("/notifications", centre, methods=["GET"], name="notifications.centre"),
    Route("/notifications/bell", bell, methods=["GET"], name="notifications.bell"),
    Route("/notifications/read", mark_read, methods=["POST"], name="notifications.read"),
]
