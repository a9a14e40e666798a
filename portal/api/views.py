"""The JSON API for integrations (mobile apps, chat bots, CRMs), under /api/v1.

Clients sign in with e-mail and password and get a bearer token; the API never reads the
browser's session cookie, so it needs no CSRF token. Errors are JSON:
``{"error": {"status": 400, "message": "..."}}``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.schemas import SchemaGenerator

from portal.accounts import service as accounts
from portal.accounts.models import Outlet
from portal.accounts.service import SignedIn
from portal.ledger import service as ledger
from portal.ledger.models import TransferKind
from portal.seasons import season_of
from portal.web import IdConvertor
from portal.web.errors import api_error
from portal.web.forms import has_control_characters


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


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


class EntryOut(BaseModel):
    id: int
    kind: TransferKind
    amount: int = Field(description="Signed: positive arrived, negative left")
    reason: str
    reference: str
    created_at: datetime


class LedgerPageOut(BaseModel):
    entries: list[EntryOut]
    page: int
    has_more: bool


class ErrorOut(BaseModel):
    class Detail(BaseModel):
        status: int
        message: str
        fields: dict[str, str] | None = None

    error: Detail


def json_body(raw: bytes) -> Any:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "The body must be JSON.") from None
    if _has_control_characters(data):
        raise ApiError(400, "Text in the body contains characters that are not allowed.")
    return data


def _has_control_characters(data: Any) -> bool:
    if isinstance(data, str):
        return has_control_characters(data)
    if isinstance(data, dict):
        return any(_has_control_characters(k) or _has_control_characters(v)
                   for k, v in data.items())
    if isinstance(data, list):
        return any(_has_control_characters(item) for item in data)
    return False


def validate(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in exc.errors()}
        raise ApiError(422, "Some fields are missing or not valid.", fields=fields) from None


async def require_token(request: Request) -> SignedIn:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "Sign in first: send 'Authorization: Bearer <token>'.")
    idle = timedelta(minutes=request.app.state.settings.session_idle_minutes)
    who = await accounts.resume_session(token.strip(), kind="api", idle=idle)
    if who is None:
        raise ApiError(401, "This token is not valid or has expired. Sign in again.")
    return who


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
      401:
        description: Wrong e-mail or password
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ErrorOut'}
      422:
        description: Invalid body
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ErrorOut'}
      429:
        description: Too many attempts
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ErrorOut'}
    """
    body = validate(LoginRequest, json_body(await request.body()))
    address = request.client.host if request.client else "unknown"
    if not await request.app.state.login_throttle.allow(
        email=accounts.normalize_email(body.email), address=address
    ):
        raise ApiError(429, "Too many sign-in attempts. Wait 15 minutes and try again.")
    try:
        person = await accounts.authenticate(body.email, body.password)
    except accounts.InvalidCredentials as exc:
        raise ApiError(401, str(exc)) from None
    lifetime = timedelta(days=request.app.state.settings.session_absolute_days)
    token, session = await accounts.start_session(person, kind="api", lifetime=lifetime)
    return JSONResponse(TokenOut(token=token, expires_at=session.expires_at).model_dump(
        mode="json"))


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
      401:
        description: Missing or invalid token
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ErrorOut'}
    """
    who = await require_token(request)
    person = who.person
    outlet = (
        await Outlet.get(id=person.outlet_id).select_related("company", "region")
        if person.outlet_id
        else None
    )
    account = await ledger.account_of_person(person.id)
    season = season_of(datetime.now(UTC))
    out = MeOut(
        id=person.id,
        full_name=person.full_name,
        display_name=person.display_name,
        email=person.email,
        language=person.language,
        roles=sorted(who.roles),
        company=outlet.company.name if outlet else None,
        outlet=outlet.name if outlet else None,
        region=outlet.region.name if outlet else None,
        balance=account.balance,
        held=account.held,
        available=account.balance - account.held,
        earned_this_season=await ledger.earned_in_season(account, season),
        season=season,
    )
    return JSONResponse(out.model_dump(mode="json"))


async def my_ledger(request: Request) -> Response:
    """A page of the signed-in person's points history, newest first.
    ---
    summary: My points history
    security: [{bearer: []}]
    parameters:
      - {name: page, in: query, schema: {type: integer, minimum: 1, default: 1}}
      - {name: per_page, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 25}}
      - name: kind
        in: query
        schema: {type: string, enum: [earn, burn, spend, capture, donate, adjust]}
    responses:
      200:
        description: One page of entries
        content:
          application/json:
            schema: {$ref: '#/components/schemas/LedgerPageOut'}
      400:
        description: Bad query parameter
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ErrorOut'}
      401:
        description: Missing or invalid token
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ErrorOut'}
    """
    who = await require_token(request)
    only_query_parameters(request, "page", "per_page", "kind")
    page = _int_param(request, "page", default=1, low=1, high=100_000)
    per_page = _int_param(request, "per_page", default=25, low=1, high=100)
    raw_kind = request.query_params.get("kind")
    try:
        kind = TransferKind(raw_kind) if raw_kind else None
    except ValueError:
        raise ApiError(400, f"kind must be one of: {', '.join(TransferKind)}.") from None
    account = await ledger.account_of_person(who.person.id)
    entries, more = await ledger.history(account, kind=kind, offset=(page - 1) * per_page,
                                         limit=per_page)
    out = LedgerPageOut(
        entries=[EntryOut(**entry.__dict__) for entry in entries], page=page, has_more=more
    )
    return JSONResponse(out.model_dump(mode="json"))


def only_query_parameters(request: Request, *names: str) -> None:
    """Refuses a query parameter the operation does not take, as the document says: a
    misspelt one would otherwise be silently ignored."""
    unknown = sorted(set(request.query_params) - set(names))
    if unknown:
        raise ApiError(400, f"Unknown query parameter {unknown[0][:40]!r}; this operation "
                            f"takes {', '.join(names)}.")


def _int_param(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


MODELS: list[type[BaseModel]] = [LoginRequest, TokenOut, MeOut, EntryOut, LedgerPageOut,
                                 ErrorOut]


def components(models: list[type[BaseModel]]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return {
        "schemas": schemas,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    }


_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}


class ApiSchemaGenerator(SchemaGenerator):
    """The OpenAPI document: each handler's docstring, completed with the answers this
    module gives the same way everywhere, so the document cannot forget them.

    - every error is an ErrorOut (``api_error``): 4xx answers get that content;
    - an operation with ``security`` answers 401 without a valid token (``require_token``);
    - one with a body answers 400 when it is not JSON (``json_body``) and 422 when a field
      is wrong (``validate``);
    - one with path parameters answers 404 when they name nothing, and an id parameter
      takes what the ``id`` path convertor matches (``portal.web.IdConvertor``).
    """

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        schema = super().get_schema(routes)
        for route in routes:
            if not isinstance(route, Route):
                continue
            for method, operation in schema.get("paths", {}).get(route.path_format, {}).items():
                if method.upper() in (route.methods or ()):
                    _complete(operation, route)
        return schema


def _complete(operation: dict[str, Any], route: Route) -> None:
    responses = {str(status): answer for status, answer in operation.get("responses", {}).items()}
    operation["responses"] = responses
    if operation.get("security"):
        responses.setdefault("401", {"description": "No bearer token, or one that is not valid "
                                                  "or has expired"})
    if "requestBody" in operation:
        responses.setdefault("400", {"description": "The body is not JSON"})
        responses.setdefault("422", {"description": "Some fields are missing or not valid: "
                                                  "error.fields names each"})
    if route.param_convertors:
        responses.setdefault("404", {"description": "Nothing here by that name or id"})
        declared = {p["name"]: p for p in operation.setdefault("parameters", [])
                    if p.get("in") == "path"}
        for name, convertor in route.param_convertors.items():
            parameter = declared.get(name)
            if parameter is None:
                parameter = {"name": name, "in": "path", "required": True,
                             "schema": {"type": "string"}}
                operation["parameters"].append(parameter)
            if isinstance(convertor, IdConvertor):
                parameter["schema"] = {"type": "integer", "minimum": 1,
                                       "maximum": IdConvertor.maximum}
    for status, response in responses.items():
        if status.startswith("4"):
            response.setdefault("content", _ERROR_CONTENT)


def schema_generator(models: list[type[BaseModel]]) -> SchemaGenerator:
    return ApiSchemaGenerator(
        {
            "openapi": "3.1.0",
            "info": {"title": "Partner learning portal API", "version": "1.0"},
            "servers": [{"url": "/api/v1"}],
            "components": components(models),
        }
    )


async def openapi(request: Request) -> Response:
    """The document for every route of the API app this endpoint is mounted in."""
    return JSONResponse(request.app.state.openapi.get_schema(request.app.routes))


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return api_error(exc.status, exc.message, **exc.extra)


routes: list[BaseRoute] = [
    Route("/auth/login", login, methods=["POST"], name="api.login"),
    Route("/auth/logout", logout, methods=["POST"], name="api.logout"),
    Route("/me", me, methods=["GET"], name="api.me"),
    Route("/me/ledger", my_ledger, methods=["GET"], name="api.ledger"),
    Route("/openapi.json", openapi, methods=["GET"], name="api.openapi"),
]
