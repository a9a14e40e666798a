"""What every JSON endpoint shares: errors as JSON, bodies, query parameters, the bearer
header, and the OpenAPI document assembled from each capability's ``api.py``.

Clients sign in with e-mail and password and get a bearer token; the API never reads the
browser's session cookie, so it needs no CSRF token. Errors are JSON:
``{"error": {"status": 400, "message": "..."}}``. The API is mounted as its own
application with :data:`exception_handlers`, so every error under it, even a route it does
not have, is answered this way.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.schemas import SchemaGenerator

from portal.db import DatabaseBusy
from portal.i18n import Refusal
from portal.web import IdConvertor
from portal.web.errors import TITLES, http_detail
from portal.web.forms import has_control_characters

log = logging.getLogger("portal")


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


class ErrorOut(BaseModel):
    class Detail(BaseModel):
        status: int
        message: str
        fields: dict[str, str] | None = None

    error: Detail


MODELS: list[type[BaseModel]] = [ErrorOut]


def api_error(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message, **extra}}, status)


# -- reading requests ---------------------------------------------------------------------


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


def only_query_parameters(request: Request, *names: str) -> None:
    """Refuses a query parameter the operation does not take, as the document says: a
    misspelt one would otherwise be silently ignored."""
    unknown = sorted(set(request.query_params) - set(names))
    if unknown:
        takes = f"takes {', '.join(names)}" if names else "takes none"
        raise ApiError(400, f"Unknown query parameter {unknown[0][:40]!r}; this operation "
                            f"{takes}.")


def int_parameter(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{8,100}")
_IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": True,
    "description": "Makes a retry safe: the same key again answers with what the first "
                   "request did, and nothing happens twice",
    "schema": {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY.pattern}$"},
}
_IDEMPOTENT: set[Callable[..., Any]] = set()
Handler = TypeVar("Handler", bound=Callable[..., Any])


def idempotent(handler: Handler) -> Handler:
    """Marks a handler that reads :func:`idempotency_key`: the document gets the header
    and its 400 answer, said once here."""
    _IDEMPOTENT.add(handler)
    return handler


def idempotency_key(request: Request) -> str:
    """The ``Idempotency-Key`` header, or a 400 naming what it must be."""
    key = request.headers.get("idempotency-key", "")
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(400, "Send an Idempotency-Key header of 8 to 100 letters, digits, "
                            "'-' or '_'.")
    return key


def bearer_token(request: Request) -> str:
    """The token of the ``Authorization: Bearer`` header; who it belongs to is for
    ``portal.accounts.sessions.require_token`` to say."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "Sign in first: send 'Authorization: Bearer <token>'.")
    return token.strip()


# -- the OpenAPI document -----------------------------------------------------------------


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
    - an operation with ``security`` answers 401 without a valid token (``bearer_token``);
    - one with a body answers 400 when it is not JSON (``json_body``) and 422 when a field
      is wrong (``validate``);
    - one marked :func:`idempotent` takes the ``Idempotency-Key`` header and answers 400
      without a valid one (``idempotency_key``);
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
    if route.endpoint in _IDEMPOTENT:
        operation.setdefault("parameters", []).append(_IDEMPOTENCY_PARAMETER)
        responses.setdefault("400", {"description": "No valid Idempotency-Key"})
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


routes: list[BaseRoute] = [
    Route("/openapi.json", openapi, methods=["GET"], name="api.openapi"),
]


# -- errors, as JSON ----------------------------------------------------------------------


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return api_error(exc.status, exc.message, **exc.extra)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = api_error(exc.status_code,
                         http_detail(exc) or TITLES.get(exc.status_code, "Error"))
    response.headers.update(exc.headers or {})  # such as the Allow header of a 405
    return response


async def _database_busy(request: Request, exc: Exception) -> Response:
    log.warning("database busy: %s %s", request.method, request.url.path)
    return api_error(503, "The portal is very busy right now. Please try again in a moment.")


async def _refused(request: Request, exc: Exception) -> Response:
    """A refusal a handler let through (a game that is over, a quiz not open)."""
    assert isinstance(exc, Refusal)
    return api_error(exc.status, str(exc))


async def _server_error(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("state", {}).get("request_id", "-")
    log.exception("request %s failed: %s %s", request_id, request.method, request.url.path)
    return api_error(500, "Something went wrong on our side.", request_id=request_id)


exception_handlers = {
    ApiError: _api_error,
    HTTPException: _http_error,
    DatabaseBusy: _database_busy,
    Refusal: _refused,
    Exception: _server_error,
}
