"""Signing in and out, and choosing the language."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.accounts import service as accounts
from portal.accounts.sessions import (
    LANGUAGE_COOKIE,
    clear_session_cookie,
    session_lifetime,
    signed_in,
    signed_in_at,
)
from portal.settings import Language
from portal.web.forms import FormErrors, parse_form
from portal.web.templating import render


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginForm(_Form):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=200)
    next: str = ""


class LanguageForm(_Form):
    language: Language
    next: str = "/"


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect a sign-in to another site."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def login_page(request: Request) -> Response:
    if signed_in(request):
        return RedirectResponse("/", status_code=303)
    return render(request, "accounts/login.html", next=request.query_params.get("next", ""))


async def login(request: Request) -> Response:
    previous = signed_in(request)
    try:
        form = parse_form(LoginForm, await request.form())
        session = await accounts.sign_in(
            form.email, password=form.password, lifetime=session_lifetime(request),
            address=request.client.host if request.client else "unknown",
            throttle=request.app.state.login_throttle,
            replacing=previous.session_hash if previous else None)
    except FormErrors as exc:
        return render(request, "accounts/login.html", status_code=400, errors=exc.errors,
                      next=exc.values.get("next", ""), email=exc.values.get("email", ""))
    except accounts.AccountError as exc:
        status = 429 if isinstance(exc, accounts.TooManyAttempts) else 400
        return render(request, "accounts/login.html", status_code=status, email=form.email,
                      next=form.next, errors={"form": exc.translated()})
    return signed_in_at(request, _safe_next(form.next), session)


async def logout(request: Request) -> Response:
    who = signed_in(request)
    if who is not None:
        await accounts.end_session(who.session_hash)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


async def choose_language(request: Request) -> Response:
    try:
        form = parse_form(LanguageForm, await request.form())
    except FormErrors:
        return RedirectResponse("/", status_code=303)
    who = signed_in(request)
    if who is not None:
        await accounts.update_profile(who.person, display_name=who.person.display_name,
                                      language=form.language)
    response = RedirectResponse(_safe_next(form.next), status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, form.language, max_age=365 * 24 * 3600,
                        samesite="lax", secure=request.url.scheme == "https")
    return response


routes = [
    Route("/login", login_page, methods=["GET"], name="accounts.login"),
    Route("/login", login, methods=["POST"], name="accounts.sign_in"),
    Route("/logout", logout, methods=["POST"], name="accounts.logout"),
    Route("/language", choose_language, methods=["POST"], name="accounts.language"),
]
