from __future__ import annotations

import httpx

from portal.accounts.models import Person
from tests.factories import People, SignIn, post_form


async def test_an_anonymous_visitor_gets_the_sign_in_page_in_their_browsers_language(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert response.status_code == 200
    assert '<html lang="ru">' in response.text
    assert "Клуб партнёров" in response.text
    assert "Войти" in response.text
    assert "Sign in" not in response.text

    english = await client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text
    assert "Sign in" in english.text


async def test_a_person_who_chooses_russian_sees_the_dashboard_in_russian(
    people: People, sign_in: SignIn
) -> None:
    client: httpx.AsyncClient = await sign_in("alice@example.com")
    assert "Available points" in (await client.get("/")).text

    response = await post_form(client, "/language", {"language": "ru", "next": "/"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"

    dashboard = await client.get("/")
    assert dashboard.status_code == 200
    assert '<html lang="ru">' in dashboard.text
    assert "Доступно баллов" in dashboard.text
    assert "Available points" not in dashboard.text
    assert (await Person.get(id=people.alice.id)).language == "ru"

    # The choice belongs to the person, not the browser: it follows them to a new sign-in.
    elsewhere: httpx.AsyncClient = await sign_in("alice@example.com")
    assert "Доступно баллов" in (await elsewhere.get("/")).text


async def test_an_unknown_language_changes_nothing(people: People, sign_in: SignIn) -> None:
    client: httpx.AsyncClient = await sign_in("alice@example.com")
    response = await post_form(client, "/language", {"language": "de", "next": "/"})
    assert response.status_code == 303
    assert "portal_lang" not in response.cookies
    assert (await Person.get(id=people.alice.id)).language == "en"
    dashboard = await client.get("/")
    assert '<html lang="en">' in dashboard.text
    assert "Available points" in dashboard.text


async def test_an_anonymous_choice_is_kept_in_a_cookie_and_a_forged_one_is_ignored(
    client: httpx.AsyncClient,
) -> None:
    response = await post_form(client, "/language", {"language": "ru", "next": "/login"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    page = await client.get("/login", headers={"Accept-Language": "en"})
    assert '<html lang="ru">' in page.text

    # A cookie the portal never set falls back to the browser's languages, not to English.
    client.cookies.clear()
    client.cookies.set("portal_lang", "xx")
    page = await client.get("/login", headers={"Accept-Language": "ru"})
    assert '<html lang="ru">' in page.text
