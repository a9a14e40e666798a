"""Sign-in, sessions, CSRF and throttling through the web pages."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from portal.accounts.models import Person, Session
from tests.factories import PASSWORD, People, SignIn, csrf


async def login(client: httpx.AsyncClient, email: str, password: str, **extra: str
                ) -> httpx.Response:
    await client.get("/login")
    return await client.post("/login", data={"csrftoken": csrf(client), "email": email,
                                             "password": password, **extra})


async def test_signing_in_sets_an_httponly_lax_session_cookie_and_opens_the_dashboard(
    client: httpx.AsyncClient, people: People
) -> None:
    response = await login(client, "alice@example.com", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(v for v in response.headers.get_list("set-cookie")
                  if v.startswith("portal_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert (await client.get("/")).status_code == 200


async def test_the_session_cookie_is_secure_over_https(app: Starlette, people: People) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://testserver") as client:
        response = await login(client, "alice@example.com", PASSWORD)
    cookie = next(v for v in response.headers.get_list("set-cookie")
                  if v.startswith("portal_session="))
    assert "Secure" in cookie


async def test_each_sign_in_gets_a_new_session_id(client: httpx.AsyncClient,
                                                  people: People) -> None:
    await login(client, "alice@example.com", PASSWORD)
    first = client.cookies.get("portal_session")
    await login(client, "alice@example.com", PASSWORD)
    assert client.cookies.get("portal_session") != first


async def test_a_wrong_password_and_an_unknown_account_get_the_same_message(
    client: httpx.AsyncClient, people: People
) -> None:
    wrong = await login(client, "alice@example.com", "not her password")
    unknown = await login(client, "nobody@example.com", "not her password")
    assert wrong.status_code == unknown.status_code == 400
    assert "The e-mail or password is not right." in wrong.text
    assert "The e-mail or password is not right." in unknown.text
    assert await Session.all().count() == 0


async def test_sign_in_is_throttled_per_account_even_with_the_right_password(
    client: httpx.AsyncClient, people: People
) -> None:
    for _ in range(5):
        assert (await login(client, "alice@example.com", "guess")).status_code == 400
    response = await login(client, "alice@example.com", PASSWORD)
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.text
    # Another account from elsewhere is not affected by Alice's counter.
    assert (await login(client, "erin@example.com", PASSWORD)).status_code == 303


async def test_sign_in_is_throttled_per_address_across_accounts(
    client: httpx.AsyncClient, people: People
) -> None:
    statuses = [(await login(client, f"n{i}@example.com", "guess")).status_code
                for i in range(31)]
    assert statuses[:30] == [400] * 30
    assert statuses[30] == 429


async def test_sign_in_without_a_csrf_token_is_refused(client: httpx.AsyncClient,
                                                       people: People) -> None:
    response = await client.post("/login", data={"email": "alice@example.com",
                                                 "password": PASSWORD})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert await Session.all().count() == 0


async def test_a_form_post_without_the_token_changes_nothing(
    people: People, sign_in: SignIn,
) -> None:
    client = await sign_in("alice@example.com")
    response = await client.post("/profile", data={"display_name": "Hacked", "language": "en"})
    assert response.status_code == 403
    assert (await Person.get(id=people.alice.id)).display_name == "Alice"


async def test_htmx_requests_carry_the_token_in_a_header(people: People, sign_in: SignIn) -> None:
    client = await sign_in("alice@example.com")
    response = await client.post("/profile", data={"display_name": "Ally", "language": "en"},
                                 headers={"x-csrftoken": csrf(client), "hx-request": "true"})
    assert response.status_code == 303
    assert (await Person.get(id=people.alice.id)).display_name == "Ally"


@pytest.mark.parametrize("target, expected", [
    ("/history", "/history"), ("https://evil.example/", "/"), ("//evil.example", "/"),
    ("/\\evil.example", "/"),
])
async def test_after_sign_in_only_same_site_paths_are_followed(
    client: httpx.AsyncClient, people: People, target: str, expected: str
) -> None:
    response = await login(client, "alice@example.com", PASSWORD, next=target)
    assert response.headers["location"] == expected


@pytest.mark.parametrize("form, field, message", [
    ({"email": "", "password": "x"}, "email", "This field is required."),
    ({"email": "alice@example.com", "password": ""}, "password", "This field is required."),
    ({"email": "a@b.c", "password": "x", "role": "admin"}, "form", "Unexpected field: role"),
])
async def test_bad_sign_in_forms_say_what_is_wrong(
    client: httpx.AsyncClient, people: People, form: dict[str, str], field: str, message: str
) -> None:
    await client.get("/login")
    response = await client.post("/login", data={"csrftoken": csrf(client), **form})
    assert response.status_code == 400
    assert message in response.text
    assert await Session.all().count() == 0
