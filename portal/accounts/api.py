"""Signing in and out through the JSON API."""

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


MODELS: list[type[BaseModel]] = [LoginRequest, TokenOut]


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


routes: list[BaseRoute] = [
    Route("/auth/login", login, methods=["POST"], name="api.login"),
    Route("/auth/logout", logout, methods=["POST"], name="api.logout"),
]
