"""Auctions and raffles through the JSON API: the same service functions as the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal.accounts.models import Person, Role
from portal.accounts.sessions import require_token
from portal.auctions import raffles
from portal.auctions import service as auctions
from portal.auctions.models import Lot, Raffle
from portal.web.api import (
    ApiError,
    idempotency_key,
    idempotent,
    int_parameter,
    json_body,
    only_query_parameters,
    validate,
)


class LotOut(BaseModel):
    id: int
    title: str
    description: str
    prize: str
    picture: str | None = Field(description="Under /media/, or null")
    state: str = Field(description="upcoming, open, closed or cancelled")
    starts_at: datetime
    ends_at: datetime = Field(description="Moves later when a bid comes in the soft close")
    starting_bid: int
    increment: int
    high_bid: int = Field(description="0 while nobody has bid")
    minimum_bid: int = Field(description="The least the next bid may be")
    bidders: int


class BidLineOut(BaseModel):
    display_name: str
    amount: int
    at: datetime


class LotDetailOut(LotOut):
    seconds_left: int
    my_bid: int = Field(description="My highest bid on it (0: none)")
    leading: bool
    outbid: bool
    available: int | None = Field(description="My available points (null: not a player)")
    history: list[BidLineOut] = Field(description="The latest 25 bids, newest first")


class LotsOut(BaseModel):
    lots: list[LotOut]
    more: bool


class BidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=1, le=auctions.MAX_BID)


class BidOut(BaseModel):
    bid_id: int
    lot_id: int
    amount: int
    ends_at: datetime
    extended: bool = Field(description="The bid came in the soft close and moved the end")
    replayed: bool = Field(description="The same Idempotency-Key was used before: nothing "
                                       "happened again")


class RaffleOut(BaseModel):
    id: int
    title: str
    description: str
    prize: str
    picture: str | None
    status: str = Field(description="open or drawn")
    winners: int
    ticket_price: int
    per_person_limit: int
    draw_at: datetime
    sold: int
    seed: str | None = Field(description="Recorded at the draw: with the ticket list it "
                                         "reproduces the winners")


class RafflesOut(BaseModel):
    raffles: list[RaffleOut]


class TicketOut(BaseModel):
    number: int
    display_name: str


class RaffleDetailOut(RaffleOut):
    my_tickets: list[int]
    drawn: list[TicketOut] = Field(description="The winning tickets, in the order drawn")
    tickets: list[TicketOut] = Field(description="The published ticket list (first 1000)")


class TicketsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(ge=1, le=raffles.MAX_TICKETS_AT_ONCE)


class TicketsOut(BaseModel):
    raffle_id: int
    numbers: list[int]
    paid: int
    replayed: bool


MODELS: list[type[BaseModel]] = [LotOut, BidLineOut, LotDetailOut, LotsOut, BidIn, BidOut,
                                 RaffleOut, RafflesOut, TicketOut, RaffleDetailOut, TicketsIn,
                                 TicketsOut]


def _now() -> datetime:
    return datetime.now(UTC)


async def _someone(request: Request) -> tuple[Person, bool]:
    who = await require_token(request)
    return who.person, Role.PLAYER in who.roles


async def _player(request: Request) -> Person:
    person, player = await _someone(request)
    if not player:
        raise ApiError(403, "Bidding and tickets are for players.")
    return person


def _lot(lot: Lot, now: datetime) -> dict[str, Any]:
    return {"id": lot.id, "title": lot.title, "description": lot.description,
            "prize": lot.prize_text, "picture": lot.picture or None,
            "state": auctions.state_of(lot, now), "starts_at": lot.starts_at,
            "ends_at": lot.ends_at, "starting_bid": lot.starting_bid,
            "increment": lot.increment, "high_bid": lot.high_bid,
            "minimum_bid": auctions.minimum_bid(lot), "bidders": lot.bidders}


def _raffle(raffle: Raffle) -> dict[str, Any]:
    return {"id": raffle.id, "title": raffle.title, "description": raffle.description,
            "prize": raffle.prize_text, "picture": raffle.picture or None,
            "status": raffle.status.value, "winners": raffle.winners,
            "ticket_price": raffle.ticket_price, "per_person_limit": raffle.per_person_limit,
            "draw_at": raffle.draw_at, "sold": raffle.sold, "seed": raffle.seed or None}


async def lots(request: Request) -> Response:
    """Open and upcoming lots, ending soonest first.
    ---
    summary: Open and upcoming auctions
    security: [{bearer: []}]
    parameters:
      - name: page
        in: query
        required: false
        schema: {type: integer, minimum: 1, maximum: 100000}
    responses:
      200:
        description: A page of lots
        content:
          application/json:
            schema: {$ref: '#/components/schemas/LotsOut'}
      400: {description: A query parameter that is not valid}
    """
    await _someone(request)
    only_query_parameters(request, "page")
    page = int_parameter(request, "page", default=1, low=1, high=100_000)
    size = int(request.app.state.settings.page_size)
    now = _now()
    found, more = await auctions.lots(now=now, offset=(page - 1) * size, limit=size)
    return JSONResponse(LotsOut(lots=[LotOut(**_lot(lot, now)) for lot in found],
                                more=more).model_dump(mode="json"))


async def lot(request: Request) -> Response:
    """A lot as I see it now: the highest bid, time left, my position, the latest bids.
    ---
    summary: An auction
    security: [{bearer: []}]
    parameters:
      - {name: lot_id, in: path, required: true, schema: {type: integer}}
    responses:
      200:
        description: The lot
        content:
          application/json:
            schema: {$ref: '#/components/schemas/LotDetailOut'}
      404: {description: No such lot}
    """
    person, player = await _someone(request)
    now = _now()
    state = await auctions.lot_state(request.path_params["lot_id"], person if player else None,
                                     now=now)
    lines, _ = await auctions.history(state.lot.id)
    return JSONResponse(LotDetailOut(
        **_lot(state.lot, now), seconds_left=state.seconds_left,
        my_bid=state.mine, leading=state.leading, outbid=state.outbid,
        available=state.available,
        history=[BidLineOut(display_name=line.display_name, amount=line.amount, at=line.at)
                 for line in lines]).model_dump(mode="json"))


@idempotent
async def place_bid(request: Request) -> Response:
    """Bid on a lot: the points are held at once, and released when someone outbids me.
    The Idempotency-Key header makes a retry safe: the same key bids once.
    ---
    summary: Bid on an auction
    security: [{bearer: []}]
    parameters:
      - {name: lot_id, in: path, required: true, schema: {type: integer}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/BidIn'}
    responses:
      201:
        description: The bid leads
        content:
          application/json:
            schema: {$ref: '#/components/schemas/BidOut'}
      200:
        description: The bid made earlier with this key
        content:
          application/json:
            schema: {$ref: '#/components/schemas/BidOut'}
      403: {description: Bidding is for players}
      404: {description: No such lot}
      409:
        description: Too low, not enough points, not open (yet or any more), or the key
          used for another bid
    """
    person = await _player(request)
    body = validate(BidIn, json_body(await request.body()))
    placed = await auctions.place_bid(person, request.path_params["lot_id"],
                                      amount=body.amount,
                                      key=idempotency_key(request),
                                      settings=request.app.state.settings, now=_now())
    return JSONResponse(BidOut(bid_id=placed.bid_id, lot_id=placed.lot_id, amount=placed.amount,
                               ends_at=placed.ends_at, extended=placed.extended,
                               replayed=placed.replayed).model_dump(mode="json"),
                        status_code=200 if placed.replayed else 201)


async def raffle_list(request: Request) -> Response:
    """Raffles selling tickets now, drawn soonest first.
    ---
    summary: Open raffles
    security: [{bearer: []}]
    responses:
      200:
        description: The raffles
        content:
          application/json:
            schema: {$ref: '#/components/schemas/RafflesOut'}
    """
    await _someone(request)
    only_query_parameters(request)
    found, _ = await raffles.raffles(now=_now(), limit=100)
    return JSONResponse(RafflesOut(raffles=[RaffleOut(**_raffle(r)) for r in found]
                                   ).model_dump(mode="json"))


async def raffle(request: Request) -> Response:
    """A raffle: my tickets, the published ticket list, and after the draw its seed and
    winners.
    ---
    summary: A raffle
    security: [{bearer: []}]
    parameters:
      - {name: raffle_id, in: path, required: true, schema: {type: integer}}
    responses:
      200:
        description: The raffle
        content:
          application/json:
            schema: {$ref: '#/components/schemas/RaffleDetailOut'}
      404: {description: No such raffle}
    """
    person, _ = await _someone(request)
    found = await raffles.get_raffle(request.path_params["raffle_id"])
    tickets, _ = await raffles.ticket_list(found.id, limit=1000)
    drawn = await raffles.winners(found.id)
    return JSONResponse(RaffleDetailOut(
        **_raffle(found), my_tickets=await raffles.my_tickets(found.id, person),
        drawn=[TicketOut(number=w.ticket_number, display_name=w.display_name) for w in drawn],
        tickets=[TicketOut(number=t.number, display_name=t.display_name) for t in tickets],
    ).model_dump(mode="json"))


@idempotent
async def buy(request: Request) -> Response:
    """Buy raffle tickets with my points (one spend). The Idempotency-Key header makes a
    retry safe: the same key buys once.
    ---
    summary: Buy raffle tickets
    security: [{bearer: []}]
    parameters:
      - {name: raffle_id, in: path, required: true, schema: {type: integer}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/TicketsIn'}
    responses:
      201:
        description: The tickets bought
        content:
          application/json:
            schema: {$ref: '#/components/schemas/TicketsOut'}
      200:
        description: The tickets bought earlier with this key
        content:
          application/json:
            schema: {$ref: '#/components/schemas/TicketsOut'}
      403: {description: Tickets are for players}
      404: {description: No such raffle}
      409:
        description: Sales have ended, the per-person limit, not enough points, or the
          key used for another purchase
    """
    person = await _player(request)
    body = validate(TicketsIn, json_body(await request.body()))
    bought = await raffles.buy_tickets(person, request.path_params["raffle_id"],
                                       count=body.count,
                                       key=idempotency_key(request),
                                       now=_now())
    return JSONResponse(TicketsOut(raffle_id=bought.raffle_id, numbers=bought.numbers,
                                   paid=bought.paid, replayed=bought.replayed)
                        .model_dump(mode="json"), status_code=200 if bought.replayed else 201)


routes: list[BaseRoute] = [
    Route("/auctions", lots, methods=["GET"], name="api.auctions.lots"),
    Route("/auctions/{lot_id:id}", lot, methods=["GET"], name="api.auctions.lot"),
    Route("/auctions/{lot_id:id}/bids", place_bid, methods=["POST"], name="api.auctions.bid"),
    Route("/raffles", raffle_list, methods=["GET"], name="api.raffles.list"),
    Route("/raffles/{raffle_id:id}", raffle, methods=["GET"], name="api.raffles.raffle"),
    Route("/raffles/{raffle_id:id}/tickets", buy, methods=["POST"], name="api.raffles.buy"),
]
