"""Visits recorded as pages are viewed: at most one write per person and day, after the
session is resolved, never holding up the page (a failed write is logged, not shown)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from starlette.types import ASGIApp, Receive, Scope, Send

from portal.analytics.rollups import VisitBook

log = logging.getLogger("portal.analytics")


class VisitMiddleware:
    """Records the signed-in person's visit today (see ``rollups.VisitBook``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.book = VisitBook()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        signed_in = scope.get("state", {}).get("signed_in") if scope["type"] == "http" else None
        if signed_in is not None:
            try:
                await self.book.record(signed_in.person.id, now=datetime.now(UTC))
            except Exception:  # a visit is not worth a failed page
                log.exception("could not record a visit")
        await self.app(scope, receive, send)
