"""Sign-in, sign-out, profile, language, invites and a manager's team page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts import service as accounts
from portal.accounts.models import Role
from portal.accounts.sessions import (
    LANGUAGE_COOKIE,
    clear_session_cookie,
    require_person,
    set_session_cookie,
    signed_in,
)
from portal.leaderboard import standings, teams
from portal.seasons import season_of
from portal.settings import Settings
from portal.web.forms import DatabaseId, FormErrors, parse_form
from portal.web.templating import render

Password = Annotated[str, Field(min_length=10, max_length=200)]
Language = Literal["en", "ru"]


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginForm(_Form):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=200)
    next: str = ""


class ProfileForm(_Form):
    display_name: str = Field(min_length=2, max_length=60)
    language: Language
    email_burn_warnings: bool = False  # unticked boxes are not sent
    email_news: bool = False


class PasswordForm(_Form):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: Password


class InviteForm(_Form):
    email: EmailStr
    outlet_id: DatabaseId


class AcceptInviteForm(_Form):
    full_name: str = Field(min_length=2, max_length=200)
    display_name: str = Field(min_length=2, max_length=60)
    password: Password
    language: Language = "en"


class LanguageForm(_Form):
    language: Language
    next: str = "/"


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _lifetime(request: Request) -> timedelta:
    return timedelta(days=_settings(request).session_absolute_days)


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect a sign-in to another site."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _signed_in_at(request: Request, target: str, session: accounts.NewSession) -> Response:
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, session.token,
                       int(_lifetime(request).total_seconds()))
    return response


async def login_page(request: Request) -> Response:
    if signed_in(request):
        return RedirectResponse("/", status_code=303)
    return render(request, "accounts/login.html", next=request.query_params.get("next", ""))


async def login(request: Request) -> Response:
    previous = signed_in(request)
    try:
        form = parse_form(LoginForm, await request.form())
        session = await accounts.sign_in(
            form.email, password=form.password, lifetime=_lifetime(request),
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
    return _signed_in_at(request, _safe_next(form.next), session)


async def logout(request: Request) -> Response:
    who = signed_in(request)
    if who is not None:
        await accounts.end_session(who.session_hash)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


async def profile(request: Request) -> Response:
    who = require_person(request)
    saved = request.query_params.get("saved")
    return render(request, "accounts/profile.html", saved=saved, values={}, errors={},
                  password_errors={}, badges=await standings.badges(who.person))


async def save_profile(request: Request) -> Response:
    who = require_person(request)
    try:
        form = parse_form(ProfileForm, await request.form())
    except FormErrors as exc:
        return render(request, "accounts/profile.html", status_code=400, errors=exc.errors,
                      values=exc.values, password_errors={}, saved=None, badges=[])
    await accounts.update_profile(who.person, display_name=form.display_name,
                                  language=form.language,
                                  email_burn_warnings=form.email_burn_warnings,
                                  email_news=form.email_news)
    return RedirectResponse("/profile?saved=profile", status_code=303)


async def change_password(request: Request) -> Response:
    who = require_person(request)
    try:
        form = parse_form(PasswordForm, await request.form())
        await accounts.change_password(who.person, current=form.current_password,
                                       new=form.new_password, keep_session_hash=who.session_hash)
    except FormErrors as exc:
        return render(request, "accounts/profile.html", status_code=400, errors={},
                      values={}, password_errors=exc.errors, saved=None, badges=[])
    except accounts.AccountError:
        return render(request, "accounts/profile.html", status_code=400, errors={}, values={},
                      saved=None, badges=[],
                      password_errors={"current_password":
                                       i18n.gettext("The current password is not right.")})
    return RedirectResponse("/profile?saved=password", status_code=303)


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


async def team(request: Request) -> Response:
    who = require_person(request, Role.MANAGER)
    return await _render_team(request, who.person)


async def _render_team(request: Request, manager: accounts.Person, *, status_code: int = 200,
                       **extra: object) -> Response:
    context: dict[str, object] = {"errors": {}, "values": {}, "invite_link": None}
    context.update(extra)
    return render(
        request,
        "accounts/team.html",
        status_code=status_code,
        staff=await teams.staff_board(manager,
                                      season=season_of(datetime.now(UTC))),
        outlets=await accounts.outlets_managed_by(manager),
        invites=await accounts.pending_invites(manager),
        **context,
    )


async def send_invite(request: Request) -> Response:
    who = require_person(request, Role.MANAGER)
    try:
        form = parse_form(InviteForm, await request.form())
        token = await accounts.invite(
            who.person, email=form.email, outlet_id=form.outlet_id,
            valid_for=timedelta(days=_settings(request).invite_valid_days),
        )
    except FormErrors as exc:
        return await _render_team(request, who.person, status_code=400, errors=exc.errors,
                                  values=exc.values)
    except accounts.AccountError as exc:
        return await _render_team(request, who.person, status_code=400,
                                  errors={"form": exc.translated()},
                                  values={"email": form.email})
    link = str(request.url_for("accounts.accept_invite", token=token))
    return await _render_team(request, who.person, invite_link=link, invited=form.email)


def _unusable_invite(request: Request, exc: accounts.InvalidInvite) -> Response:
    return render(request, "errors/error.html", status_code=404, status=404,
                  title=i18n.gettext("This invite cannot be used"), detail=exc.translated())


async def invite_page(request: Request) -> Response:
    try:
        invite = await accounts.find_invite(request.path_params["token"])
    except accounts.InvalidInvite as exc:
        return _unusable_invite(request, exc)
    return render(request, "accounts/accept_invite.html", invite=invite, errors={}, values={})


async def join(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        invite = await accounts.find_invite(token)
    except accounts.InvalidInvite as exc:
        return _unusable_invite(request, exc)
    try:
        form = parse_form(AcceptInviteForm, await request.form())
        session = await accounts.join(token, full_name=form.full_name,
                                      display_name=form.display_name, password=form.password,
                                      language=form.language, lifetime=_lifetime(request))
    except FormErrors as exc:
        return render(request, "accounts/accept_invite.html", status_code=400, invite=invite,
                      errors=exc.errors, values=exc.values)
    except accounts.AccountError as exc:
        return render(request, "accounts/accept_invite.html", status_code=400, invite=invite,
                      errors={"form": exc.translated()}, values={})
    return _signed_in_at(request, "/?welcome=1", session)


routes = [
    Route("/login", login_page, methods=["GET"], name="accounts.login"),
    Route("/login", login, methods=["POST"], name="accounts.sign_in"),
    Route("/logout", logout, methods=["POST"], name="accounts.logout"),
    Route("/profile", profile, methods=["GET"], name="accounts.profile"),
    Route("/profile", save_profile, methods=["POST"], name="accounts.save_profile"),
    Route("/profile/password", change_password, methods=["POST"], name="accounts.password"),
    Route("/language", choose_language, methods=["POST"], name="accounts.language"),
    Route("/team", team, methods=["GET"], name="accounts.team"),
    Route("/team/invite", send_invite, methods=["POST"], name="accounts.invite"),
    Route("/invite/{token}", invite_page, methods=["GET"], name="accounts.accept_invite"),
    Route("/invite/{token}", join, methods=["POST"], name="accounts.join"),
]
