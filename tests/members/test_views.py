"""A member's pages: the profile, a password change, a manager's invites and joining."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette

from portal.accounts import service as accounts
from portal.accounts.models import Invite, Person, Role
from tests.factories import PASSWORD, People, SignIn, csrf, post_form


async def test_a_player_changes_their_display_name_and_language(people: People,
                                                                sign_in: SignIn) -> None:
    client = await sign_in("alice@example.com")
    response = await post_form(client, "/profile", {"display_name": "Ally A.",
                                                    "language": "ru"})
    assert response.status_code == 303
    alice = await Person.get(id=people.alice.id)
    assert (alice.display_name, alice.language) == ("Ally A.", "ru")


@pytest.mark.parametrize("form, message", [
    ({"display_name": "A", "language": "en"}, "Use at least 2 characters."),
    ({"display_name": "Ally", "language": "xx"}, "Choose one of the offered options."),
    ({"display_name": "Ally", "language": "en", "is_active": "false"}, "Unexpected field"),
])
async def test_bad_profile_forms_are_refused_and_change_nothing(
    people: People, sign_in: SignIn, form: dict[str, str], message: str
) -> None:
    client = await sign_in("alice@example.com")
    response = await post_form(client, "/profile", form)
    assert response.status_code == 400
    assert message in response.text
    alice = await Person.get(id=people.alice.id)
    assert (alice.display_name, alice.language, alice.is_active) == ("Alice", "en", True)


async def test_a_role_smuggled_into_the_profile_form_is_refused(people: People,
                                                                sign_in: SignIn) -> None:
    client = await sign_in("alice@example.com")
    response = await post_form(client, "/profile", {"display_name": "Ally", "language": "en",
                                                    "role_admin": "true"})
    assert response.status_code == 400
    assert await accounts.roles_of(people.alice.id) == {Role.PLAYER}


async def test_a_wrong_current_password_is_refused(people: People, sign_in: SignIn) -> None:
    client = await sign_in("alice@example.com")
    response = await post_form(client, "/profile/password", {
        "current_password": "nope", "new_password": "a new long secret"})
    assert response.status_code == 400
    assert "The current password is not right." in response.text
    await accounts.authenticate("alice@example.com", PASSWORD)


async def test_a_too_short_new_password_is_refused(people: People, sign_in: SignIn) -> None:
    client = await sign_in("alice@example.com")
    response = await post_form(client, "/profile/password", {
        "current_password": PASSWORD, "new_password": "short"})
    assert response.status_code == 400
    assert "Use at least 10 characters." in response.text


async def test_a_manager_invites_a_colleague_who_joins_and_lands_on_the_dashboard(
    app: Starlette, people: People, sign_in: SignIn
) -> None:
    bob = await sign_in("bob@example.com")
    response = await post_form(bob, "/team/invite", {"email": "nina@example.com",
                                                     "outlet_id": str(people.south.id)})
    assert response.status_code == 200
    link = re.search(r'data-testid="invite-link">([^<]+)<', response.text)
    assert link is not None
    path = httpx.URL(link.group(1)).path

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as nina:
        page = await nina.get(path)
        assert page.status_code == 200 and "nina@example.com" in page.text
        short = await nina.post(path, data={"csrftoken": csrf(nina), "full_name": "Nina New",
                                            "display_name": "Nina", "password": "short"})
        assert short.status_code == 400
        assert not await Person.exists(email="nina@example.com")
        joined = await nina.post(path, data={"csrftoken": csrf(nina), "full_name": "Nina New",
                                             "display_name": "Nina",
                                             "password": "a long password", "language": "en"})
        assert joined.status_code == 303 and joined.headers["location"] == "/?welcome=1"
        dashboard = await nina.get("/?welcome=1")
        assert "Welcome to the Partner Club, Nina!" in dashboard.text
    nina_person = await Person.get(email="nina@example.com")
    assert nina_person.outlet_id == people.south.id
    assert (await Invite.get(email="nina@example.com")).accepted_at is not None


@pytest.mark.parametrize("form, message", [
    ({"email": "not-an-email", "outlet_id": "OUTLET"}, "Enter a valid e-mail address."),
    ({"email": "x@example.com", "outlet_id": "abc"}, "Enter a whole number."),
    ({"email": "x@example.com", "outlet_id": "OTHER"}, "only to your own company"),
    ({"email": "alice@example.com", "outlet_id": "OUTLET"}, "already has an account"),
])
async def test_bad_invites_are_refused_with_a_reason(
    people: People, sign_in: SignIn, form: dict[str, str], message: str
) -> None:
    bob = await sign_in("bob@example.com")
    form = {k: v.replace("OUTLET", str(people.north.id)).replace(
        "OTHER", str(people.other_outlet.id)) for k, v in form.items()}
    response = await post_form(bob, "/team/invite", form)
    assert response.status_code == 400
    assert message in response.text
    assert await Invite.all().count() == 0


async def test_a_player_turns_off_the_emails_they_do_not_want(
    people: People, sign_in: SignIn,
) -> None:
    client = await sign_in("alice@example.com")
    response = await post_form(client, "/profile", {"display_name": "Alice", "language": "en",
                                                    "email_burn_warnings": "true"})
    assert response.status_code == 303
    alice = await Person.get(id=people.alice.id)
    assert (alice.email_burn_warnings, alice.email_news) == (True, False)
    page = await client.get("/profile")
    assert 'name="email_burn_warnings" value="true" checked' in page.text
    assert 'name="email_news" value="true" checked' not in page.text
