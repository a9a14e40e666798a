"""Error pages (styled HTML) for the site, and the headers every response carries.

The JSON API answers its errors itself (``portal.web.api.exception_handlers``): each
mounted application has its own handlers, so nothing here asks which one a path is under.
"""

from __future__ import annotations

import logging
import secrets
from http import HTTPStatus
from typing import TypeVar
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import i18n
from portal.db import DatabaseBusy
from portal.i18n import N_, Refusal
from portal.web.templating import environment, render

log = logging.getLogger("portal")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)
_SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeadersMiddleware:
    """Adds the security headers and an X-Request-ID to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)  # 16 hex digits, without uuid4's UUID object
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *_SECURITY_HEADERS,
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


Found = TypeVar("Found")


def found_or_404(value: Found | None) -> Found:
    """What a lookup by id found, or a 404 when it found nothing."""
    if value is None:
        raise HTTPException(404)
    return value


class SignInRequired(Exception):
    """Raised by a handler for an anonymous visitor; answered with a redirect to sign in."""


TITLES = {
    400: N_("This request could not be understood"),
    401: N_("Please sign in"),
    403: N_("You do not have access to this page"),
    404: N_("This page does not exist"),
    405: N_("This action is not available here"),
    413: N_("That upload is too large"),
    429: N_("Too many requests"),
}


def http_detail(exc: HTTPException) -> str:
    """What the handler said about the error; empty when it gave only the status."""
    return exc.detail if exc.detail and exc.detail != HTTPStatus(exc.status_code).phrase else ""


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = render(
        request,
        "errors/error.html",
        status_code=exc.status_code,
        status=exc.status_code,
        title=i18n.gettext(TITLES.get(exc.status_code, N_("Something went wrong"))),
        detail=http_detail(exc),
    )
    # Such as the Allow header of a 405.
    response.headers.update(exc.headers or {})
    return response


async def sign_in_required(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={quote(target)}"
    if request.headers.get("hx-request"):
        # HTMX would follow a 303 itself and swap the sign-in page into a fragment.
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


async def database_busy(request: Request, exc: Exception) -> Response:
    log.warning("database busy: %s %s", request.method, request.url.path)
    return render(request, "errors/error.html", status_code=503, status=503,
                  title=i18n.gettext("The portal is very busy"),
                  detail=i18n.gettext("Nothing was changed. Please try again in a moment."))


async def refused(request: Request, exc: Exception) -> Response:
    """A refusal a handler let through (a game that is over, a quiz not open)."""
    assert isinstance(exc, Refusal)
    return render(request, "errors/error.html", status_code=exc.status, status=exc.status,
                  title=exc.translated(), detail="")


async def server_error(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("state", {}).get("request_id", "-")
    log.exception("request %s failed: %s %s", request_id, request.method, request.url.path)
    # The site is mounted inside SecurityHeadersMiddleware, which adds the headers.
    html = environment.get_template("errors/500.html").render(request_id=request_id)
    return Response(html, status_code=500, media_type="text/html")


exception_handlers = {
    HTTPException: http_error,
    SignInRequired: sign_in_required,
    DatabaseBusy: database_busy,
    Refusal: refused,
    Exception: server_error,
}
