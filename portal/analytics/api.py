"""The programme's key figures through the JSON API (for a CRM or a report bot): the same
service as the page, the same rule on who sees which scope."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal.accounts.models import Role
from portal.accounts.sessions import require_token
from portal.analytics import service
from portal.web.api import ApiError, only_query_parameters

STAFF = {Role.MARKETING, Role.ADMIN}


class FigureOut(BaseModel):
    name: str
    value: float | None
    previous: float | None
    share: bool


class ProgrammeOut(BaseModel):
    month: str
    scope: str
    scope_name: str
    figures: list[FigureOut]


MODELS: list[type[BaseModel]] = [FigureOut, ProgrammeOut]


async def programme(request: Request) -> Response:
    """The programme's figures for a month and scope, the previous month beside each.
    ---
    summary: The programme's key figures (marketing, admins; a manager's own company)
    security: [{bearer: []}]
    parameters:
      - name: month
        in: query
        description: A past or the current month; the current one when left out
        schema: {type: string, example: "2026-12"}
      - name: scope
        in: query
        description: network (the default), region:ID, company:ID or outlet:ID
        schema: {type: string, example: "company:3"}
    responses:
      200:
        description: The figures, in the order the page shows them
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ProgrammeOut'}
      400: {description: A month or scope that cannot be read}
      403: {description: Players see no programme figures}
      404: {description: No such region, company or outlet (or not the manager's)}
    """
    who = await require_token(request)
    if not who.roles.intersection({Role.MANAGER, *STAFF}):
        raise ApiError(403, "The programme's figures are for marketing and managers.")
    only_query_parameters(request, "month", "scope")
    now = datetime.now(UTC)
    scope = await service.scope_for(who.person, request.query_params.get("scope", ""),
                                    sees_all=bool(who.roles.intersection(STAFF)))
    month = service.month_of(request.query_params.get("month", ""), now=now)
    found = await service.programme(scope, month, now=now)
    return JSONResponse(ProgrammeOut(
        month=month, scope=scope.key, scope_name=scope.name,
        figures=[FigureOut(name=f.name, value=f.value, previous=f.previous, share=f.share)
                 for f in found.figures]).model_dump())


routes: list[BaseRoute] = [
    Route("/analytics/programme", programme, methods=["GET"], name="api.analytics_programme"),
]
