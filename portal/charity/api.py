"""Charity through the JSON API: the causes, one cause, and giving to it."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal.accounts.models import Role
from portal.accounts.service import SignedIn
from portal.accounts.sessions import require_token
from portal.charity import service as charity
from portal.ledger import service as ledger
from portal.web.api import (
    ApiError,
    idempotency_key,
    idempotent,
    json_body,
    only_query_parameters,
    validate,
)


class CauseOut(BaseModel):
    id: int
    title: str
    summary: str
    description: str
    picture: str | None = Field(description="Path of the picture, under /media/")
    goal: int = Field(description="In points")
    total: int = Field(description="Points given so far")
    donors: int
    percent: int = Field(description="How far the total is towards the goal, 0 to 100")
    points_per_unit: int = Field(description="This many points are one unit of currency")
    currency: str
    match_percent: int = Field(description="The brand adds this much more (100: doubled)")
    total_money: str = Field(description="What the total is worth to the cause, a decimal")
    min_donation: int
    is_open: bool


class OutletTotalOut(BaseModel):
    outlet: str
    company: str
    total: int
    donors: int
    rank: int


class NetworkOut(BaseModel):
    total: int
    donors: int
    outlets: list[OutletTotalOut] = Field(description="The top ten outlets by points given")
    mine: OutletTotalOut | None = Field(description="My outlet, when it gave and is not in "
                                                    "the top ten")


class CausesOut(BaseModel):
    causes: list[CauseOut]
    network: NetworkOut


class DonationOut(BaseModel):
    donor: str = Field(description="The donor's display name")
    amount: int
    created_at: datetime


class CauseDetailOut(BaseModel):
    cause: CauseOut
    given_by_me: int
    donations: list[DonationOut] = Field(description="The newest 20")


class DonateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=1, le=ledger.MAX_AMOUNT)


class DonatedOut(BaseModel):
    donation_id: int
    cause_id: int
    amount: int
    created_at: datetime
    replayed: bool = Field(description="The same Idempotency-Key was used before: this is "
                                       "that donation, and nothing was given again")


MODELS: list[type[BaseModel]] = [CausesOut, CauseOut, NetworkOut, OutletTotalOut,
                                 CauseDetailOut, DonationOut, DonateIn, DonatedOut]


def _cause_out(view: charity.CauseView) -> CauseOut:
    return CauseOut(id=view.id, title=view.title, summary=view.summary,
                    description=view.description,
                    picture=f"/media/{view.picture}" if view.picture else None,
                    goal=view.goal, total=view.total, donors=view.donors,
                    percent=view.percent, points_per_unit=view.points_per_unit,
                    currency=view.currency, match_percent=view.match_percent,
                    total_money=str(view.money(view.total)), min_donation=view.min_donation,
                    is_open=view.is_open)


def _minimum(request: Request) -> int:
    return int(request.app.state.settings.charity_min_donation)


async def causes(request: Request) -> Response:
    """Every cause with its total, and what the network and the top outlets gave.
    ---
    summary: Charity causes
    security: [{bearer: []}]
    responses:
      200:
        description: The causes, open ones first
        content:
          application/json:
            schema: {$ref: '#/components/schemas/CausesOut'}
      400: {description: A query parameter this operation does not take}
    """
    who = await require_token(request)
    only_query_parameters(request)
    views = await charity.causes(minimum=_minimum(request))
    network = await charity.network(outlet_id=who.person.outlet_id)
    return JSONResponse(CausesOut(
        causes=[_cause_out(v) for v in views],
        network=NetworkOut(total=network.total, donors=network.donors,
                           outlets=[OutletTotalOut(**o.__dict__) for o in network.outlets],
                           mine=OutletTotalOut(**network.mine.__dict__) if network.mine
                           else None),
    ).model_dump(mode="json"))


async def cause(request: Request) -> Response:
    """One cause, what I gave to it, and its newest donations.
    ---
    summary: A charity cause
    security: [{bearer: []}]
    parameters:
      - {name: cause_id, in: path, required: true, schema: {type: integer}}
    responses:
      200:
        description: The cause
        content:
          application/json:
            schema: {$ref: '#/components/schemas/CauseDetailOut'}
      400: {description: A query parameter this operation does not take}
      404: {description: No such cause}
    """
    who = await require_token(request)
    only_query_parameters(request)
    view = await charity.cause(request.path_params["cause_id"], minimum=_minimum(request))
    lines, _ = await charity.donations(view.id, limit=20)
    return JSONResponse(CauseDetailOut(
        cause=_cause_out(view), given_by_me=await charity.given_by(who.person, view.id),
        donations=[DonationOut(donor=d.donor, amount=d.amount, created_at=d.created_at)
                   for d in lines],
    ).model_dump(mode="json"))


async def _player(request: Request) -> SignedIn:
    who = await require_token(request)
    if Role.PLAYER not in who.roles:
        raise ApiError(403, "Donating is for players.")
    return who


@idempotent
async def donate(request: Request) -> Response:
    """Give points to a cause. The Idempotency-Key header makes a retry safe: the same key
    answers with the same donation and gives once.
    ---
    summary: Donate to a cause
    security: [{bearer: []}]
    parameters:
      - {name: cause_id, in: path, required: true, schema: {type: integer}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/DonateIn'}
    responses:
      201:
        description: Given
        content:
          application/json:
            schema: {$ref: '#/components/schemas/DonatedOut'}
      200:
        description: The same key was used before; this is that donation
        content:
          application/json:
            schema: {$ref: '#/components/schemas/DonatedOut'}
      400: {description: No valid Idempotency-Key, or below the cause's smallest donation}
      403: {description: Donating is for players}
      404: {description: No such cause}
      409: {description: 'Not enough points, the cause is closed, or the key was used
        for another donation'}
    """
    who = await _player(request)
    body = validate(DonateIn, json_body(await request.body()))
    key = idempotency_key(request)
    done = await charity.donate(who.person, request.path_params["cause_id"],
                                amount=body.amount, key=key, minimum=_minimum(request),
                                now=datetime.now(UTC))
    return JSONResponse(DonatedOut(**done.__dict__).model_dump(mode="json"),
                        status_code=200 if done.replayed else 201)


routes: list[BaseRoute] = [
    Route("/charity/causes", causes, methods=["GET"], name="api.charity.causes"),
    Route("/charity/causes/{cause_id:id}", cause, methods=["GET"], name="api.charity.cause"),
    Route("/charity/causes/{cause_id:id}/donate", donate, methods=["POST"],
          name="api.charity.donate"),
]
