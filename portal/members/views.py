"""A member's pages: their profile (with points and badges), a manager's team and
invites, and joining through an invite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts import service as accounts
from portal.accounts import zones
from portal.accounts.models import Person, Role
from portal.accounts.sessions import (
    require_person,
    session_lifetime,
    signed_in_at,
)
from portal.accounts.zones import TimeZoneName
from portal.leaderboard import standings, teams
from portal.members import service as members
from portal.seasons import season_of
from portal.settings import Language
from portal.web.forms import DatabaseId, FormErrors, Password, parse_form
from portal.web.templating import render


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProfileForm(_Form):
    display_name: str = Field(min_length=2, max_length=60)
    language: Language
    time_zone: TimeZoneName = ""  # empty: the company's
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


async def _render_profile(request: Request, person: Person, *, status_code: int = 200,
                          **extra: object) -> Response:
    context: dict[str, object] = {"saved": None, "values": {}, "errors": {},
                                  "password_errors": {}}
    context.update(extra)
    return render(request, "members/profile.html", status_code=status_code,
                  badges=await standings.badges(person), zones=zones.COMMON,
                  zone_default=await members.company_zone(
                      person, default=request.app.state.settings.time_zone), **context)


async def profile(request: Request) -> Response:
    who = require_person(request)
    return await _render_profile(request, who.person, saved=request.query_params.get("saved"))


async def save_profile(request: Request) -> Response:
    who = require_person(request)
    try:
        form = parse_form(ProfileForm, await request.form())
    except FormErrors as exc:
        return await _render_profile(request, who.person, status_code=400, errors=exc.errors,
                                     values=exc.values)
    await accounts.update_profile(who.person, display_name=form.display_name,
                                  language=form.language,
                                  email_burn_warnings=form.email_burn_warnings,
                                  email_news=form.email_news, time_zone=form.time_zone)
    return RedirectResponse("/profile?saved=profile", status_code=303)


async def change_password(request: Request) -> Response:
    who = require_person(request)
    try:
        form = parse_form(PasswordForm, await request.form())
        await accounts.change_password(who.person, current=form.current_password,
                                       new=form.new_password, keep_session_hash=who.session_hash)
    except FormErrors as exc:
        return await _render_profile(request, who.person, status_code=400,
                                     password_errors=exc.errors)
    except accounts.AccountError:
        return await _render_profile(
            request, who.person, status_code=400,
            password_errors={"current_password":
                             i18n.gettext("The current password is not right.")})
    return RedirectResponse("/profile?saved=password", status_code=303)


async def team(request: Request) -> Response:
    who = require_person(request, Role.MANAGER)
    return await _render_team(request, who.person)


async def _render_team(request: Request, manager: Person, *, status_code: int = 200,
                       **extra: object) -> Response:
    context: dict[str, object] = {"errors": {}, "values": {}, "invite_link": None}
    context.update(extra)
    return render(
        request,
        "members/team.html",
        status_code=status_code,
        staff=await teams.staff_board(manager, season=season_of(datetime.now(UTC))),
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
            valid_for=timedelta(days=request.app.state.settings.invite_valid_days),
        )
    except FormErrors as exc:
        return await _render_team(request, who.person, status_code=400, errors=exc.errors,
                                  values=exc.values)
    except accounts.AccountError as exc:
        return await _render_team(request, who.person, status_code=400,
                                  errors={"form": exc.translated()},
                                  values={"email": form.email})
    link = str(request.url_for("members.accept_invite", token=token))
    return await _render_team(request, who.person, invite_link=link, invited=form.email)


def _unusable_invite(request: Request, exc: accounts.InvalidInvite) -> Response:
    return render(request, "errors/error.html", status_code=404, status=404,
                  title=i18n.gettext("This invite cannot be used"), detail=exc.translated())


async def invite_page(request: Request) -> Response:
    try:
        invite = await accounts.find_invite(request.path_params["token"])
    except accounts.InvalidInvite as exc:
        return _unusable_invite(request, exc)
    return render(request, "members/accept_invite.html", invite=invite, errors={}, values={})


async def join(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        invite = await accounts.find_invite(token)
    except accounts.InvalidInvite as exc:
        return _unusable_invite(request, exc)
    try:
        form = parse_form(AcceptInviteForm, await request.form())
        session = await members.join(token, full_name=form.full_name,
                                     display_name=form.display_name, password=form.password,
                                     language=form.language, lifetime=session_lifetime(request))
    except FormErrors as exc:
        return render(request, "members/accept_invite.html", status_code=400, invite=invite,
                      errors=exc.errors, values=exc.values)
    except accounts.AccountError as exc:
        return render(request, "members/accept_invite.html", status_code=400, invite=invite,
                      errors={"form": exc.translated()}, values={})
    return signed_in_at(request, "/?welcome=1", session)


routes = [
    Route("/profile", profile, methods=["GET"], name="members.profile"),
    Route("/profile", save_profile, methods=["POST"], name="members.save_profile"),
    Route("/profile/password", change_password, methods=["POST"], name="members.password"),
    Route("/team", team, methods=["GET"], name="members.team"),
    Route("/team/invite", send_invite, methods=["POST"], name="members.invite"),
    Route("/invite/{token}", invite_page, methods=["GET"], name="members.accept_invite"),
    Route("/invite/{token}", join, methods=["POST"], name="members.join"),
]
