"""Who the API token belongs to, and their points."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal.accounts.sessions import require_token
from portal.members import service as members


class MeOut(BaseModel):
    id: int
    full_name: str
    display_name: str
    email: str
    language: str
    time_zone: str = Field(description="The IANA zone this person reads times in: their "
                                       "own, else their company's, else the portal's")
    roles: list[str]
    company: str | None
    outlet: str | None
    region: str | None
    balance: int
    held: int
    available: int
    earned_this_season: int
    season: str


MODELS: list[type[BaseModel]] = [MeOut]


async def me(request: Request) -> Response:
    """The signed-in person and their points.
    ---
    summary: Who am I, and my points
    security: [{bearer: []}]
    responses:
      200:
        description: The person, their roles, organisation and points
        content:
          application/json:
            schema: {$ref: '#/components/schemas/MeOut'}
      401: {description: Missing or invalid token}
    """
    now = datetime.now(UTC)
    who = await require_token(request, also=members.profile_columns(now=now))
    found = members.profile(who, now=now)
    person, points = found.person, found.points
    return JSONResponse(MeOut(
        id=person.id, full_name=person.full_name, display_name=person.display_name,
        email=person.email, language=person.language,
        time_zone=who.time_zone(request.app.state.settings.time_zone), roles=sorted(found.roles),
        company=found.company, outlet=found.outlet, region=found.region,
        balance=points.balance, held=points.held, available=points.available,
        earned_this_season=points.earned_this_season, season=points.season,
    ).model_dump(mode="json"))


routes: list[BaseRoute] = [
    Route("/me", me, methods=["GET"], name="api.me"),
]
