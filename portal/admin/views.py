"""Admin pages: companies, outlets, regions, people and roles, jobs and the mail outbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.expressions import Q

from portal import i18n
from portal.accounts import service as accounts
from portal.accounts.models import Company, Outlet, Person, Region, Role
from portal.jobs.models import JobRun
from portal.jobs.scheduler import JOBS
from portal.notifications import mail
from portal.notifications.models import EmailStatus
from portal.web.auth import require_person
from portal.web.forms import DatabaseId, FormErrors, parse_form
from portal.web.pagination import page_number
from portal.web.templating import render


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CompanyForm(_Form):
    name: str = Field(min_length=2, max_length=200)
    kind: Literal["dealer", "retailer"]


class OutletForm(_Form):
    name: str = Field(min_length=2, max_length=200)
    region_id: DatabaseId


class RegionForm(_Form):
    name: str = Field(min_length=2, max_length=100)


class PersonForm(_Form):
    email: EmailStr
    full_name: str = Field(min_length=2, max_length=200)
    password: str = Field(min_length=10, max_length=200)
    outlet_id: DatabaseId | None = None
    role_player: bool = False
    role_manager: bool = False
    role_marketing: bool = False
    role_admin: bool = False

    def roles(self) -> set[Role]:
        return {role for role in Role if getattr(self, f"role_{role.value}")}


class RolesForm(_Form):
    role_player: bool = False
    role_manager: bool = False
    role_marketing: bool = False
    role_admin: bool = False
    active: bool = False

    def roles(self) -> set[Role]:
        return {role for role in Role if getattr(self, f"role_{role.value}")}


def _blank_to_none(form: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in form.items() if value != ""}


async def companies(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    return await _render_companies(request)


async def _render_companies(request: Request, *, status_code: int = 200, **extra: object
                            ) -> Response:
    context: dict[str, object] = {"errors": {}, "values": {}, "region_errors": {}}
    context.update(extra)
    return render(request, "admin/companies.html", status_code=status_code,
                  companies=await Company.all().prefetch_related("outlets"),
                  regions=await Region.all(), **context)


async def create_company(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    try:
        form = parse_form(CompanyForm, await request.form())
        company = await accounts.create_company(name=form.name, kind=form.kind)
    except FormErrors as exc:
        return await _render_companies(request, status_code=400, errors=exc.errors,
                                       values=exc.values)
    except accounts.AccountError as exc:
        return await _render_companies(request, status_code=400, errors={"name": exc.translated()},
                                       values=form.model_dump())
    return RedirectResponse(request.url_for("admin.company", company_id=company.id),
                            status_code=303)


async def create_region(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    try:
        form = parse_form(RegionForm, await request.form())
        await accounts.create_region(form.name)
    except FormErrors as exc:
        return await _render_companies(request, status_code=400, region_errors=exc.errors)
    except accounts.AccountError as exc:
        return await _render_companies(request, status_code=400,
                                       region_errors={"name": exc.translated()})
    return RedirectResponse(request.url_for("admin.companies"), status_code=303)


async def _company_or_404(request: Request) -> Company:
    company_id = request.path_params["company_id"]
    company = await Company.get_or_none(id=company_id)
    if company is None:
        raise HTTPException(404)
    return company


async def company(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    return await _render_company(request, await _company_or_404(request))


async def _render_company(request: Request, company: Company, *, status_code: int = 200,
                          **extra: object) -> Response:
    context: dict[str, object] = {"errors": {}, "values": {}}
    context.update(extra)
    outlets = await Outlet.filter(company_id=company.id).select_related("region")
    people = await Person.filter(outlet__company_id=company.id).select_related("outlet")
    return render(request, "admin/company.html", status_code=status_code, company=company,
                  outlets=outlets, people=people, regions=await Region.all(), **context)


async def create_outlet(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    company = await _company_or_404(request)
    try:
        form = parse_form(OutletForm, await request.form())
        await accounts.create_outlet(company, name=form.name, region_id=form.region_id)
    except FormErrors as exc:
        return await _render_company(request, company, status_code=400, errors=exc.errors,
                                     values=exc.values)
    except accounts.AccountError as exc:
        return await _render_company(request, company, status_code=400,
                                     errors={"name": exc.translated()}, values=form.model_dump())
    return RedirectResponse(request.url_for("admin.company", company_id=company.id),
                            status_code=303)


async def people(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    return await _render_people(request)


async def _render_people(request: Request, *, status_code: int = 200, **extra: object
                         ) -> Response:
    page = page_number(request)
    size = request.app.state.settings.page_size
    query = request.query_params.get("q", "").strip()[:100]
    found = Person.all()
    if query:
        found = found.filter(Q(email__icontains=query) | Q(full_name__icontains=query))
    rows = await found.select_related("outlet").order_by("full_name").offset(
        (page - 1) * size).limit(size + 1)
    context: dict[str, object] = {"errors": {}, "values": {}}
    context.update(extra)
    return render(request, "admin/people.html", status_code=status_code, people=rows[:size],
                  more=len(rows) > size, page=page, q=query,
                  outlets=await Outlet.all().select_related("company"), **context)


async def create_person(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    try:
        form = parse_form(PersonForm, _blank_to_none(await request.form()))
        if form.outlet_id is not None and not await Outlet.exists(id=form.outlet_id):
            raise FormErrors({"outlet_id": i18n.gettext("Choose one of the offered options.")},
                             form.model_dump(exclude={"password"}))
        person = await accounts.create_person(
            email=form.email, password=form.password, full_name=form.full_name,
            roles=form.roles() or {Role.PLAYER}, outlet_id=form.outlet_id,
        )
    except FormErrors as exc:
        return await _render_people(request, status_code=400, errors=exc.errors,
                                    values=exc.values)
    except accounts.AccountError as exc:
        return await _render_people(request, status_code=400, errors={"email": exc.translated()},
                                    values=form.model_dump(exclude={"password"}))
    return RedirectResponse(request.url_for("admin.person", person_id=person.id),
                            status_code=303)


async def _person_or_404(request: Request) -> Person:
    person = await Person.get_or_none(id=request.path_params["person_id"]).select_related(
        "outlet")
    if person is None:
        raise HTTPException(404)
    return person


async def person_detail(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    person = await _person_or_404(request)
    return render(request, "admin/person.html", person=person,
                  person_roles=await accounts.roles_of(person.id), errors={},
                  saved=request.query_params.get("saved"))


async def update_person(request: Request) -> Response:
    who = require_person(request, Role.ADMIN)
    person = await _person_or_404(request)
    try:
        form = parse_form(RolesForm, await request.form())
    except FormErrors as exc:
        return render(request, "admin/person.html", status_code=400, person=person,
                      person_roles=await accounts.roles_of(person.id), errors=exc.errors,
                      saved=None)
    if person.id == who.person.id and (Role.ADMIN not in form.roles() or not form.active):
        return render(request, "admin/person.html", status_code=400, person=person,
                      person_roles=await accounts.roles_of(person.id), saved=None,
                      errors={"form": i18n.gettext(
                          "You cannot remove your own admin role or deactivate yourself.")})
    await accounts.set_roles(person, form.roles())
    await accounts.set_active(person, active=form.active)
    return RedirectResponse(
        str(request.url_for("admin.person", person_id=person.id)) + "?saved=1", status_code=303)


async def jobs(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    page = page_number(request)
    runs = await JobRun.all().order_by("-started_at").offset((page - 1) * 50).limit(51)
    return render(request, "admin/jobs.html", runs=runs[:50], more=len(runs) > 50, page=page,
                  jobs=JOBS.values())


def _mail_status(request: Request) -> EmailStatus | None:
    raw = request.query_params.get("status", "")
    if not raw:
        return None
    try:
        return EmailStatus(raw)
    except ValueError:
        raise HTTPException(400, i18n.gettext("Unknown e-mail status.")) from None


async def mail_outbox(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    page = page_number(request)
    status = _mail_status(request)
    size = request.app.state.settings.page_size
    emails, more = await mail.outbox(status=status, offset=(page - 1) * size, limit=size)
    return render(request, "admin/mail.html", emails=emails, more=more, page=page,
                  status=status,
                  statuses=[EmailStatus.PENDING, EmailStatus.FAILED, EmailStatus.SENT],
                  query=f"&status={status.value}" if status else "",
                  resent=request.query_params.get("resent") == "1")


class ResendForm(_Form):
    pass


async def resend_mail(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    try:
        parse_form(ResendForm, await request.form())
    except FormErrors as exc:
        raise HTTPException(400, "; ".join(exc.errors.values())) from None
    try:
        found = await mail.resend(request.path_params["email_id"], now=datetime.now(UTC))
    except mail.AlreadySent:
        raise HTTPException(409, i18n.gettext("This e-mail has already been sent.")) from None
    if not found:
        raise HTTPException(404)
    return RedirectResponse(str(request.url_for("admin.mail")) + "?resent=1", status_code=303)


routes = [
    Route("/admin/jobs", jobs, methods=["GET"], name="admin.jobs"),
    Route("/admin/mail", mail_outbox, methods=["GET"], name="admin.mail"),
    Route("/admin/mail/{email_id:id}/resend", resend_mail, methods=["POST"],
          name="admin.resend_mail"),
    Route("/admin/companies", companies, methods=["GET"], name="admin.companies"),
    Route("/admin/companies", create_company, methods=["POST"], name="admin.create_company"),
    Route("/admin/regions", create_region, methods=["POST"], name="admin.create_region"),
    Route("/admin/companies/{company_id:id}", company, methods=["GET"], name="admin.company"),
    Route("/admin/companies/{company_id:id}/outlets", create_outlet, methods=["POST"],
          name="admin.create_outlet"),
    Route("/admin/people", people, methods=["GET"], name="admin.people"),
    Route("/admin/people", create_person, methods=["POST"], name="admin.create_person"),
    Route("/admin/people/{person_id:id}", person_detail, methods=["GET"], name="admin.person"),
    Route("/admin/people/{person_id:id}", update_person, methods=["POST"],
          name="admin.update_person"),
]
