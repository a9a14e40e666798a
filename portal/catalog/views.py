"""The rewards catalog's pages: browsing, redeeming, my rewards and their codes, for
players with their own points and for partner managers with their company's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import partial

from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.models import Role
from portal.accounts.sessions import require_person
from portal.catalog import service as catalog
from portal.i18n import Refusal
from portal.web.forms import Form, FormErrors, parse_form
from portal.web.pagination import page_number
from portal.web.templating import render

PAGE = 24


class NoFields(BaseModel):
    """A form that carries nothing but its CSRF token."""

    model_config = ConfigDict(extra="forbid")


class RedeemForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=1000)


async def _form(request: Request, model: type[Form]) -> Form:
    try:
        return parse_form(model, await request.form())
    except FormErrors:
        raise HTTPException(400, i18n.gettext("The form was not understood.")) from None


def _no_store(response: Response) -> Response:
    """Pages with codes are never cached nor kept in the browser's history."""
    response.headers["Cache-Control"] = "no-store"
    return response


async def _viewer(request: Request, company: bool) -> catalog.Viewer:
    if company:
        who = require_person(request, Role.MANAGER)
        return await catalog.as_company(who.person)
    who = require_person(request, Role.PLAYER)
    return await catalog.as_player(who.person)


def _threshold(request: Request, company: bool) -> int:
    # The threshold is a player's rule; a company spends what marketing credited it.
    return 0 if company else int(request.app.state.settings.redemption_threshold)


def _category(request: Request) -> int | None:
    raw = request.query_params.get("category", "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 2**31 - 1:
        raise HTTPException(400, i18n.gettext("Choose one of the categories."))
    return int(raw)


async def index(request: Request, company: bool = False) -> Response:
    viewer = await _viewer(request, company)
    page = page_number(request)
    query = request.query_params.get("q", "")[:100]
    category = _category(request)
    affordable = request.query_params.get("afford") == "1"
    listing = await catalog.listing(viewer, threshold=_threshold(request, company),
                                    category_id=category, query=query,
                                    affordable_only=affordable, offset=(page - 1) * PAGE,
                                    limit=PAGE)
    history = (await catalog.company_orders(viewer.company_id, limit=10))[0] \
        if viewer.company_id is not None else []
    extra = "".join(f"&{k}={v}" for k, v in (("q", query), ("category", category or ""),
                                              ("afford", "1" if affordable else "")) if v)
    return render(request, "catalog/index.html", listing=listing, page=page, more=listing.more,
                  query=extra, q=query, category=category, affordable=affordable,
                  company=company, history=history)


async def item(request: Request, company: bool = False) -> Response:
    viewer = await _viewer(request, company)
    card = await catalog.item_card(viewer, request.path_params["item_id"])
    return render(request, "catalog/item.html", card=card, company=company,
                  threshold=catalog.Threshold(_threshold(request, company), card.available))


async def _confirm(request: Request, viewer: catalog.Viewer, company: bool, *,
                   form: RedeemForm | None = None, refusal: Refusal | None = None
                   ) -> Response:
    """The confirmation page. Its key is minted with the page (a double submit redeems
    once) and kept when a refusal shows it again, unless the key was the problem."""
    card = await catalog.item_card(viewer, request.path_params["item_id"])
    key = form.key if form and catalog.KEY_PATTERN.match(form.key) else uuid.uuid4().hex
    return render(request, "catalog/confirm.html", status_code=refusal.status if refusal
                  else 200, card=card, key=key, company=company,
                  threshold=catalog.Threshold(_threshold(request, company), card.available),
                  error=refusal.translated() if refusal else "",
                  address=form.address if form else "")


async def redeem(request: Request, company: bool = False) -> Response:
    viewer = await _viewer(request, company)
    if request.method == "GET":
        return await _confirm(request, viewer, company)
    form = await _form(request, RedeemForm)
    try:
        done = await catalog.redeem(viewer, request.path_params["item_id"], key=form.key,
                                    address=form.address, settings=request.app.state.settings)
    except Refusal as exc:
        return await _confirm(request, viewer, company, form=form, refusal=exc)
    name = "catalog.company_order" if company else "catalog.order"
    return RedirectResponse(f"{request.url_for(name, order_id=done.order_id)}?new=1",
                            status_code=303)


async def mine(request: Request, company: bool = False) -> Response:
    viewer = await _viewer(request, company)
    page = page_number(request)
    orders, more = await catalog.my_orders(viewer, offset=(page - 1) * 25, limit=25)
    return _no_store(render(request, "catalog/mine.html", orders=orders, page=page, more=more,
                            company=company))


async def order(request: Request, company: bool = False) -> Response:
    viewer = await _viewer(request, company)
    found = await catalog.order(viewer, request.path_params["order_id"])
    return _no_store(render(request, "catalog/order.html", order=found, company=company,
                            new=request.query_params.get("new") == "1", revealed=None,
                            address_given=request.query_params.get("address") == "given"))


async def reveal(request: Request, company: bool = False) -> Response:
    viewer = await _viewer(request, company)
    await _form(request, NoFields)
    order_id = request.path_params["order_id"]
    revealed = await catalog.reveal(viewer, order_id, via="web",
                                    settings=request.app.state.settings,
                                    now=datetime.now(UTC))
    if request.headers.get("hx-request"):
        return _no_store(render(request, "catalog/_code.html", revealed=revealed))
    found = await catalog.order(viewer, order_id)
    return _no_store(render(request, "catalog/order.html", order=found, company=company,
                            new=False, revealed=revealed))


async def pin_goal(request: Request) -> Response:
    viewer = await _viewer(request, False)
    await _form(request, NoFields)
    await catalog.pin_goal(viewer, request.path_params["item_id"], now=datetime.now(UTC))
    return RedirectResponse(request.url_for("catalog.item", item_id=request.path_params[
        "item_id"]), status_code=303)


async def clear_goal(request: Request) -> Response:
    viewer = await _viewer(request, False)
    await _form(request, NoFields)
    await catalog.clear_goal(viewer)
    return RedirectResponse(request.url_for("catalog.index"), status_code=303)


routes = [
    Route("/rewards", index, methods=["GET"], name="catalog.index"),
    Route("/rewards/items/{item_id:id}", item, methods=["GET"], name="catalog.item"),
    Route("/rewards/items/{item_id:id}/redeem", redeem, methods=["GET", "POST"],
          name="catalog.redeem"),
    Route("/rewards/items/{item_id:id}/goal", pin_goal, methods=["POST"],
          name="catalog.pin_goal"),
    Route("/rewards/goal/clear", clear_goal, methods=["POST"], name="catalog.clear_goal"),
    Route("/rewards/mine", mine, methods=["GET"], name="catalog.mine"),
    Route("/rewards/orders/{order_id:id}", order, methods=["GET"], name="catalog.order"),
    Route("/rewards/orders/{order_id:id}/reveal", reveal, methods=["POST"],
          name="catalog.reveal"),
    Route("/rewards/company", partial(index, company=True), methods=["GET"],
          name="catalog.company"),
    Route("/rewards/company/items/{item_id:id}", partial(item, company=True), methods=["GET"],
          name="catalog.company_item"),
    Route("/rewards/company/items/{item_id:id}/redeem", partial(redeem, company=True),
          methods=["GET", "POST"], name="catalog.company_redeem"),
    Route("/rewards/company/orders", partial(mine, company=True), methods=["GET"],
          name="catalog.company_orders"),
    Route("/rewards/company/orders/{order_id:id}", partial(order, company=True),
          methods=["GET"], name="catalog.company_order"),
    Route("/rewards/company/orders/{order_id:id}/reveal", partial(reveal, company=True),
          methods=["POST"], name="catalog.company_reveal"),
]
