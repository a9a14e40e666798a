"""Auction and raffle pages: the lots and raffles open now, a lot with its live panel
(polled by HTMX every few seconds) and its bid form, a raffle with its tickets, and
marketing's pages to put up lots and raffles and to cancel a lot."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.models import Person, Role
from portal.accounts.sessions import require_person
from portal.auctions import prizes, raffles
from portal.auctions import service as auctions
from portal.catalog import service as catalog
from portal.ledger import service as ledger
from portal.settings import Settings
from portal.web.forms import FormErrors, parse_form
from portal.web.pagination import page_number
from portal.web.pictures import form_with_picture
from portal.web.templating import render

MANAGE = (Role.MARKETING, Role.ADMIN)
# The live panel asks again this often: a small fragment, cheap on a slow phone.
POLL_SECONDS = 5


def _now() -> datetime:
    return datetime.now(UTC)


def time_left(seconds: int) -> str:
    """ "3 minutes", "2 hours": how long until a lot ends, in the reader's language."""
    return format_timedelta(timedelta(seconds=seconds), threshold=1.5,
                            locale=i18n.current_language())


def _page(request: Request) -> tuple[int, int, int]:
    page = page_number(request)
    size = int(request.app.state.settings.page_size)
    return page, (page - 1) * size, size


# -- players ------------------------------------------------------------------------------


async def index(request: Request) -> Response:
    require_person(request)
    page, offset, size = _page(request)
    lots, more = await auctions.lots(now=_now(), offset=offset, limit=size)
    open_raffles, _ = await raffles.raffles(now=_now(), limit=50)
    return render(request, "auctions/index.html", lots=lots, raffles=open_raffles, page=page,
                  more=more, state_of=auctions.state_of, now=_now(), time_left=time_left)


async def _lot_context(request: Request) -> dict[str, Any]:
    """The live panel's values: the lot as this viewer sees it, and a page of its bids."""
    who = require_person(request)
    viewer = who.person if Role.PLAYER in who.roles else None
    lot_id = request.path_params["lot_id"]
    state = await auctions.lot_state(lot_id, viewer, now=_now())
    page, offset, size = _page(request)
    lines, more = await auctions.history(lot_id, offset=offset, limit=size)
    return {"s": state, "is_player": viewer is not None, "time_left": time_left,
            "zone": i18n.current_zone(), "poll": POLL_SECONDS,
            "lines": lines, "page": page, "more": more}


async def lot(request: Request, *, status_code: int = 200, **extra: object) -> Response:
    context = await _lot_context(request)
    return render(request, "auctions/lot.html", status_code=status_code,
                  form_key=uuid.uuid4().hex, **{"error": "", "amount": "", **context, **extra})


async def live(request: Request) -> Response:
    """The live panel alone, for HTMX's polling."""
    return render(request, "auctions/_live.html", oob=True, **await _lot_context(request))


class BidForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    amount: int = Field(ge=1, le=auctions.MAX_BID)
    key: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")


async def bid(request: Request) -> Response:
    """A bid from the lot's form. HTMX gets the form back (with a fresh key and what
    happened) and the live panel is told to refresh; without HTMX, a redirect."""
    who = require_person(request, Role.PLAYER)
    lot_id = request.path_params["lot_id"]
    htmx = bool(request.headers.get("hx-request"))
    try:
        form = parse_form(BidForm, await request.form())
        await auctions.place_bid(who.person, lot_id, amount=form.amount, key=form.key,
                                 settings=request.app.state.settings, now=_now())
    except FormErrors as exc:
        return await _bid_refused(request, 400, next(iter(exc.errors.values())),
                                  exc.values.get("amount", ""), htmx)
    except (auctions.BidTooLow, auctions.NotStarted, auctions.LotEnded, auctions.BadBid,
            ledger.LedgerError) as exc:
        return await _bid_refused(request, exc.status, exc.translated(), str(form.amount),
                                  htmx)
    if htmx:
        return _bid_done(request, form.amount)
    return RedirectResponse(f"{request.url_for('auctions.lot', lot_id=lot_id)}?placed=1",
                            status_code=303)


def _bid_done(request: Request, amount: int) -> Response:
    response = render(request, "auctions/_bid.html", form_key=uuid.uuid4().hex, error="",
                      amount="", placed=amount, lot_id=request.path_params["lot_id"])
    response.headers["HX-Trigger"] = "bid-placed"
    return response


async def _bid_refused(request: Request, status: int, error: str, amount: str,
                       htmx: bool) -> Response:
    if htmx:  # HTMX swaps only 2xx answers: the refusal is the form, shown with its reason
        response = render(request, "auctions/_bid.html", form_key=uuid.uuid4().hex,
                          error=error, amount=amount, placed=None,
                          lot_id=request.path_params["lot_id"])
        response.headers["HX-Trigger"] = "bid-placed"  # the panel shows the new minimum
        return response
    await auctions.get_lot(request.path_params["lot_id"])  # an unknown lot is a 404
    return await lot(request, status_code=status, error=error, amount=amount)


async def raffle(request: Request, *, status_code: int = 200, **extra: object) -> Response:
    who = require_person(request)
    found = await raffles.get_raffle(request.path_params["raffle_id"])
    page, offset, size = _page(request)
    tickets, more = await raffles.ticket_list(found.id, offset=offset, limit=size)
    return render(request, "auctions/raffle.html", status_code=status_code, raffle=found,
                  tickets=tickets, page=page, more=more, form_key=uuid.uuid4().hex,
                  mine=await raffles.my_tickets(found.id, who.person),
                  winners=await raffles.winners(found.id), now=_now(),
                  is_player=Role.PLAYER in who.roles,
                  zone=i18n.current_zone(),
                  **{"error": "", "count": "1", "bought": None, **extra})


class TicketsForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    count: int = Field(ge=1, le=raffles.MAX_TICKETS_AT_ONCE)
    key: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")


async def buy(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    raffle_id = request.path_params["raffle_id"]
    try:
        form = parse_form(TicketsForm, await request.form())
        bought = await raffles.buy_tickets(who.person, raffle_id, count=form.count,
                                           key=form.key, now=_now())
    except FormErrors as exc:
        return await raffle(request, status_code=400, error=next(iter(exc.errors.values())),
                            count=exc.values.get("count", ""))
    except (raffles.SalesClosed, raffles.TicketLimit, raffles.BadRaffle,
            ledger.LedgerError) as exc:
        return await raffle(request, status_code=exc.status, error=exc.translated(),
                            count=str(form.count))
    url = request.url_for("auctions.raffle", raffle_id=raffle_id)
    return RedirectResponse(f"{url}?bought={len(bought.numbers)}", status_code=303)


# -- marketing ----------------------------------------------------------------------------


async def staff(request: Request) -> Response:
    require_person(request, *MANAGE)
    page, offset, size = _page(request)
    lots, more = await auctions.lots(include_closed=True, offset=offset, limit=size)
    all_raffles, _ = await raffles.raffles(include_drawn=True, limit=50)
    return render(request, "auctions/staff.html", lots=lots, raffles=all_raffles, page=page,
                  more=more, state_of=auctions.state_of, now=_now(),
                  zone=i18n.current_zone())


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


class _PrizeForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=5000)
    prize_text: str = Field(default="", max_length=500)
    prize_item: Annotated[int | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, ge=1, le=2**31 - 1)


class LotForm(_PrizeForm):
    starts_at: datetime
    ends_at: datetime
    starting_bid: int = Field(ge=1, le=auctions.MAX_BID)
    increment: int = Field(ge=1, le=auctions.MAX_BID)

    async def create(self, by: Person, *, picture: str, zone: str, settings: Settings) -> None:
        await auctions.create_lot(auctions.LotFields(
            title=self.title, description=self.description, prize_text=self.prize_text,
            prize_item_id=self.prize_item, starts_at=_local(self.starts_at, zone),
            ends_at=_local(self.ends_at, zone), starting_bid=self.starting_bid,
            increment=self.increment, picture=picture), by=by, settings=settings, now=_now())


class RaffleForm(_PrizeForm):
    draw_at: datetime
    winners: int = Field(ge=1, le=1000)
    ticket_price: int = Field(ge=1, le=ledger.MAX_AMOUNT)
    per_person_limit: int = Field(ge=1, le=raffles.MAX_TICKETS_AT_ONCE)

    async def create(self, by: Person, *, picture: str, zone: str, settings: Settings) -> None:
        await raffles.create_raffle(raffles.RaffleFields(
            title=self.title, description=self.description, prize_text=self.prize_text,
            prize_item_id=self.prize_item, winners=self.winners,
            ticket_price=self.ticket_price, per_person_limit=self.per_person_limit,
            draw_at=_local(self.draw_at, zone), picture=picture), by=by, now=_now())


FORMS: dict[str, type[LotForm] | type[RaffleForm]] = {"lot": LotForm, "raffle": RaffleForm}


class CancelForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: Literal["yes"]


def _local(moment: datetime, zone: str) -> datetime:
    """A time typed in a form (no zone) is in the portal's time zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


async def new(request: Request, *, status_code: int = 200, errors: dict[str, str] | None = None,
              values: Mapping[str, object] | None = None) -> Response:
    """The form for a new lot or raffle (``kind`` in the path)."""
    require_person(request, *MANAGE)
    kind = _kind(request)
    items = [i for i, _ in await catalog.staff_items() if i.active]
    return render(request, f"auctions/new_{kind}.html", status_code=status_code,
                  errors=errors or {}, values=values or {}, items=items,
                  zone=i18n.current_zone(),
                  soft_close=request.app.state.settings.auction_soft_close_minutes)


def _kind(request: Request) -> str:
    kind = str(request.path_params["kind"])
    if kind not in FORMS:
        raise HTTPException(404)
    return kind


async def create(request: Request) -> Response:
    """Saves a new lot or raffle with its picture (multipart); a refusal shows the form
    again with each wrong field named."""
    who = require_person(request, *MANAGE)
    kind = _kind(request)
    try:
        form, picture = await form_with_picture(request, FORMS[kind], max_fields=20)
        # The form's times are on the staff member's clock.
        await form.create(who.person, picture=picture or "", zone=i18n.current_zone(),
                          settings=request.app.state.settings)
    except FormErrors as exc:
        return await new(request, status_code=400, errors=exc.errors, values=exc.values)
    except (auctions.BadBid, raffles.BadRaffle, catalog.NoSuchItem) as exc:
        return await new(request, status_code=400, errors={"form": exc.translated()},
                         values=form.model_dump(mode="json"))
    return RedirectResponse(f"{request.url_for('auctions.staff')}?saved={kind}",
                            status_code=303)


async def cancel(request: Request) -> Response:
    require_person(request, *MANAGE)
    try:
        parse_form(CancelForm, await request.form())
    except FormErrors as exc:
        raise HTTPException(400, i18n.gettext("Tick the box to confirm the cancellation.")
                            ) from exc
    released = await auctions.cancel_lot(request.path_params["lot_id"],
                                         settings=request.app.state.settings, now=_now())
    return RedirectResponse(f"{request.url_for('auctions.staff')}?cancelled={released}",
                            status_code=303)


class AddressForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(default="", max_length=1000)


async def prize_address(request: Request) -> Response:
    """The winner of a gift prize gives its delivery address on the order's page."""
    who = require_person(request, Role.PLAYER)
    order_id = request.path_params["order_id"]
    try:
        form = parse_form(AddressForm, await request.form())
        await prizes.give_address(who.person, order_id, form.address, now=_now())
    except FormErrors:
        raise HTTPException(400, i18n.gettext("The form was not understood.")) from None
    except catalog.BadRequest as exc:
        found = await catalog.order(await catalog.as_player(who.person), order_id)
        return render(request, "catalog/order.html", status_code=400, order=found,
                      company=False, new=False, revealed=None, address_error=exc.translated(),
                      address=form.address)
    return RedirectResponse(f"{request.url_for('catalog.order', order_id=order_id)}"
                            "?address=given", status_code=303)


routes = [
    Route("/auctions", index, methods=["GET"], name="auctions.index"),
    Route("/auctions/prizes/{order_id:id}/address", prize_address, methods=["POST"],
          name="auctions.prize_address"),
    Route("/auctions/lots/{lot_id:id}", lot, methods=["GET"], name="auctions.lot"),
    Route("/auctions/lots/{lot_id:id}/live", live, methods=["GET"], name="auctions.live"),
    Route("/auctions/lots/{lot_id:id}/bid", bid, methods=["POST"], name="auctions.bid"),
    Route("/auctions/raffles/{raffle_id:id}", raffle, methods=["GET"], name="auctions.raffle"),
    Route("/auctions/raffles/{raffle_id:id}/tickets", buy, methods=["POST"],
          name="auctions.buy"),
    Route("/marketing/auctions", staff, methods=["GET"], name="auctions.staff"),
    Route("/marketing/auctions/new/{kind}", new, methods=["GET"], name="auctions.new"),
    Route("/marketing/auctions/new/{kind}", create, methods=["POST"], name="auctions.create"),
    Route("/marketing/auctions/lots/{lot_id:id}/cancel", cancel, methods=["POST"],
          name="auctions.cancel"),
]
