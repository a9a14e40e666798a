"""Admin pages: companies, outlets, regions, people and roles; bad input changes nothing."""

from __future__ import annotations

import httpx
import pytest

from portal.accounts import service as accounts
from portal.accounts.models import Company, Outlet, Person, Region, Role
from portal.ledger.models import Account
from tests.factories import People, SignIn, post_form


@pytest.fixture
async def dave(people: People, sign_in: SignIn) -> httpx.AsyncClient:
    return await sign_in("dave@example.com")


async def test_an_admin_adds_a_company_with_its_points_account(dave: httpx.AsyncClient) -> None:
    response = await post_form(dave, "/admin/companies", {"name": "Blue Water Co",
                                                         "kind": "retailer"})
    assert response.status_code == 303
    company = await Company.get(name="Blue Water Co")
    assert company.kind == "retailer"
    assert await Account.exists(company_id=company.id)
    page = await dave.get(response.headers["location"])
    assert "Blue Water Co" in page.text


@pytest.mark.parametrize("form, message", [
    ({"name": "", "kind": "dealer"}, "This field is required."),
    ({"name": "Blue", "kind": "wholesaler"}, "Choose one of the offered options."),
    ({"name": "Acme Pumps", "kind": "dealer"}, "already exists"),
    ({"name": "Blue", "kind": "dealer", "id": "1"}, "Unexpected field: id"),
])
async def test_bad_company_forms_are_refused(
    dave: httpx.AsyncClient, form: dict[str, str], message: str,
) -> None:
    before = await Company.all().count()
    response = await post_form(dave, "/admin/companies", form)
    assert response.status_code == 400
    assert message in response.text
    assert await Company.all().count() == before


async def test_an_admin_adds_an_outlet_in_a_region(dave: httpx.AsyncClient, people: People) -> None:
    region = await Region.get(name="South")
    response = await post_form(dave, f"/admin/companies/{people.acme.id}/outlets",
                               {"name": "Acme East", "region_id": str(region.id)})
    assert response.status_code == 303
    assert await Outlet.exists(company_id=people.acme.id, name="Acme East", region_id=region.id)


@pytest.mark.parametrize("form, message", [
    ({"name": "Acme East", "region_id": "999"}, "Choose a region for the outlet."),
    ({"name": "Acme East", "region_id": "south"}, "Enter a whole number."),
    ({"name": "Acme North", "region_id": "REGION"}, "already has an outlet named"),
])
async def test_bad_outlet_forms_are_refused(
    dave: httpx.AsyncClient, people: People, form: dict[str, str], message: str,
) -> None:
    region = await Region.get(name="North")
    form = {k: v.replace("REGION", str(region.id)) for k, v in form.items()}
    before = await Outlet.all().count()
    response = await post_form(dave, f"/admin/companies/{people.acme.id}/outlets", form)
    assert response.status_code == 400
    assert message in response.text
    assert await Outlet.all().count() == before


async def test_regions_are_unique(dave: httpx.AsyncClient) -> None:
    assert (await post_form(dave, "/admin/regions", {"name": "Volga"})).status_code == 303
    response = await post_form(dave, "/admin/regions", {"name": "Volga"})
    assert response.status_code == 400 and "already exists" in response.text
    assert await Region.filter(name="Volga").count() == 1


async def test_an_admin_adds_a_person_with_roles(dave: httpx.AsyncClient, people: People) -> None:
    response = await post_form(dave, "/admin/people", {
        "email": "Mark@Example.com", "full_name": "Mark Manager", "password": "a long password",
        "outlet_id": str(people.south.id), "role_manager": "true", "role_player": "true"})
    assert response.status_code == 303
    mark = await Person.get(email="mark@example.com")
    assert await accounts.roles_of(mark.id) == {Role.MANAGER, Role.PLAYER}
    assert mark.outlet_id == people.south.id


@pytest.mark.parametrize("form, message", [
    ({"email": "bad", "full_name": "X Y", "password": "a long password"},
     "Enter a valid e-mail address."),
    ({"email": "x@example.com", "full_name": "X Y", "password": "short"},
     "Use at least 10 characters."),
    ({"email": "x@example.com", "full_name": "X Y", "password": "a long password",
      "outlet_id": "999"}, "Choose one of the offered options."),
    ({"email": "alice@example.com", "full_name": "X Y", "password": "a long password"},
     "already has an account"),
])
async def test_bad_person_forms_are_refused(
    dave: httpx.AsyncClient, form: dict[str, str], message: str,
) -> None:
    before = await Person.all().count()
    response = await post_form(dave, "/admin/people", form)
    assert response.status_code == 400
    assert message in response.text
    assert await Person.all().count() == before


async def test_an_admin_changes_roles_and_deactivates_a_person(
    dave: httpx.AsyncClient, people: People,
) -> None:
    response = await post_form(dave, f"/admin/people/{people.alice.id}",
                               {"role_player": "true", "role_manager": "true"})
    assert response.status_code == 303
    assert await accounts.roles_of(people.alice.id) == {Role.PLAYER, Role.MANAGER}
    assert not (await Person.get(id=people.alice.id)).is_active


async def test_an_admin_cannot_remove_their_own_admin_role(
    dave: httpx.AsyncClient, people: People,
) -> None:
    response = await post_form(dave, f"/admin/people/{people.dave.id}",
                               {"role_player": "true", "active": "true"})
    assert response.status_code == 400
    assert "cannot remove your own admin role" in response.text
    assert await accounts.roles_of(people.dave.id) == {Role.ADMIN}


async def test_people_search_and_pages(dave: httpx.AsyncClient) -> None:
    page = await dave.get("/admin/people?q=erin")
    assert "Erin Evans" in page.text and "Alice Archer" not in page.text
    assert (await dave.get("/admin/people?page=0")).status_code == 400
