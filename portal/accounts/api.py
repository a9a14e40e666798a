"""Signing in and out through the JSON API, and who the token belongs to."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal.accounts import service as accounts
from portal.accounts.sessions import require_token
from portal.web.api import ApiError, json_body, validate


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the token scheme, not a secret
    expires_at: datetime


class MeOut(BaseModel):
    id: int
    full_name: str
    display_name: str
    email: str
    language: str
    roles: list[str]
    company: str | None
    outlet: str | None
    region: str | None
    balance: int
    held: int
    available: int
    earned_this_season: int
    season: str


MODELS: list[type[BaseModel]] = [LoginRequest, TokenOut, MeOut]


async def login(request: Request) -> Response:
    """Sign in and get a bearer token.
    ---
    summary: Sign in with e-mail and password
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/LoginRequest'}
    responses:
      200:
        description: A bearer token for the Authorization header
        content:
          application/json:
            schema: {$ref: '#/components/schemas/TokenOut'}
      401: {description: Wrong e-mail or password}
      422: {description: Invalid body}
      429: {description: Too many attempts}
    """
    body = validate(LoginRequest, json_body(await request.body()))
    settings = request.app.state.settings
    try:
        session = await accounts.sign_in(
            body.email, password=body.password, kind="api",
            lifetime=timedelta(days=settings.session_absolute_days),
            address=request.client.host if request.client else "unknown",
            throttle=request.app.state.login_throttle)
    except accounts.AccountError as exc:
        raise ApiError(429 if isinstance(exc, accounts.TooManyAttempts) else 401,
                       str(exc)) from None
    return JSONResponse(TokenOut(token=session.token, expires_at=session.expires_at)
                        .model_dump(mode="json"))


async def logout(request: Request) -> Response:
    """End this token's session.
    ---
    summary: Sign out (the token stops working everywhere)
    security: [{bearer: []}]
    responses:
      204: {description: Signed out}
      401: {description: Missing or invalid token}
    """
    who = await require_token(request)
    await accounts.end_session(who.session_hash)
    return Response(status_code=204)


async def me(request: Request) -> Response:
    """The signed-in person and their points.
    ---
    summary: Who am I, and my points
    security: [{bearer: []}]
    responses:
      200:
        description: The person, their roles, organisation and points
        content:
          application/json:
            schema: {$ref: '#/components/schemas/MeOut'}
      401: {description: Missing or invalid token}
    """
    who = await require_token(request)
    found = await accounts.profile(who.person)
    person, points = found.person, found.points
    return JSONResponse(MeOut(
        id=person.id, full_name=person.full_name, display_name=person.display_name,
        email=person.email, language=person.language, roles=sorted(found.roles),
        company=found.company, outlet=found.outlet, region=found.region,
        balance=points.balance, held=points.held, available=points.available,
        earned_this_season=points.earned_this_season, season=points.season,
    ).model_dump(mode="json"))


routes: list[BaseRoute] = [
    Route("/auth/login", login, methods=["POST"], name="api.login"),
    Route("/auth/logout", logout, methods=["POST"], name="api.logout"),
    Route("/me", me, methods=["GET"], name="api.me"),
]
