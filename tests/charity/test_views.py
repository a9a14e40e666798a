"""Charity through the pages: giving (asked, confirmed, once), bad input, marketing's
causes with pictures, and the formula-safe export."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest

from portal.charity.models import Cause, Donation
from portal.ledger import service as ledger
from tests.charity.causes import give_points, make_cause
from tests.factories import People, SignIn, csrf, post_form
from tests.web.test_pictures import image_bytes


def form_key(page: str) -> str:
    found = re.search(r'name="key" value="([^"]+)"', page)
    assert found, "the page has no one-time key"
    return found.group(1)


async def test_a_player_gives_after_confirming_and_a_double_submit_gives_once(
        people: People, sign_in: SignIn) -> None:
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)
    client = await sign_in("alice@example.com")
    page = await client.get(f"/charity/{cause.id}")
    assert "Clean water for schools" in page.text and "No donations yet" in page.text
    key = form_key(page.text)

    asked = await post_form(client, f"/charity/{cause.id}/donate", {"amount": "250", "key": key})
    assert asked.status_code == 200
    assert "Give 250 points to Clean water for schools?" in asked.text
    assert "€5.00" in asked.text  # 2.50 EUR, doubled by the brand
    assert await Donation.all().count() == 0

    confirm = {"amount": "250", "key": key, "confirm": "1"}
    done = await post_form(client, f"/charity/{cause.id}/donate", confirm)
    again = await post_form(client, f"/charity/{cause.id}/donate", confirm)
    assert done.status_code == again.status_code == 303
    assert await Donation.all().count() == 1
    assert (await ledger.account_of_person(people.alice.id)).balance == 750

    shown = await client.get(done.headers["location"])
    assert "Thank you!" in shown.text and "You gave 250 points" in shown.text
    assert people.alice.display_name in shown.text
    history = await client.get("/history")
    assert "Donation: Clean water for schools" in history.text
    index = await client.get("/charity")
    assert "Acme North" in index.text and "250" in index.text


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"amount": "lots"}, 400, "Enter a whole number."),
    ({"amount": "50"}, 400, "The smallest donation to this cause is 100 points."),
    ({"amount": "5000"}, 409, "Not enough points: 1000 available, 5000 needed."),
    ({"amount": "0"}, 400, "greater than or equal to 1"),
    ({"amount": "200", "role": "admin"}, 400, "Unexpected field: role"),
])
async def test_a_bad_donation_is_refused_naming_the_problem_and_gives_nothing(
        people: People, sign_in: SignIn, data: dict[str, str], status: int,
        message: str) -> None:
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)
    client = await sign_in("alice@example.com")
    response = await post_form(client, f"/charity/{cause.id}/donate",
                               {"key": "abcdefgh1234", "confirm": "1", **data})
    assert response.status_code == status
    assert message in response.text
    assert await Donation.all().count() == 0
    assert (await ledger.account_of_person(people.alice.id)).balance == 1000


async def test_a_closed_cause_shows_no_form_and_refuses_a_gift(people: People,
                                                              sign_in: SignIn) -> None:
    cause = await make_cause(people.carol, is_open=False)
    await give_points(people.alice, 1000)
    client = await sign_in("alice@example.com")
    page = await client.get(f"/charity/{cause.id}")
    assert "no longer taking donations" in page.text and 'name="amount"' not in page.text
    response = await post_form(client, f"/charity/{cause.id}/donate",
                               {"amount": "200", "key": "abcdefgh1234", "confirm": "1"})
    assert response.status_code == 409
    assert "This cause no longer takes donations." in response.text


async def test_the_charity_page_explains_when_there_is_nothing_yet(people: People,
                                                                   sign_in: SignIn) -> None:
    client = await sign_in("alice@example.com")
    page = await client.get("/charity")
    assert "No causes yet" in page.text and "No outlet has given yet" in page.text


async def create(client: httpx.AsyncClient, fields: dict[str, str],
                 picture: tuple[str, bytes, str] | None = None, *,
                 url: str = "/marketing/charity/new", htmx: bool = False) -> httpx.Response:
    """The cause form as the page sends it: multipart, the CSRF token in the header."""
    if not client.cookies.get("csrftoken"):
        await client.get("/rules")
    files = {"picture": picture} if picture else {"picture": ("", b"", "application/octet-stream")}
    headers = {"x-csrftoken": csrf(client), **({"hx-request": "true"} if htmx else {})}
    return await client.post(url, data=fields, files=files, headers=headers)


CAUSE_FIELDS = {"title": "Forests for rivers", "summary": "Trees along the Volga",
                "description": "One tree per 500 points.", "goal": "50000",
                "points_per_unit": "100", "currency": "EUR", "match_percent": "0",
                "min_donation": "", "is_open": "on", "position": "1"}


async def test_marketing_creates_a_cause_with_a_picture_and_edits_it(
        people: People, sign_in: SignIn) -> None:
    client = await sign_in("carol@example.com")
    assert "No causes yet" in (await client.get("/marketing/charity")).text
    form = (await client.get("/marketing/charity/new")).text
    # The browser checks what it can before sending (the attributes arrive unescaped).
    assert 'pattern="[A-Z]{3}"' in form and 'min="1"' in form
    made = await create(client, CAUSE_FIELDS, ("trees.png", image_bytes("PNG"), "image/png"))
    assert made.status_code == 303, made.text
    cause = await Cause.get(title="Forests for rivers")
    assert cause.picture and cause.picture.startswith("pictures/") and cause.is_open
    assert cause.min_donation is None
    edit_page = await client.get(made.headers["location"])
    assert "The cause is saved." in edit_page.text and cause.picture in edit_page.text

    changed = {**CAUSE_FIELDS, "title": "Forests", "min_donation": "300"}
    del changed["is_open"]
    saved = await create(client, changed, url=f"/marketing/charity/{cause.id}", htmx=True)
    assert saved.status_code == 204
    assert saved.headers["hx-redirect"] == f"http://testserver/marketing/charity/{cause.id}?saved=1"
    cause = await Cause.get(id=cause.id)
    assert (cause.title, cause.min_donation, cause.is_open) == ("Forests", 300, False)
    assert cause.picture and cause.picture.startswith("pictures/")  # kept


@pytest.mark.parametrize(("changes", "field_error"), [
    ({"title": ""}, "This field is required."),
    ({"goal": "0"}, "greater than or equal to 1"),
    ({"currency": "euro"}, "should match pattern"),
    ({"points_per_unit": "x"}, "Enter a whole number."),
    ({"min_donation": "-5"}, "greater than or equal to 1"),
    ({"owner": "me"}, "Unexpected field: owner"),
])
async def test_a_bad_cause_form_is_refused_naming_the_field_and_saves_nothing(
        people: People, sign_in: SignIn, changes: dict[str, str], field_error: str) -> None:
    client = await sign_in("carol@example.com")
    response = await create(client, {**CAUSE_FIELDS, **changes})
    assert response.status_code == 400
    assert field_error in response.text
    assert await Cause.all().count() == 0


async def test_a_refusal_sent_by_htmx_is_a_400_with_the_form_it_swaps_in(
        people: People, sign_in: SignIn) -> None:
    # The site's htmx-config (base.html) swaps 400 and 422: the same status as without HTMX.
    client = await sign_in("carol@example.com")
    response = await create(client, {**CAUSE_FIELDS, "goal": "-1"}, htmx=True)
    assert response.status_code == 400
    assert "greater than or equal to 1" in response.text and 'aria-invalid="true"' in response.text
    assert await Cause.all().count() == 0


@pytest.mark.parametrize("picture", [
    ("evil.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "image/png"),
    ("notes.txt", b"just text", "text/plain"),
])
async def test_a_picture_that_is_not_an_image_is_refused(
        people: People, sign_in: SignIn, picture: tuple[str, bytes, str]) -> None:
    client = await sign_in("carol@example.com")
    response = await create(client, CAUSE_FIELDS, picture)
    assert response.status_code == 400
    assert "The picture must be a PNG, JPEG or WebP image." in response.text
    assert await Cause.all().count() == 0


async def test_a_picture_over_the_limit_is_refused_by_its_size(people: People,
                                                               sign_in: SignIn) -> None:
    client = await sign_in("carol@example.com")
    response = await create(client, CAUSE_FIELDS,
                            ("big.png", b"\x00" * (6 * 1024 * 1024), "image/png"))
    assert response.status_code == 413
    assert await Cause.all().count() == 0


async def test_the_export_lists_donations_with_formulas_neutralised(
        people: People, sign_in: SignIn) -> None:
    cause = await make_cause(people.carol, title="=HYPERLINK(\"http://x\")")
    await give_points(people.alice, 1000)
    from portal.charity import service as charity
    from tests.charity.causes import NOW
    await charity.donate(people.alice, cause.id, amount=300, key="k", minimum=100, now=NOW)
    client = await sign_in("carol@example.com")
    response = await client.get("/marketing/charity/donations.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["donation_id", "created_at", "cause"]
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][3:] == ["Alice Archer", "alice@example.com", "Acme North", "Acme Pumps",
                           "300", "6.00", "EUR"]
