"""Who is asking: the browser's session cookie and the API's bearer token turned into a
signed-in person, the role checks handlers call, and the request's language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from portal import i18n
from portal.accounts import service as accounts
from portal.accounts.models import Role
from portal.accounts.service import SignedIn
from portal.settings import LANGUAGES, Settings
from portal.web.api import ApiError, bearer_token
from portal.web.errors import SignInRequired

SESSION_COOKIE = "portal_session"
LANGUAGE_COOKIE = "portal_lang"


class SignInPaths:
    """Paths that sign someone in: checked for CSRF even when no cookie came with the
    request, so another site cannot sign a visitor into an account of its choosing."""

    def __contains__(self, path: object) -> bool:
        return path == "/login" or str(path).startswith("/invite/")


class SessionMiddleware:
    """Resolves the session cookie to a person and picks the request's language (the
    site's middleware: the API, mounted apart, never reads the cookie)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.idle = timedelta(minutes=settings.session_idle_minutes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        signed_in: SignedIn | None = None
        # A page request carrying a bearer header skips asgi-csrf's check, so it must not
        # be signed in by the cookie either.
        token = connection.cookies.get(SESSION_COOKIE)
        if token and "authorization" not in connection.headers:
            signed_in = await accounts.resume_session(token, kind="web", idle=self.idle)
        scope.setdefault("state", {})["signed_in"] = signed_in
        zone = (signed_in.time_zone(self.settings.time_zone) if signed_in is not None
                else self.settings.time_zone)
        with i18n.language(self._language(connection, signed_in)), i18n.time_zone(zone):
            await self.app(scope, receive, send)

    def _language(self, connection: HTTPConnection, signed_in: SignedIn | None) -> str:
        if signed_in is not None:
            return signed_in.person.language
        chosen = connection.cookies.get(LANGUAGE_COOKIE)
        if chosen in LANGUAGES:
            return chosen
        return i18n.negotiate(
            connection.headers.get("accept-language", ""), self.settings.default_language
        )


def signed_in(request: Request) -> SignedIn | None:
    return request.scope.get("state", {}).get("signed_in")


def require_person(request: Request, *roles: Role) -> SignedIn:
    """The signed-in person, who must hold one of ``roles`` when any are given."""
    who = signed_in(request)
    if who is None:
        raise SignInRequired()
    if roles and not who.roles.intersection(roles):
        raise HTTPException(403, i18n.gettext("This page is not part of your role."))
    return who


async def require_token(request: Request, *, also: accounts.Also | None = None
                        ) -> SignedIn:
    """The person whose API token came in the ``Authorization: Bearer`` header (with
    ``also``'s columns read in the same statement, in ``SignedIn.row``)."""
    idle = timedelta(minutes=request.app.state.settings.session_idle_minutes)
    who = await accounts.resume_session(bearer_token(request), kind="api", idle=idle,
                                        also=also)
    if who is None:
        raise ApiError(401, "This token is not valid or has expired. Sign in again.")
    request.scope.setdefault("state", {})["signed_in"] = who  # for the API's visits
    return who


def template_context(request: Request) -> dict[str, Any]:
    """Who is signed in, for every page (registered by app.py)."""
    who = signed_in(request)
    return {"me": who.person if who else None, "roles": who.roles if who else frozenset()}


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def session_lifetime(request: Request) -> timedelta:
    """How long a new browser or API session lasts at most."""
    return timedelta(days=request.app.state.settings.session_absolute_days)


def signed_in_at(request: Request, target: str, session: accounts.NewSession) -> Response:
    """A redirect to ``target`` that carries the new session's cookie."""
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, session.token,
                       int(session_lifetime(request).total_seconds()))
    return response


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
