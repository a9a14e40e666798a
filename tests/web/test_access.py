"""Deny by default: every route's expected status for each role, in one table.

A route that is not in the table fails the test, so a new page cannot ship unchecked.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from portal.accounts import service as accounts
from tests.factories import People, csrf

ROLES = ("anon", "player", "manager", "marketing", "admin")
ANON_REDIRECT = 303
# (method, path): statuses for anon, player (Alice), manager (Bob), marketing (Carol),
# admin (Dave). POSTs send an unknown field, so an allowed request is refused as 400 and
# nothing changes.
ACCESS: dict[tuple[str, str], tuple[int, int, int, int, int]] = {
    ("GET", "/"): (303, 200, 200, 303, 303),  # marketing's and admins' home: /analytics
    ("GET", "/rules"): (200, 200, 200, 200, 200),
    ("GET", "/health"): (200, 200, 200, 200, 200),
    ("GET", "/login"): (200, 303, 303, 303, 303),
    ("POST", "/login"): (400, 400, 400, 400, 400),
    ("POST", "/logout"): (303, 303, 303, 303, 303),
    ("POST", "/language"): (303, 303, 303, 303, 303),
    ("GET", "/profile"): (303, 200, 200, 200, 200),
    ("POST", "/profile"): (303, 400, 400, 400, 400),
    ("POST", "/profile/password"): (303, 400, 400, 400, 400),
    ("GET", "/history"): (303, 200, 200, 200, 200),
    ("GET", "/team"): (303, 403, 200, 403, 403),
    ("POST", "/team/invite"): (303, 403, 400, 403, 403),
    ("GET", "/invite/{token}"): (404, 404, 404, 404, 404),
    ("POST", "/invite/{token}"): (404, 404, 404, 404, 404),
    ("GET", "/audit"): (303, 403, 403, 200, 200),
    ("POST", "/audit/adjust"): (303, 403, 403, 400, 400),
    ("POST", "/audit/company"): (303, 403, 403, 400, 400),
    ("GET", "/history/company"): (303, 403, 200, 403, 403),
    ("GET", "/admin/companies"): (303, 403, 403, 403, 200),
    ("POST", "/admin/companies"): (303, 403, 403, 403, 400),
    ("POST", "/admin/regions"): (303, 403, 403, 403, 400),
    ("GET", "/admin/companies/{company_id:id}"): (303, 403, 403, 403, 200),
    ("POST", "/admin/companies/{company_id:id}/outlets"): (303, 403, 403, 403, 400),
    ("POST", "/admin/companies/{company_id:id}/time-zone"): (303, 403, 403, 403, 400),
    ("GET", "/admin/people"): (303, 403, 403, 403, 200),
    ("POST", "/admin/people"): (303, 403, 403, 403, 400),
    ("GET", "/admin/people/{person_id:id}"): (303, 403, 403, 403, 200),
    ("POST", "/admin/people/{person_id:id}"): (303, 403, 403, 403, 400),
    ("POST", "/api/v1/auth/login"): (422, 422, 422, 422, 422),
    ("POST", "/api/v1/auth/logout"): (401, 204, 204, 204, 204),
    ("GET", "/api/v1/me"): (401, 200, 200, 200, 200),
    ("GET", "/api/v1/me/ledger"): (401, 200, 200, 200, 200),
    ("GET", "/api/v1/openapi.json"): (200, 200, 200, 200, 200),
    ("GET", "/api/v1/play/month"): (401, 200, 200, 403, 403),
    ("GET", "/notifications"): (303, 200, 200, 200, 200),
    ("GET", "/notifications/bell"): (303, 200, 200, 200, 200),
    ("POST", "/notifications/read"): (303, 303, 303, 303, 303),
    ("GET", "/admin/jobs"): (303, 403, 403, 403, 200),
    ("GET", "/admin/mail"): (303, 403, 403, 403, 200),
    ("POST", "/admin/mail/{email_id:id}/resend"): (303, 403, 403, 403, 400),
    ("GET", "/leaderboard"): (303, 303, 303, 303, 303),
    ("GET", "/api/v1/leaderboards/{board}"): (401, 200, 200, 200, 200),
    ("GET", "/leaderboard/{board}"): (303, 200, 200, 200, 200),
    ("GET", "/marketing/content"): (303, 403, 403, 200, 200),
    ("POST", "/marketing/content/upload"): (303, 403, 403, 400, 400),
    ("GET", "/marketing/content/uploads/{token}"): (303, 403, 403, 404, 404),
    ("POST", "/marketing/content/uploads/{token}/publish"): (303, 403, 403, 404, 404),
    ("POST", "/api/v1/play/quizzes/{quiz_id:id}/start"): (401, 404, 404, 403, 403),
    ("GET", "/api/v1/play/games/{game_id:id}/question"): (401, 404, 404, 403, 403),
    ("POST", "/api/v1/play/games/{game_id:id}/answer"): (401, 422, 422, 403, 403),
    ("GET", "/api/v1/play/games/{game_id:id}"): (401, 404, 404, 403, 403),
    # Playing is for players; ids that do not exist are 404 (tests/play covers real ones).
    ("GET", "/play"): (303, 200, 200, 403, 403),
    ("POST", "/play/quiz/{quiz_id:id}/start"): (303, 404, 404, 403, 403),
    ("GET", "/play/game/{game_id:id}"): (303, 404, 404, 403, 403),
    ("POST", "/play/game/{game_id:id}/answer"): (303, 400, 400, 403, 403),
    ("GET", "/play/game/{game_id:id}/leave"): (303, 404, 404, 403, 403),
    ("POST", "/play/game/{game_id:id}/leave"): (303, 404, 404, 403, 403),
    ("GET", "/play/game/{game_id:id}/result"): (303, 404, 404, 403, 403),
    ("GET", "/play/course/{course_id:id}"): (303, 404, 404, 403, 403),
    ("GET", "/play/course/{course_id:id}/lesson/{lesson_id:id}"): (303, 404, 404, 403, 403),
    ("POST", "/play/course/{course_id:id}/lesson/{lesson_id:id}/read"):
        (303, 404, 404, 403, 403),
    ("GET", "/play/course/{course_id:id}/certificate"): (303, 404, 404, 403, 403),
    # The rewards catalog: players with their points, managers with their company's.
    ("GET", "/rewards"): (303, 200, 200, 403, 403),
    ("GET", "/rewards/items/{item_id:id}"): (303, 404, 404, 403, 403),
    ("GET", "/rewards/items/{item_id:id}/redeem"): (303, 404, 404, 403, 403),
    ("POST", "/rewards/items/{item_id:id}/redeem"): (303, 400, 400, 403, 403),
    ("POST", "/rewards/items/{item_id:id}/goal"): (303, 400, 400, 403, 403),
    ("POST", "/rewards/goal/clear"): (303, 400, 400, 403, 403),
    ("GET", "/rewards/mine"): (303, 200, 200, 403, 403),
    ("GET", "/rewards/orders/{order_id:id}"): (303, 404, 404, 403, 403),
    ("POST", "/rewards/orders/{order_id:id}/reveal"): (303, 400, 400, 403, 403),
    ("GET", "/rewards/company"): (303, 403, 200, 403, 403),
    ("GET", "/rewards/company/items/{item_id:id}"): (303, 403, 404, 403, 403),
    ("GET", "/rewards/company/items/{item_id:id}/redeem"): (303, 403, 404, 403, 403),
    ("POST", "/rewards/company/items/{item_id:id}/redeem"): (303, 403, 400, 403, 403),
    ("GET", "/rewards/company/orders"): (303, 403, 200, 403, 403),
    ("GET", "/rewards/company/orders/{order_id:id}"): (303, 403, 404, 403, 403),
    ("POST", "/rewards/company/orders/{order_id:id}/reveal"): (303, 403, 400, 403, 403),
    ("GET", "/api/v1/catalog/items"): (401, 200, 200, 403, 403),
    ("GET", "/api/v1/catalog/items/{item_id:id}"): (401, 404, 404, 403, 403),
    ("POST", "/api/v1/catalog/items/{item_id:id}/redeem"): (401, 422, 422, 403, 403),
    ("GET", "/api/v1/catalog/orders"): (401, 200, 200, 403, 403),
    ("POST", "/api/v1/catalog/orders/{order_id:id}/reveal"): (401, 404, 404, 403, 403),
    # The company's side of the API: its partner manager only.
    ("GET", "/api/v1/catalog/company/items"): (401, 403, 200, 403, 403),
    ("GET", "/api/v1/catalog/company/items/{item_id:id}"): (401, 403, 404, 403, 403),
    ("POST", "/api/v1/catalog/company/items/{item_id:id}/redeem"): (401, 403, 422, 403, 403),
    ("GET", "/api/v1/catalog/company/orders"): (401, 403, 200, 403, 403),
    ("POST", "/api/v1/catalog/company/orders/{order_id:id}/reveal"): (401, 403, 404, 403,
                                                                       403),
    ("GET", "/marketing/catalog"): (303, 403, 403, 200, 200),
    ("POST", "/marketing/catalog/categories"): (303, 403, 403, 400, 400),
    ("POST", "/marketing/catalog/categories/{category_id:id}"): (303, 403, 403, 400, 400),
    ("GET", "/marketing/catalog/items/new"): (303, 403, 403, 200, 200),
    ("POST", "/marketing/catalog/items/new"): (303, 403, 403, 400, 400),
    ("GET", "/marketing/catalog/items/{item_id:id}"): (303, 403, 403, 404, 404),
    ("POST", "/marketing/catalog/items/{item_id:id}"): (303, 403, 403, 404, 404),
    ("POST", "/marketing/catalog/items/{item_id:id}/codes"): (303, 403, 403, 404, 404),
    ("GET", "/marketing/catalog/orders"): (303, 403, 403, 200, 200),
    ("GET", "/marketing/catalog/orders.csv"): (303, 403, 403, 200, 200),
    ("GET", "/marketing/catalog/reveals"): (303, 403, 403, 200, 200),
    ("POST", "/marketing/catalog/orders/{order_id:id}/advance"): (303, 403, 403, 400, 400),
    ("POST", "/marketing/catalog/orders/{order_id:id}/cancel"): (303, 403, 403, 400, 400),
    # The programme: a manager sees their own company only (another's outlet is 404).
    ("GET", "/analytics"): (303, 403, 200, 200, 200),
    ("GET", "/analytics/questions"): (303, 403, 403, 200, 200),
    ("GET", "/analytics/questions/{question_id:id}"): (303, 403, 403, 404, 404),
    ("GET", "/analytics/export/{table}.{format}"): (303, 403, 200, 200, 200),
    ("GET", "/api/v1/analytics/programme"): (401, 403, 200, 200, 200),
    # Charity: everyone signed in sees the causes; players give; marketing runs them.
    ("GET", "/charity"): (303, 200, 200, 200, 200),
    ("GET", "/charity/{cause_id:id}"): (303, 404, 404, 404, 404),
    ("POST", "/charity/{cause_id:id}/donate"): (303, 404, 404, 403, 403),
    ("GET", "/marketing/charity"): (303, 403, 403, 200, 200),
    ("GET", "/marketing/charity/new"): (303, 403, 403, 200, 200),
    ("POST", "/marketing/charity/new"): (303, 403, 403, 400, 400),
    ("GET", "/marketing/charity/{cause_id:id}"): (303, 403, 403, 404, 404),
    ("POST", "/marketing/charity/{cause_id:id}"): (303, 403, 403, 404, 404),
    ("GET", "/marketing/charity/donations.csv"): (303, 403, 403, 200, 200),
    ("GET", "/api/v1/charity/causes"): (401, 200, 200, 200, 200),
    ("GET", "/api/v1/charity/causes/{cause_id:id}"): (401, 404, 404, 404, 404),
    ("POST", "/api/v1/charity/causes/{cause_id:id}/donate"): (401, 422, 422, 403, 403),
    # What players answered in the surveys: marketing's (a quiz that is no survey is 404).
    ("GET", "/marketing/surveys"): (303, 403, 403, 200, 200),
    ("GET", "/marketing/surveys/{quiz_id:id}"): (303, 403, 403, 404, 404),
    ("GET", "/marketing/surveys/{quiz_id:id}/answers.csv"): (303, 403, 403, 404, 404),
    # Auctions and raffles: everyone signed in looks; players bid and buy tickets;
    # marketing puts up lots and raffles and cancels lots.
    ("GET", "/auctions"): (303, 200, 200, 200, 200),
    ("GET", "/auctions/lots/{lot_id:id}"): (303, 404, 404, 404, 404),
    ("GET", "/auctions/lots/{lot_id:id}/live"): (303, 404, 404, 404, 404),
    ("POST", "/auctions/lots/{lot_id:id}/bid"): (303, 404, 404, 403, 403),
    ("GET", "/auctions/raffles/{raffle_id:id}"): (303, 404, 404, 404, 404),
    ("POST", "/auctions/raffles/{raffle_id:id}/tickets"): (303, 404, 404, 403, 403),
    ("POST", "/auctions/prizes/{order_id:id}/address"): (303, 400, 400, 403, 403),
    ("GET", "/marketing/auctions"): (303, 403, 403, 200, 200),
    ("GET", "/marketing/auctions/new/{kind}"): (303, 403, 403, 200, 200),
    ("POST", "/marketing/auctions/new/{kind}"): (303, 403, 403, 400, 400),
    ("POST", "/marketing/auctions/lots/{lot_id:id}/cancel"): (303, 403, 403, 400, 400),
    ("GET", "/api/v1/auctions"): (401, 200, 200, 200, 200),
    ("GET", "/api/v1/auctions/{lot_id:id}"): (401, 404, 404, 404, 404),
    ("POST", "/api/v1/auctions/{lot_id:id}/bids"): (401, 422, 422, 403, 403),
    ("GET", "/api/v1/raffles"): (401, 200, 200, 200, 200),
    ("GET", "/api/v1/raffles/{raffle_id:id}"): (401, 404, 404, 404, 404),
    ("POST", "/api/v1/raffles/{raffle_id:id}/tickets"): (401, 422, 422, 403, 403),
}


def all_routes(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount) and route.path != "/static":
            found |= all_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method, prefix + route.path))
    return found


def test_every_route_has_an_entry_in_the_access_table(app: Starlette) -> None:
    assert all_routes(app.routes) == set(ACCESS)


def concrete(path: str, people: People) -> str:
    return (path.replace("{company_id:id}", str(people.acme.id))
            .replace("{person_id:id}", str(people.alice.id))
            .replace("{token}", "not-a-real-invite").replace("{board}", "season")
            .replace("{quiz_id:id}", "999999").replace("{game_id:id}", "999999")
            .replace("{course_id:id}", "999999").replace("{lesson_id:id}", "999999")
            .replace("{email_id:id}", "999999")
            .replace("{item_id:id}", "999999").replace("{order_id:id}", "999999")
            .replace("{category_id:id}", "999999")
            .replace("{question_id:id}", "999999").replace("{table}.{format}", "teams.csv")
            .replace("{cause_id:id}", "999999").replace("{lot_id:id}", "999999")
            .replace("{raffle_id:id}", "999999").replace("{kind}", "lot"))


async def client_as(app: Starlette, role: str, people: People) -> tuple[httpx.AsyncClient, str]:
    """A client with a web session cookie, and a bearer token, for the role's persona."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                               base_url="http://testserver")
    await client.get("/rules")  # obtains the CSRF cookie
    if role == "anon":
        return client, ""
    person = {"player": people.alice, "manager": people.bob, "marketing": people.carol,
              "admin": people.dave}[role]
    web_token, _ = await accounts.start_session(person, lifetime=timedelta(hours=1))
    api_token, _ = await accounts.start_session(person, kind="api", lifetime=timedelta(hours=1))
    client.cookies.set("portal_session", web_token)
    return client, api_token


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_gets_the_expected_status_on_every_route(
    app: Starlette, people: People, role: str
) -> None:
    mismatches = []
    for (method, path), statuses in ACCESS.items():
        client, token = await client_as(app, role, people)
        url = concrete(path, people)
        try:
            if path.startswith("/api/"):
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                client.cookies.clear()  # the API never uses the browser session
                if method == "POST":
                    response = await client.post(url, json={"bogus": 1}, headers=headers)
                else:
                    response = await client.get(url, headers=headers)
            elif method == "POST":
                response = await client.post(url, data={"csrftoken": csrf(client), "bogus": "1"})
            else:
                response = await client.get(url)
        finally:
            await client.aclose()
        expected = statuses[ROLES.index(role)]
        if response.status_code != expected:
            mismatches.append(f"{method} {path}: {response.status_code}, expected {expected}")
    assert mismatches == []


async def test_another_persons_id_in_an_admin_url_is_404_not_their_data(
    app: Starlette, people: People
) -> None:
    client, _ = await client_as(app, "admin", people)
    try:
        assert (await client.get("/admin/people/999999")).status_code == 404
        assert (await client.get("/admin/companies/999999")).status_code == 404
    finally:
        await client.aclose()
