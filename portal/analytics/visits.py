"""Visits recorded as pages and API calls are answered: at most one write per person and
day, once the response has gone out, never holding up a page or a call (a failed write is
logged, not shown).

Who asked is in the request's state: the site's session middleware puts a page's person
there before the page; an API call's token is read by its handler (``require_token``),
which puts the person there too, so the visit is recorded after the call.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from starlette.types import ASGIApp, Receive, Scope, Send

from portal.analytics.rollups import VisitBook

log = logging.getLogger("portal.analytics")


class VisitMiddleware:
    """Records the signed-in person's visit today (see ``rollups.VisitBook``). One book
    is shared by the site and the API (``book``), so a person seen on either is written
    once a day by this process."""

    def __init__(self, app: ASGIApp, book: VisitBook | None = None) -> None:
        self.app = app
        self.book = book or VisitBook()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        try:
            await self.app(scope, receive, send)
        finally:
            signed_in = state.get("signed_in")
            if signed_in is not None:
                try:
                    await self.book.record(signed_in.person.id, now=datetime.now(UTC))
                except Exception:  # a visit is not worth a failed page
                    log.exception("could not record a visit")
