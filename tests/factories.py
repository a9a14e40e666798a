"""Plain async factories and the fixed personas the tests use."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from portal.accounts import service as accounts
from portal.accounts.models import Company, Outlet, Person, Region, Role
from portal.members import service as members

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)

# The `sign_in` fixture: an email in, a client signed in as that person out.
SignIn = Callable[[str], Awaitable[httpx.AsyncClient]]


@dataclass
class People:
    alice: Person  # player at North outlet of Acme
    bob: Person  # partner manager of Acme (and a player)
    carol: Person  # marketing
    dave: Person  # admin
    erin: Person  # player at another company
    acme: Company
    north: Outlet
    south: Outlet
    other_outlet: Outlet


async def make_region(name: str | None = None) -> Region:
    return await accounts.create_region(name or f"Region {next(_counter)}")


async def make_company(name: str | None = None) -> Company:
    return await members.create_company(name=name or f"Company {next(_counter)}", kind="dealer")


async def make_outlet(company: Company, region: Region | None = None,
                      name: str | None = None) -> Outlet:
    region = region or await make_region()
    return await accounts.create_outlet(company, name=name or f"Outlet {next(_counter)}",
                                        region_id=region.id)


async def make_person(
    email: str | None = None,
    *,
    roles: set[Role] | None = None,
    outlet: Outlet | None = None,
    name: str = "Test Person",
) -> Person:
    return await members.create_person(
        email=email or f"person{next(_counter)}@example.com",
        password=PASSWORD,
        full_name=name,
        roles=roles or {Role.PLAYER},
        outlet_id=outlet.id if outlet else None,
    )


async def personas() -> People:
    acme = await make_company("Acme Pumps")
    north_region = await make_region("North")
    south_region = await make_region("South")
    north = await make_outlet(acme, north_region, "Acme North")
    south = await make_outlet(acme, south_region, "Acme South")
    other = await make_company("Other Traders")
    other_outlet = await make_outlet(other, north_region, "Other Central")
    return People(
        alice=await make_person("alice@example.com", outlet=north, name="Alice Archer"),
        bob=await make_person("bob@example.com", roles={Role.MANAGER, Role.PLAYER},
                              outlet=north, name="Bob Baker"),
        carol=await make_person("carol@example.com", roles={Role.MARKETING}, name="Carol Cole"),
        dave=await make_person("dave@example.com", roles={Role.ADMIN}, name="Dave Dunn"),
        erin=await make_person("erin@example.com", outlet=other_outlet, name="Erin Evans"),
        acme=acme,
        north=north,
        south=south,
        other_outlet=other_outlet,
    )


def csrf(client: httpx.AsyncClient) -> str:
    """The CSRF token for a form post: the signed value of the csrftoken cookie."""
    return client.cookies.get("csrftoken") or ""


_PAGE_TOKENS = re.compile(r'(name="csrftoken" value="|"x-csrftoken": ")[^"]*"')


def without_csrf_tokens(html: str) -> str:
    """A page without its CSRF tokens, to compare two renders: pages carry the token
    masked afresh every time (portal/web/masking.py)."""
    return _PAGE_TOKENS.sub(r'\1"', html)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> None:
    await client.get("/login")
    response = await client.post(
        "/login", data={"csrftoken": csrf(client), "email": email, "password": password}
    )
    assert response.status_code == 303, response.text


async def token_for(client: httpx.AsyncClient, email: str) -> str:
    """A bearer token from the API's sign-in."""
    response = await client.post("/api/v1/auth/login", json={"email": email,
                                                             "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    return str(body["token"])


async def post_form(
    client: httpx.AsyncClient, url: str, data: Mapping[str, str | Sequence[str]],
) -> httpx.Response:
    if not client.cookies.get("csrftoken"):
        await client.get("/rules")
    return await client.post(url, data={"csrftoken": csrf(client), **data})


async def publish_live_copy(source: str, folder: Path, media_dir: Path) -> None:
    """Publishes a copy of a pack under quizzes/ whose window contains the real now."""
    import re
    import shutil
    from datetime import UTC, datetime, timedelta

    from portal.content import schema, service
    from portal.settings import PROJECT_ROOT

    shutil.copytree(PROJECT_ROOT / "quizzes" / source, folder)
    now = datetime.now(UTC)
    text = (folder / "pack.yaml").read_text()
    text = re.sub(r"live_from: .*", f"live_from: {(now - timedelta(days=1)).isoformat()}", text)
    text = re.sub(r"live_until: .*", f"live_until: {(now + timedelta(days=30)).isoformat()}",
                  text)
    (folder / "pack.yaml").write_text(text)
    await service.publish(schema.read_pack(folder), media_dir=media_dir, now=now)
