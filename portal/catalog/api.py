"""The rewards catalog through the JSON API: the same service functions as the pages.
A player's operations spend their own points; the ``/catalog/company`` ones are a partner
manager's, spending the company's, and each side is refused the other's items."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal.accounts.models import Role
from portal.accounts.sessions import require_token
from portal.catalog import service as catalog
from portal.web.api import (
    ApiError,
    idempotency_key,
    idempotent,
    int_parameter,
    json_body,
    only_query_parameters,
    validate,
)


class ItemOut(BaseModel):
    id: int
    title: str
    description: str
    picture: str = Field(description="A path on this server, or empty")
    price: int
    kind: str = Field(description="certificate (a code) or gift (delivered)")
    category_id: int
    category: str
    left: int | None = Field(description="Codes or units left; null: no limit")
    sold_out: bool
    monthly_limit: int | None
    affordable: bool
    missing: int = Field(description="Points still missing to afford it")
    goal: bool = Field(description="Pinned as my goal")


class CatalogOut(BaseModel):
    items: list[ItemOut]
    more: bool
    available: int = Field(description="My spendable points (balance minus held)")
    threshold: int = Field(description="Points needed before anything can be redeemed")
    threshold_missing: int


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(default="", max_length=500,
                         description="Where a gift is delivered (required for gifts)")


class OrderOut(BaseModel):
    id: int
    item_id: int
    title: str
    kind: str
    price: int
    status: str = Field(description="issued, awaiting, shipped, delivered or cancelled")
    created_at: datetime
    address: str
    has_code: bool
    value: str
    expires_on: date | None
    cancel_reason: str


class CompanyOrderOut(OrderOut):
    redeemed_by: str = Field(description="The partner manager who redeemed it")


class CompanyOrdersOut(BaseModel):
    orders: list[CompanyOrderOut]
    more: bool


class RedeemedOut(BaseModel):
    order: OrderOut
    replayed: bool = Field(description="The same Idempotency-Key was used before: this is "
                                       "that order, and nothing was charged again")


class OrdersOut(BaseModel):
    orders: list[OrderOut]
    more: bool


class CodeOut(BaseModel):
    order_id: int
    code: str
    value: str
    expires_on: date | None
    how_to_use: str


MODELS: list[type[BaseModel]] = [CatalogOut, ItemOut, RedeemIn, OrderOut, RedeemedOut,
                                 OrdersOut, CodeOut, CompanyOrderOut, CompanyOrdersOut]


async def _player(request: Request) -> catalog.Viewer:
    who = await require_token(request)
    if Role.PLAYER not in who.roles:
        raise ApiError(403, "The catalog is for players.")
    return await catalog.as_player(who.person)


async def _company(request: Request) -> catalog.Viewer:
    """A partner manager acting for their company (its points, its items)."""
    who = await require_token(request)
    if Role.MANAGER not in who.roles:
        raise ApiError(403, "Company rewards are for partner managers.")
    return await catalog.as_company(who.person)


def _item(card: catalog.Card) -> ItemOut:
    return ItemOut(id=card.id, title=card.title, description=card.description,
                   picture=card.picture, price=card.price, kind=card.kind.value,
                   category_id=card.category_id, category=card.category, left=card.left,
                   sold_out=card.sold_out, monthly_limit=card.monthly_limit,
                   affordable=card.affordable, missing=card.missing, goal=card.goal)


def _order(view: catalog.OrderView) -> OrderOut:
    return OrderOut(id=view.id, item_id=view.item_id, title=view.title, kind=view.kind.value,
                    price=view.price, status=view.status.value, created_at=view.created_at,
                    address=view.address, has_code=view.has_code, value=view.value,
                    expires_on=view.expires_on, cancel_reason=view.cancel_reason)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


async def _listing(request: Request, viewer: catalog.Viewer, *, threshold: int) -> Response:
    only_query_parameters(request, "category", "q", "affordable", "page")
    page = int_parameter(request, "page", default=1, low=1, high=100_000)
    category = int_parameter(request, "category", default=0, low=1, high=2**31 - 1) or None
    affordable = int_parameter(request, "affordable", default=0, low=0, high=1) == 1
    query = request.query_params.get("q", "")
    if len(query) > 100:
        raise ApiError(400, "q must be at most 100 characters.")
    found = await catalog.listing(viewer, threshold=threshold, category_id=category,
                                  query=query, affordable_only=affordable,
                                  offset=(page - 1) * 24, limit=24)
    return JSONResponse(CatalogOut(
        items=[_item(c) for c in found.cards], more=found.more, available=found.available,
        threshold=found.threshold.points, threshold_missing=found.threshold.missing,
    ).model_dump(mode="json"))


async def _card(request: Request, viewer: catalog.Viewer) -> Response:
    only_query_parameters(request)
    card = await catalog.item_card(viewer, request.path_params["item_id"])
    return JSONResponse(_item(card).model_dump(mode="json"))


async def _redeem(request: Request, viewer: catalog.Viewer) -> Response:
    body = validate(RedeemIn, json_body(await request.body()))
    key = idempotency_key(request)
    done = await catalog.redeem(viewer, request.path_params["item_id"], key=key,
                                address=body.address, settings=request.app.state.settings)
    view = await catalog.order(viewer, done.order_id)
    return JSONResponse(RedeemedOut(order=_order(view), replayed=done.replayed)
                        .model_dump(mode="json"), status_code=200 if done.replayed else 201)


async def _orders_page(request: Request, viewer: catalog.Viewer
                       ) -> tuple[list[catalog.OrderView], bool]:
    only_query_parameters(request, "page")
    page = int_parameter(request, "page", default=1, low=1, high=100_000)
    return await catalog.my_orders(viewer, offset=(page - 1) * 25, limit=25)


async def _reveal(request: Request, viewer: catalog.Viewer) -> Response:
    found = await catalog.reveal(viewer, request.path_params["order_id"], via="api",
                                 settings=request.app.state.settings, now=datetime.now(UTC))
    return _no_store(JSONResponse(CodeOut(order_id=found.order_id, code=found.code,
                                          value=found.value, expires_on=found.expires_on,
                                          how_to_use=found.how_to_use).model_dump(mode="json")))


async def items(request: Request) -> Response:
    """The catalog as I see it.
    ---
    summary: Rewards I can see, cheapest first
    security: [{bearer: []}]
    parameters:
      - {name: category, in: query, schema: {type: integer, minimum: 1, maximum: 2147483647}}
      - {name: q, in: query, schema: {type: string, maxLength: 100}}
      - {name: affordable, in: query, schema: {type: integer, enum: [0, 1]}}
      - {name: page, in: query, schema: {type: integer, minimum: 1, maximum: 100000}}
    responses:
      200:
        description: A page of rewards
        content:
          application/json:
            schema: {$ref: '#/components/schemas/CatalogOut'}
      400: {description: A query parameter that is not valid or not known}
      403: {description: The catalog is for players}
    """
    return await _listing(request, await _player(request),
                          threshold=request.app.state.settings.redemption_threshold)


async def item(request: Request) -> Response:
    """One reward.
    ---
    summary: A reward's detail
    security: [{bearer: []}]
    parameters:
      - {name: item_id, in: path, required: true, schema: {type: integer}}
    responses:
      200:
        description: The reward, with whether I can afford it
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ItemOut'}
      400: {description: A query parameter this operation does not take}
      403: {description: The catalog is for players}
      404: {description: No such reward (or not one I can see)}
    """
    return await _card(request, await _player(request))


@idempotent
async def redeem(request: Request) -> Response:
    """Redeem a reward with my points. The Idempotency-Key header makes a retry safe: the
    same key answers with the same order and charges once.
    ---
    summary: Redeem a reward
    security: [{bearer: []}]
    parameters:
      - {name: item_id, in: path, required: true, schema: {type: integer}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/RedeemIn'}
    responses:
      201:
        description: The order (a code is revealed apart, on request)
        content:
          application/json:
            schema: {$ref: '#/components/schemas/RedeemedOut'}
      200:
        description: The order made earlier with this key
        content:
          application/json:
            schema: {$ref: '#/components/schemas/RedeemedOut'}
      400: {description: No valid Idempotency-Key, or a gift without an address}
      403: {description: The catalog is for players}
      404: {description: No such reward (or not one I can see)}
      409:
        description: Sold out, below the threshold, the monthly limit reached, not enough
          points, or the key used for another reward
    """
    return await _redeem(request, await _player(request))


async def orders(request: Request) -> Response:
    """My orders, newest first.
    ---
    summary: My rewards
    security: [{bearer: []}]
    parameters:
      - {name: page, in: query, schema: {type: integer, minimum: 1, maximum: 100000}}
    responses:
      200:
        description: A page of my orders
        content:
          application/json:
            schema: {$ref: '#/components/schemas/OrdersOut'}
      400: {description: A query parameter that is not valid or not known}
      403: {description: The catalog is for players}
    """
    viewer = await _player(request)
    found, more = await _orders_page(request, viewer)
    return _no_store(JSONResponse(OrdersOut(orders=[_order(o) for o in found], more=more)
                                  .model_dump(mode="json")))


async def reveal(request: Request) -> Response:
    """Reveal the code of one of my orders (logged).
    ---
    summary: Reveal my code
    security: [{bearer: []}]
    parameters:
      - {name: order_id, in: path, required: true, schema: {type: integer}}
    responses:
      200:
        description: The code, its value, expiry and how to use it
        content:
          application/json:
            schema: {$ref: '#/components/schemas/CodeOut'}
      403: {description: The catalog is for players}
      404: {description: No such order of mine with a code}
      409: {description: The order was cancelled}
    """
    return await _reveal(request, await _player(request))


# -- for a company: a partner manager spends the company's points -------------------------


async def company_items(request: Request) -> Response:
    """The company's catalog: items flagged for companies, priced against the company's
    points (no threshold: a company spends what marketing credited it).
    ---
    summary: Rewards my company can redeem, cheapest first
    security: [{bearer: []}]
    parameters:
      - {name: category, in: query, schema: {type: integer, minimum: 1, maximum: 2147483647}}
      - {name: q, in: query, schema: {type: string, maxLength: 100}}
      - {name: affordable, in: query, schema: {type: integer, enum: [0, 1]}}
      - {name: page, in: query, schema: {type: integer, minimum: 1, maximum: 100000}}
    responses:
      200:
        description: A page of rewards; available is the company's points
        content:
          application/json:
            schema: {$ref: '#/components/schemas/CatalogOut'}
      400: {description: A query parameter that is not valid or not known}
      403: {description: Company rewards are for partner managers of a company}
    """
    return await _listing(request, await _company(request), threshold=0)


async def company_item(request: Request) -> Response:
    """One reward for companies.
    ---
    summary: A company reward's detail
    security: [{bearer: []}]
    parameters:
      - {name: item_id, in: path, required: true, schema: {type: integer}}
    responses:
      200:
        description: The reward, with whether the company can afford it
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ItemOut'}
      400: {description: A query parameter this operation does not take}
      403: {description: Company rewards are for partner managers of a company}
      404: {description: No such reward for companies}
    """
    return await _card(request, await _company(request))


@idempotent
async def company_redeem(request: Request) -> Response:
    """Redeem a reward with my company's points, as its partner manager; the company's
    history names me. The same guarantees as a player's redemption.
    ---
    summary: Redeem a reward for my company
    security: [{bearer: []}]
    parameters:
      - {name: item_id, in: path, required: true, schema: {type: integer}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/RedeemIn'}
    responses:
      201:
        description: The company's order
        content:
          application/json:
            schema: {$ref: '#/components/schemas/RedeemedOut'}
      200:
        description: The order made earlier with this key
        content:
          application/json:
            schema: {$ref: '#/components/schemas/RedeemedOut'}
      400: {description: No valid Idempotency-Key, or a gift without an address}
      403: {description: Company rewards are for partner managers of a company}
      404: {description: No such reward for companies}
      409:
        description: Sold out, the monthly limit reached, not enough company points, or
          the key used for another reward
    """
    return await _redeem(request, await _company(request))


async def company_orders(request: Request) -> Response:
    """My company's orders, newest first, with who redeemed each.
    ---
    summary: My company's rewards
    security: [{bearer: []}]
    parameters:
      - {name: page, in: query, schema: {type: integer, minimum: 1, maximum: 100000}}
    responses:
      200:
        description: A page of the company's orders
        content:
          application/json:
            schema: {$ref: '#/components/schemas/CompanyOrdersOut'}
      400: {description: A query parameter that is not valid or not known}
      403: {description: Company rewards are for partner managers of a company}
    """
    found, more = await _orders_page(request, await _company(request))
    return _no_store(JSONResponse(CompanyOrdersOut(
        orders=[CompanyOrderOut(**_order(o).model_dump(), redeemed_by=o.person_name)
                for o in found], more=more).model_dump(mode="json")))


async def company_reveal(request: Request) -> Response:
    """Reveal the code of one of my company's orders (logged, with who revealed it).
    ---
    summary: Reveal a company order's code
    security: [{bearer: []}]
    parameters:
      - {name: order_id, in: path, required: true, schema: {type: integer}}
    responses:
      200:
        description: The code, its value, expiry and how to use it
        content:
          application/json:
            schema: {$ref: '#/components/schemas/CodeOut'}
      403: {description: Company rewards are for partner managers of a company}
      404: {description: No such order of my company with a code}
      409: {description: The order was cancelled}
    """
    return await _reveal(request, await _company(request))


routes: list[BaseRoute] = [
    Route("/catalog/items", items, methods=["GET"], name="api.catalog.items"),
    Route("/catalog/items/{item_id:id}", item, methods=["GET"], name="api.catalog.item"),
    Route("/catalog/items/{item_id:id}/redeem", redeem, methods=["POST"],
          name="api.catalog.redeem"),
    Route("/catalog/orders", orders, methods=["GET"], name="api.catalog.orders"),
    Route("/catalog/orders/{order_id:id}/reveal", reveal, methods=["POST"],
          name="api.catalog.reveal"),
    Route("/catalog/company/items", company_items, methods=["GET"],
          name="api.catalog.company_items"),
    Route("/catalog/company/items/{item_id:id}", company_item, methods=["GET"],
          name="api.catalog.company_item"),
    Route("/catalog/company/items/{item_id:id}/redeem", company_redeem, methods=["POST"],
          name="api.catalog.company_redeem"),
    Route("/catalog/company/orders", company_orders, methods=["GET"],
          name="api.catalog.company_orders"),
    Route("/catalog/company/orders/{order_id:id}/reveal", company_reveal, methods=["POST"],
          name="api.catalog.company_reveal"),
]
