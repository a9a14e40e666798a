"""CSRF protection: asgi-csrf, with a Secure cookie over https, odd requests refused, and
a refused form answered with a page that keeps what was typed.

asgi-csrf 0.11 fails with an exception, which would be a 500, on several kinds of
malformed request before the application sees them: a form body that is not UTF-8, a
token that is not ASCII (``secrets.compare_digest``), a multipart content type without
``; boundary=``, and any multipart body it has to read (simonw/asgi-csrf#38: it passes
python-multipart an argument that no longer exists). Here such requests are answered with
the "form expired" page (403) or the "request not understood" page (400). A multipart form
sent without JavaScript (no X-CSRFToken header) has its body read here, and passes when its
csrftoken field matches the cookie.

The "form expired" page explains, in the reader's language, and gives back what was typed
(never a password): on a form sent from one of the portal's own pages, as a form to check
and send again with a fresh token; from anywhere else, only as text, so that a page
elsewhere cannot get a forged form sent with one tap.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Container
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from asgi_csrf import asgi_csrf
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import i18n
from portal.web import masking
from portal.web.errors import TITLES
from portal.web.templating import render

log = logging.getLogger("portal")

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
COOKIE = "csrftoken"
HEADER = b"x-csrftoken"
# The scope key of a flag set once a request got past the check to the application: an
# exception before that is asgi-csrf failing to read the request, after it is the app's.
_REACHED = "portal.csrf_reached"
# The scope key of what a refused form held, for the page that gives it back.
_TYPED = "portal.csrf_typed"
# A form body kept to give back; a bigger one is not (asgi-csrf reads it whole anyway).
_KEEP_BYTES = 64 * 1024
# The largest multipart body read here for its token (a pack zip is at most 20 MB).
MULTIPART_BYTES = 21 * 1024 * 1024
_FIELDS_SHOWN = 40


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
            "send_csrf_failed": expired_form,
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
        typed: list[bytes] = []
        unsafe = scope["method"] not in _SAFE_METHODS
        if unsafe:
            scope = _header_unmasked(scope)
        if unsafe and _is_multipart(scope) and not _matches_cookie(scope, _header(scope, HEADER)):
            # asgi-csrf cannot read a token from a multipart body (see above): HTMX sends it
            # in the X-CSRFToken header, a form sent without JavaScript as its first field.
            body = await _read_body(receive, limit=MULTIPART_BYTES)
            token, fields = await _multipart_token(scope, body)
            token = masking.unmask(token)
            if not _matches_cookie(scope, token.encode("latin-1", "replace")):
                await expired_form({**scope, _TYPED: fields}, send, None)
                return
            scope = {**scope, "headers": [*scope["headers"], (HEADER, token.encode())]}
            receive = _replay(body, then=receive)
        elif unsafe and _is_urlencoded(scope):
            # The whole body, to unmask its token field before asgi-csrf reads it (it reads
            # a form body whole anyway).
            body = await _read_body(receive, limit=MULTIPART_BYTES)
            if body is None:
                await _bad_request(scope, _replay(None), send)
                return
            typed.append(body[:_KEEP_BYTES])
            receive = _replay(_field_unmasked(body), then=receive)
        reached = _Flag()
        scope = {**scope, _REACHED: reached, _TYPED: typed}
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


def _is_urlencoded(scope: Scope) -> bool:
    return _header(scope, b"content-type").lower().startswith(
        b"application/x-www-form-urlencoded")


def _header_unmasked(scope: Scope) -> Scope:
    """``scope`` with its X-CSRFToken header unmasked (HTMX sends the page's masked token)."""
    sent = _header(scope, HEADER)
    if not sent:
        return scope
    token = masking.unmask(sent.decode("latin-1")).encode("latin-1")
    if token == sent:
        return scope
    headers = [(key, token if key == HEADER else value) for key, value in scope["headers"]]
    return {**scope, "headers": headers}


# A form's csrftoken field; a masked token is URL-safe base64, which needs no escaping.
_TOKEN_FIELD = re.compile(rb"(?:^|(?<=&))csrftoken=([A-Za-z0-9_-]+)(?=&|$)")


def _field_unmasked(body: bytes) -> bytes:
    """A form body with its csrftoken field unmasked; bytes that are not a masked token
    (an unmasked one, garbage, a body that is not UTF-8) are left for asgi-csrf to judge."""
    def unmasked(match: re.Match[bytes]) -> bytes:
        token = masking.unmask(match[1].decode("ascii")).encode("ascii", "replace")
        return b"csrftoken=" + token
    return _TOKEN_FIELD.sub(unmasked, body, count=1)


async def _read_body(receive: Receive, *, limit: int) -> bytes | None:
    """The whole body, or None past ``limit`` bytes (or when the client went away)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes | None, *, then: Receive | None = None) -> Receive:
    """The body already read, as one message; after it, what ``then`` receives (the
    client going away), or at once a disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent and body is not None:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}
    return replay


async def _multipart_token(scope: Scope, body: bytes | None) -> tuple[str, list[tuple[str, str]]]:
    """A multipart body's csrftoken field, and its other text fields (files are not kept);
    nothing when the body is too large or cannot be read."""
    if body is None:
        return "", []
    try:
        async with Request(scope, _replay(body)).form(max_files=5, max_fields=100) as form:
            fields = [(name, value) for name, value in form.multi_items()
                      if not isinstance(value, UploadFile)]
    except (HTTPException, MultiPartException, ClientDisconnect, UnicodeDecodeError,
            ValueError):
        return "", []
    token = next((value for name, value in fields if name == COOKIE), "")
    return token, fields


def _header(scope: Scope, name: bytes) -> bytes:
    return next((value for key, value in scope.get("headers") or [] if key == name), b"")


def _matches_cookie(scope: Scope, token: bytes) -> bool:
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


def _same_site(scope: Scope) -> bool:
    """Whether the form was sent from one of the portal's own pages (Origin, or else
    Referer, names this host)."""
    host = _header(scope, b"host").decode("latin-1")
    origin = _header(scope, b"origin") or _header(scope, b"referer")
    return bool(host) and urlsplit(origin.decode("latin-1")).netloc == host


def _given_back(scope: Scope) -> tuple[list[tuple[str, str]], bool]:
    """What the refused form held, to give back: every field but the token and passwords
    (and whether a password was left out)."""
    typed = scope.get(_TYPED) or []
    if typed and isinstance(typed[0], bytes):
        body = b"".join(typed)[:_KEEP_BYTES].decode("utf-8", "replace")
        typed = parse_qsl(body, keep_blank_values=True)
    kept = [(name, value) for name, value in typed
            if name != COOKIE and "password" not in name.lower()]
    dropped = any("password" in name.lower() for name, _ in typed)
    return kept[:_FIELDS_SHOWN], dropped


async def expired_form(scope: Scope, send: Send, message_id: object) -> None:
    """asgi-csrf's refusal (also called with the scope it gave the app, which holds the
    fresh token): a page that explains and gives back what was typed, in the reader's
    language (the session layer, outside this one, chose it)."""
    request = Request(scope)
    fields, dropped_password = _given_back(scope)
    get_token = scope.get("csrftoken")
    resend = bool(fields) and get_token is not None and _same_site(scope) and not (
        _is_multipart(scope) or dropped_password)
    back = _header(scope, b"referer").decode("latin-1") if _same_site(scope) else ""
    response = render(request, "errors/csrf.html", status_code=403, fields=fields,
                      resend=resend, action=request.url.path, back=back,
                      upload=_is_multipart(scope),
                      csrf_token=masking.mask(get_token()) if get_token else "")
    await response(scope, _replay(None), send)
