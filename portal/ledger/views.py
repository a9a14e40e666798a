"""A person's points history, a company's for its partner managers, and the adjustments
audit for admin and marketing (people's balances and companies' alike: one rule,
``ledger.adjust``)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts import service as accounts
from portal.accounts.models import Company, Outlet, Role
from portal.accounts.sessions import require_person
from portal.ledger import service as ledger
from portal.ledger.models import TransferKind
from portal.web.forms import DatabaseId, FormErrors, parse_form
from portal.web.pagination import page_number
from portal.web.query import query_choice
from portal.web.templating import render


async def history(request: Request) -> Response:
    who = require_person(request)
    page = page_number(request)
    kind = query_choice(request, "kind", TransferKind,
                        refusal=i18n.gettext("Unknown kind of entry."))
    size = request.app.state.settings.page_size
    account = await ledger.account_of_person(who.person.id)
    entries, more = await ledger.history(account, kind=kind, offset=(page - 1) * size, limit=size)
    fragment = bool(request.headers.get("hx-request"))
    template = "ledger/_entries.html" if fragment else "ledger/history.html"
    return render(request, template, entries=entries, page=page, more=more,
                  kind=kind.value if kind else "", kinds=list(TransferKind),
                  holds=await ledger.open_holds(account))


class AdjustForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    email: EmailStr
    amount: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=5, max_length=500)
    key: str = Field(min_length=8, max_length=100)


class CompanyAdjustForm(BaseModel):
    """Marketing credits a company's account (sales results, co-marketing budgets)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    company_id: DatabaseId
    amount: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=5, max_length=500)
    key: str = Field(min_length=8, max_length=100)


async def company_history(request: Request) -> Response:
    """A partner manager's view of their company's points: every credit and redemption."""
    who = require_person(request, Role.MANAGER)
    if who.person.outlet_id is None:
        raise HTTPException(404, i18n.gettext("You are not part of a company."))
    outlet = await Outlet.get(id=who.person.outlet_id)
    account = await ledger.account_of_company(outlet.company_id)
    if account is None:
        raise HTTPException(404, i18n.gettext("You are not part of a company."))
    page = page_number(request)
    size = request.app.state.settings.page_size
    entries, more = await ledger.history(account, offset=(page - 1) * size, limit=size)
    return render(request, "ledger/company.html", account=account, entries=entries,
                  page=page, more=more)


async def audit(request: Request) -> Response:
    require_person(request, Role.ADMIN, Role.MARKETING)
    return await _render_audit(request)


async def _render_audit(request: Request, *, status_code: int = 200, **extra: object) -> Response:
    page = page_number(request)
    size = request.app.state.settings.page_size
    rows, more = await ledger.adjustments(offset=(page - 1) * size, limit=size)
    context: dict[str, object] = {"errors": {}, "values": {}, "done": None,
                                  "company_errors": {}, "company_values": {}}
    context.update(extra)
    return render(request, "ledger/audit.html", status_code=status_code, rows=rows, page=page,
                  more=more, form_key=uuid.uuid4().hex, companies=await Company.all(),
                  **context)


async def adjust(request: Request) -> Response:
    who = require_person(request, Role.ADMIN, Role.MARKETING)
    try:
        form = parse_form(AdjustForm, await request.form())
        person = await accounts.find_by_email(form.email)
        # The key was minted when the form was rendered: a double submit adjusts once.
        await ledger.adjust(await ledger.account_of_person(person.id), amount=form.amount,
                            reason=form.reason, by_person_id=who.person.id,
                            key=f"adjust:{form.key}")
    except FormErrors as exc:
        return await _render_audit(request, status_code=400, errors=exc.errors, values=exc.values)
    except (accounts.UnknownPerson, ledger.LedgerError) as exc:
        field = "email" if isinstance(exc, accounts.UnknownPerson) else "amount"
        return await _render_audit(request, status_code=400, errors={field: exc.translated()},
                                   values=form.model_dump(exclude={"key"}))
    return RedirectResponse("/audit?done=1", status_code=303)


async def adjust_company(request: Request) -> Response:
    who = require_person(request, Role.ADMIN, Role.MARKETING)
    try:
        form = parse_form(CompanyAdjustForm, await request.form())
        account = await ledger.account_of_company(form.company_id)
        if account is None:
            raise FormErrors({"company_id": i18n.gettext("Choose one of the offered options.")},
                             form.model_dump(exclude={"key"}))
        await ledger.adjust(account, amount=form.amount, reason=form.reason,
                            by_person_id=who.person.id, key=f"adjust:{form.key}")
    except FormErrors as exc:
        return await _render_audit(request, status_code=400, company_errors=exc.errors,
                                   company_values=exc.values)
    except ledger.LedgerError as exc:
        return await _render_audit(request, status_code=400,
                                   company_errors={"amount": exc.translated()},
                                   company_values=form.model_dump(exclude={"key"}))
    return RedirectResponse("/audit?done=1", status_code=303)


routes = [
    Route("/history", history, methods=["GET"], name="ledger.history"),
    Route("/audit", audit, methods=["GET"], name="ledger.audit"),
    Route("/audit/adjust", adjust, methods=["POST"], name="ledger.adjust"),
    Route("/audit/company", adjust_company, methods=["POST"], name="ledger.adjust_company"),
    Route("/history/company", company_history, methods=["GET"], name="ledger.company"),
]
