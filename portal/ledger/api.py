"""A person's points history through the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal import i18n
from portal.accounts.sessions import require_token
from portal.ledger import service as ledger
from portal.ledger.models import TransferKind
from portal.web.api import ApiError, int_parameter, only_query_parameters


class EntryOut(BaseModel):
    id: int
    kind: TransferKind
    amount: int = Field(description="Signed: positive arrived, negative left")
    reason: str = Field(description="Why, in the language of the token's person")
    reason_message: str | None = Field(
        description="The English message id the reason was made from (a gettext msgid); "
                    "null when a person wrote the reason")
    reason_params: dict[str, Any] | None = Field(
        description="The message's parameters: numbers, texts, {\"$date\": ISO date}, "
                    "or {\"$texts\": {language: text}}")
    reference: str
    created_at: datetime


class LedgerPageOut(BaseModel):
    entries: list[EntryOut]
    page: int
    has_more: bool


MODELS: list[type[BaseModel]] = [EntryOut, LedgerPageOut]


def _kind(request: Request) -> TransferKind | None:
    raw = request.query_params.get("kind")
    try:
        return TransferKind(raw) if raw else None
    except ValueError:
        raise ApiError(400, f"kind must be one of: {', '.join(TransferKind)}.") from None


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
        schema: {type: string, enum: [earn, burn, spend, capture, donate, adjust, refund,
                                      share]}
    responses:
      200:
        description: One page of entries
        content:
          application/json:
            schema: {$ref: '#/components/schemas/LedgerPageOut'}
      400: {description: Bad query parameter}
      401: {description: Missing or invalid token}
    """
    who = await require_token(request)
    only_query_parameters(request, "page", "per_page", "kind")
    page = int_parameter(request, "page", default=1, low=1, high=100_000)
    per_page = int_parameter(request, "per_page", default=25, low=1, high=100)
    kind = _kind(request)
    account = await ledger.account_of_person(who.person.id)
    with i18n.language(who.person.language):
        entries, more = await ledger.history(account, kind=kind,
                                             offset=(page - 1) * per_page, limit=per_page)
    return JSONResponse(LedgerPageOut(
        entries=[EntryOut(**entry.__dict__) for entry in entries], page=page, has_more=more,
    ).model_dump(mode="json"))


routes: list[BaseRoute] = [
    Route("/me/ledger", my_ledger, methods=["GET"], name="api.ledger"),
]
