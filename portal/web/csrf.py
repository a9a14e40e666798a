"""CSRF protection: asgi-csrf, with a Secure cookie over https and odd requests refused.

asgi-csrf 0.11 fails with an exception, which would be a 500, on several kinds of
malformed request before the application sees them: a form body that is not UTF-8, a
token that is not ASCII (``secrets.compare_digest``), a multipart content type without
``; boundary=``, and any multipart body it has to read (simonw/asgi-csrf#38: it passes
python-multipart an argument that no longer exists). Here such requests are answered with
the "form expired" page (403) or the "request not understood" page (400).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Container
from http.cookies import SimpleCookie
from typing import Any

from asgi_csrf import asgi_csrf
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from portal import i18n
from portal.web.errors import TITLES, csrf_failed
from portal.web.templating import render

log = logging.getLogger("portal")

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
COOKIE = "csrftoken"
HEADER = b"x-csrftoken"
# The scope key of a flag set once a request got past the check to the application: an
# exception before that is asgi-csrf failing to read the request, after it is the app's.
_REACHED = "portal.csrf_reached"


class _Flag:
    def __init__(self) -> None:
        self.value = False


class CsrfProtection:
    """asgi-csrf around the application, with ``cookie_secure`` following the request's
    scheme (asgi-csrf takes it as a fixed option) and its reading failures answered."""

    def __init__(self, app: ASGIApp, *, signing_secret: str, always_protect: Container[str]
                 ) -> None:
        self.app = app
        options: dict[str, Any] = {
            "signing_secret": signing_secret,
            "always_protect": always_protect,
            "send_csrf_failed": csrf_failed,
        }
        self.plain = asgi_csrf(self._checked, cookie_secure=False, **options)
        self.secure = asgi_csrf(self._checked, cookie_secure=True, **options)

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_REACHED].value = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (scope["method"] not in _SAFE_METHODS and _is_multipart(scope)
                and not _header_matches_cookie(scope)):
            # asgi-csrf cannot read a token from a multipart body (see above), so uploads
            # carry it in the X-CSRFToken header, as HTMX sends it.
            await csrf_failed(scope, send, None)
            return
        reached = _Flag()
        scope = {**scope, _REACHED: reached}
        started = False

        async def watch_start(message: Any) -> None:
            nonlocal started
            started = True
            await send(message)

        protect = self.secure if scope.get("scheme") == "https" else self.plain
        try:
            await protect(scope, receive, watch_start)
        except Exception as exc:
            if reached.value or started:
                raise
            log.warning("refused a request the CSRF check could not read: %s %s (%r)",
                        scope["method"], scope["path"], exc)
            await _bad_request(scope, receive, send)


def _is_multipart(scope: Scope) -> bool:
    return _header(scope, b"content-type").lower().startswith(b"multipart/")


def _header(scope: Scope, name: bytes) -> bytes:
    return next((value for key, value in scope.get("headers") or [] if key == name), b"")


def _header_matches_cookie(scope: Scope) -> bool:
    token = _header(scope, HEADER)
    if not token:
        return False
    cookie = SimpleCookie()
    try:
        cookie.load(_header(scope, b"cookie").decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    morsel = cookie.get(COOKIE)
    return morsel is not None and hmac.compare_digest(morsel.value.encode(), token)


async def _bad_request(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    app = scope.get("app")
    default = app.state.settings.default_language if app is not None else "en"
    with i18n.language(i18n.negotiate(request.headers.get("accept-language", ""), default)):
        response = render(request, "errors/error.html", status_code=400, status=400,
                          title=i18n.gettext(TITLES[400]), detail="")
    await response(scope, receive, send)
