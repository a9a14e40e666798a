"""Charity pages: the causes and what the network gave, a cause and its donors, giving
(asked, confirmed, done once), and marketing's causes and donations export."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Literal

from babel.numbers import format_currency
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.models import Role
from portal.accounts.sessions import require_person
from portal.charity import service as charity
from portal.ledger import service as ledger
from portal.web.exports import csv_stream
from portal.web.forms import FormErrors, parse_form
from portal.web.pagination import page_number
from portal.web.pictures import form_with_picture, redirect_after_upload
from portal.web.templating import render

MANAGE = (Role.MARKETING, Role.ADMIN)


def money(cause: charity.CauseView, points: int) -> str:
    """What ``points`` are worth to the cause, in its currency, as the reader writes it."""
    return format_currency(cause.money(points), cause.currency,
                           locale=i18n.current_language())


def _minimum(request: Request) -> int:
    return int(request.app.state.settings.charity_min_donation)


def _cause_id(request: Request) -> int:
    return int(request.path_params["cause_id"])


async def index(request: Request) -> Response:
    who = require_person(request)
    causes = await charity.causes(minimum=_minimum(request))
    network = await charity.network(outlet_id=who.person.outlet_id)
    return render(request, "charity/index.html", causes=causes, network=network, money=money)


async def cause(request: Request, *, status_code: int = 200, **extra: object) -> Response:
    who = require_person(request)
    found = await charity.cause(_cause_id(request), minimum=_minimum(request))
    page = page_number(request)
    size = request.app.state.settings.page_size
    lines, more = await charity.donations(found.id, offset=(page - 1) * size, limit=size)
    context: dict[str, object] = {"errors": {}, "values": {}}
    context.update(extra)
    return render(request, "charity/cause.html", status_code=status_code, cause=found,
                  donations=lines, page=page, more=more, money=money,
                  mine=await charity.given_by(who.person, found.id),
                  can_give=Role.PLAYER in who.roles, key=uuid.uuid4().hex, **context)


class DonateForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    amount: int = Field(ge=1, le=ledger.MAX_AMOUNT)
    key: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    confirm: Literal["1"] | None = None


async def donate(request: Request) -> Response:
    """Asked first (the confirmation page), then given once: the form's key was minted
    when the cause page was shown, so a double tap or a resubmit gives once."""
    who = require_person(request, Role.PLAYER)
    cause_id = _cause_id(request)
    try:
        form = parse_form(DonateForm, await request.form())
        found = await charity.cause(cause_id, minimum=_minimum(request))
        if form.confirm is None:
            points = await ledger.points(await ledger.account_of_person(who.person.id))
            return render(request, "charity/confirm.html", cause=found, amount=form.amount,
                          key=form.key, available=points.available, money=money)
        await charity.donate(who.person, cause_id, amount=form.amount, key=form.key,
                             minimum=_minimum(request), now=datetime.now(UTC))
    except FormErrors as exc:
        return await cause(request, status_code=400, errors=exc.errors, values=exc.values)
    except (charity.DonationTooSmall, ledger.LedgerError, charity.CauseClosed) as exc:
        return await cause(request, status_code=400 if exc.status == 400 else 409,
                           errors={"amount": exc.translated()},
                           values={"amount": str(form.amount)})
    url = request.url_for("charity.cause", cause_id=cause_id)
    return RedirectResponse(f"{url}?thanks=1", status_code=303)


# -- marketing ----------------------------------------------------------------------------


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


class CauseForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=3, max_length=120)
    summary: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=5000)
    goal: int = Field(ge=1, le=ledger.MAX_AMOUNT)
    points_per_unit: int = Field(ge=1, le=1_000_000)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    match_percent: int = Field(default=0, ge=0, le=1000)
    min_donation: Annotated[int | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, ge=1, le=1_000_000)
    is_open: Literal["on"] | None = None
    position: int = Field(default=0, ge=0, le=10_000)

    def terms(self) -> charity.CauseInput:
        return charity.CauseInput(
            title=self.title, summary=self.summary, description=self.description,
            goal=self.goal, points_per_unit=self.points_per_unit, currency=self.currency,
            match_percent=self.match_percent, min_donation=self.min_donation,
            is_open=self.is_open == "on", position=self.position)


async def manage(request: Request) -> Response:
    require_person(request, *MANAGE)
    causes = await charity.causes(minimum=_minimum(request))
    return render(request, "charity/manage.html", causes=causes,
                  network=await charity.network(), money=money)


async def edit(request: Request, *, status_code: int = 200, errors: dict[str, str] | None = None,
               values: Mapping[str, object] | None = None) -> Response:
    require_person(request, *MANAGE)
    found = None
    if "cause_id" in request.path_params:
        found = await charity.raw_cause(_cause_id(request))
        values = values if values is not None else {
            **found.__dict__, "min_donation": found.min_donation or ""}
    return render(request, "charity/edit.html", status_code=status_code, cause=found,
                  errors=errors or {}, values=values if values is not None else {
                      "points_per_unit": 100, "currency": "EUR", "match_percent": 0,
                      "is_open": True, "position": 0})


async def save(request: Request) -> Response:
    """A cause's form, with its picture (sent by HTMX: a multipart body carries its CSRF
    token in the header). A refusal is the form with its errors, a 400 (the site's HTMX
    set-up swaps it in); a saved cause an HX-Redirect, or a 303 without HTMX."""
    who = require_person(request, *MANAGE)
    cause_id = request.path_params.get("cause_id")
    if cause_id is not None:
        await charity.raw_cause(int(cause_id))  # an unknown cause is a 404 before all else
    try:
        form, picture = await form_with_picture(request, CauseForm, max_fields=20)
    except FormErrors as exc:
        return await edit(request, status_code=400, errors=exc.errors, values=exc.values)
    if cause_id is None:
        saved = await charity.create_cause(who.person, form.terms(), picture=picture,
                                           now=datetime.now(UTC))
    else:
        saved = await charity.update_cause(int(cause_id), form.terms(), picture=picture)
    return redirect_after_upload(request, f"{request.url_for('charity.edit', cause_id=saved.id)}"
                                        "?saved=1")


async def export(request: Request) -> Response:
    require_person(request, *MANAGE)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return csv_stream(f"donations-{stamp}.csv", charity.EXPORT_HEADER, charity.export_rows())


routes = [
    Route("/charity", index, methods=["GET"], name="charity.index"),
    Route("/charity/{cause_id:id}", cause, methods=["GET"], name="charity.cause"),
    Route("/charity/{cause_id:id}/donate", donate, methods=["POST"], name="charity.donate"),
    Route("/marketing/charity", manage, methods=["GET"], name="charity.manage"),
    Route("/marketing/charity/new", edit, methods=["GET"], name="charity.new"),
    Route("/marketing/charity/new", save, methods=["POST"], name="charity.create"),
    Route("/marketing/charity/{cause_id:id}", edit, methods=["GET"], name="charity.edit"),
    Route("/marketing/charity/{cause_id:id}", save, methods=["POST"], name="charity.update"),
    Route("/marketing/charity/donations.csv", export, methods=["GET"],
          name="charity.export"),
]
