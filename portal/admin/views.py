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

from portal import i18n
from portal.accounts import service as accounts
from portal.accounts.models import Company, Person, Role
from portal.accounts.sessions import require_person
from portal.accounts.zones import COMMON as COMMON_ZONES
from portal.accounts.zones import TimeZoneName
from portal.jobs.models import JobRun
from portal.jobs.scheduler import JOBS
from portal.members import service as members
from portal.notifications import mail
from portal.notifications.models import EmailStatus
from portal.web.errors import found_or_404
from portal.web.forms import DatabaseId, FormErrors, Password, parse_form
from portal.web.pagination import page_number
from portal.web.query import query_choice
from portal.web.templating import render


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CompanyForm(_Form):
    name: str = Field(min_length=2, max_length=200)
    kind: Literal["dealer", "retailer"]


class CompanyZoneForm(_Form):
    time_zone: TimeZoneName = ""  # empty: the portal's


class OutletForm(_Form):
    name: str = Field(min_length=2, max_length=200)
    region_id: DatabaseId


class RegionForm(_Form):
    name: str = Field(min_length=2, max_length=100)


class _RolesForm(_Form):
    """One checkbox per role (unticked boxes are not sent)."""

    role_player: bool = False
    role_manager: bool = False
    role_marketing: bool = False
    role_admin: bool = False

    def roles(self) -> set[Role]:
        return {role for role in Role if getattr(self, f"role_{role.value}")}


class PersonForm(_RolesForm):
    email: EmailStr
    full_name: str = Field(min_length=2, max_length=200)
    password: Password
    outlet_id: DatabaseId | None = None


class AccessForm(_RolesForm):
    active: bool = False


def _blank_to_none(form: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in form.items() if value != ""}


async def companies(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    return await _render_companies(request)


async def _render_companies(request: Request, *, status_code: int = 200, **extra: object
                            ) -> Response:
    context: dict[str, object] = {"errors": {}, "values": {}, "region_errors": {}}
    context.update(extra)
    found = await accounts.organisation()
    return render(request, "admin/companies.html", status_code=status_code,
                  companies=found.companies, regions=found.regions, **context)


async def create_company(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    try:
        form = parse_form(CompanyForm, await request.form())
        company = await members.create_company(name=form.name, kind=form.kind)
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
    return found_or_404(await Company.get_or_none(id=request.path_params["company_id"]))


async def company(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    return await _render_company(request, await _company_or_404(request))


async def _render_company(request: Request, company: Company, *, status_code: int = 200,
                          **extra: object) -> Response:
    context: dict[str, object] = {"errors": {}, "values": {}, "zone_errors": {},
                                  "zone_values": {}}
    context.update(extra)
    staff = await accounts.company_staff(company)
    return render(request, "admin/company.html", status_code=status_code, company=company,
                  outlets=staff.outlets, people=staff.people, regions=staff.regions,
                  zones=COMMON_ZONES, portal_zone=request.app.state.settings.time_zone,
                  **context)


async def set_company_zone(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    company = await _company_or_404(request)
    try:
        form = parse_form(CompanyZoneForm, await request.form())
    except FormErrors as exc:
        return await _render_company(request, company, status_code=400, zone_errors=exc.errors,
                                     zone_values=exc.values)
    await accounts.set_company_zone(company, form.time_zone)
    return RedirectResponse(request.url_for("admin.company", company_id=company.id),
                            status_code=303)


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
    search = request.query_params.get("q", "").strip()[:100]
    found, more = await accounts.find_people(search, offset=(page - 1) * size, limit=size)
    context: dict[str, object] = {"errors": {}, "values": {}}
    context.update(extra)
    return render(request, "admin/people.html", status_code=status_code, people=found,
                  more=more, page=page, q=search, outlets=await accounts.every_outlet(),
                  **context)


async def create_person(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    try:
        form = parse_form(PersonForm, _blank_to_none(await request.form()))
        person = await members.create_person(
            email=form.email, password=form.password, full_name=form.full_name,
            roles=form.roles() or {Role.PLAYER}, outlet_id=form.outlet_id,
        )
    except FormErrors as exc:
        return await _render_people(request, status_code=400, errors=exc.errors,
                                    values=exc.values)
    except accounts.AccountError as exc:
        field = "outlet_id" if isinstance(exc, accounts.UnknownOutlet) else "email"
        return await _render_people(request, status_code=400, errors={field: exc.translated()},
                                    values=form.model_dump(exclude={"password"}))
    return RedirectResponse(request.url_for("admin.person", person_id=person.id),
                            status_code=303)


async def _person_or_404(request: Request) -> Person:
    return found_or_404(await Person.get_or_none(id=request.path_params["person_id"])
                        .select_related("outlet"))


async def person_detail(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    return await _render_person(request, await _person_or_404(request))


async def _render_person(request: Request, person: Person, *, status_code: int = 200,
                         errors: dict[str, str] | None = None) -> Response:
    return render(request, "admin/person.html", status_code=status_code, person=person,
                  person_roles=await accounts.roles_of(person.id), errors=errors or {},
                  saved=request.query_params.get("saved"))


async def update_person(request: Request) -> Response:
    who = require_person(request, Role.ADMIN)
    person = await _person_or_404(request)
    try:
        form = parse_form(AccessForm, await request.form())
        await accounts.change_access(who.person, person, roles=form.roles(), active=form.active)
    except FormErrors as exc:
        return await _render_person(request, person, status_code=400, errors=exc.errors)
    except accounts.AccountError as exc:
        return await _render_person(request, person, status_code=400,
                                    errors={"form": exc.translated()})
    return RedirectResponse(
        str(request.url_for("admin.person", person_id=person.id)) + "?saved=1", status_code=303)


async def jobs(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    page = page_number(request)
    runs = await JobRun.all().order_by("-started_at").offset((page - 1) * 50).limit(51)
    return render(request, "admin/jobs.html", runs=runs[:50], more=len(runs) > 50, page=page,
                  jobs=JOBS.values())


async def mail_outbox(request: Request) -> Response:
    require_person(request, Role.ADMIN)
    page = page_number(request)
    status = query_choice(request, "status", EmailStatus,
                          refusal=i18n.gettext("Unknown e-mail status."))
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
    Route("/admin/companies/{company_id:id}/time-zone", set_company_zone, methods=["POST"],
          name="admin.company_zone"),
    Route("/admin/companies/{company_id:id}/outlets", create_outlet, methods=["POST"],
          name="admin.create_outlet"),
    Route("/admin/people", people, methods=["GET"], name="admin.people"),
    Route("/admin/people", create_person, methods=["POST"], name="admin.create_person"),
    Route("/admin/people/{person_id:id}", person_detail, methods=["GET"], name="admin.person"),
    Route("/admin/people/{person_id:id}", update_person, methods=["POST"],
          name="admin.update_person"),
]
