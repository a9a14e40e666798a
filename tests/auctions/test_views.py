"""Auctions and raffles through the pages: bidding (with and without HTMX), the live
panel, bad input on every form, marketing's lots and raffles with pictures, cancelling."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from portal.auctions import service as auctions
from portal.auctions.models import Bid, Lot, LotStatus, Raffle, Ticket
from portal.ledger.models import Account
from tests.auctions.lots import SETTINGS, give, lot, raffle
from tests.factories import People, SignIn, csrf, post_form
from tests.web.test_pictures import image_bytes


def form_key(page: str) -> str:
    found = re.search(r'name="key" value="([^"]+)"', page)
    assert found, "the page has no one-time key"
    return found.group(1)


def now() -> datetime:
    return datetime.now(UTC)


async def test_a_player_bids_from_the_lot_page_and_a_double_submit_bids_once(
        people: People, sign_in: SignIn) -> None:
    on = await lot(now=now(), title="Factory tour")
    await give(people.alice, 1000, at=now())
    client = await sign_in("alice@example.com")
    page = await client.get(f"/auctions/lots/{on.id}")
    assert page.status_code == 200
    assert "Factory tour" in page.text and "No bids yet" in page.text
    key = form_key(page.text)
    done = await post_form(client, f"/auctions/lots/{on.id}/bid", {"amount": "150", "key": key})
    again = await post_form(client, f"/auctions/lots/{on.id}/bid", {"amount": "150", "key": key})
    assert done.status_code == again.status_code == 303
    assert await Bid.all().count() == 1
    shown = await client.get(done.headers["location"])
    assert "Your bid is in" in shown.text and "You lead with 150 points." in shown.text
    assert people.alice.display_name in shown.text and "alice@example.com" not in shown.text
    history = await client.get("/history")
    assert "Bid on “Factory tour”" in history.text  # the hold, among the open holds


async def test_an_htmx_bid_answers_with_the_form_and_tells_the_live_panel(
        people: People, sign_in: SignIn) -> None:
    on = await lot(now=now())
    await give(people.alice, 1000, at=now())
    client = await sign_in("alice@example.com")
    key = form_key((await client.get(f"/auctions/lots/{on.id}")).text)
    answer = await client.post(f"/auctions/lots/{on.id}/bid", headers={"HX-Request": "true"},
                               data={"csrftoken": csrf(client), "amount": "150", "key": key})
    assert answer.status_code == 200 and answer.headers["HX-Trigger"] == "bid-placed"
    assert "Your bid of 150 points is in." in answer.text and form_key(answer.text) != key
    refused = await client.post(f"/auctions/lots/{on.id}/bid", headers={"HX-Request": "true"},
                                data={"csrftoken": csrf(client), "amount": "155",
                                      "key": form_key(answer.text)})
    assert refused.status_code == 200 and "Bid at least 160 points." in refused.text
    live = await client.get(f"/auctions/lots/{on.id}/live")
    assert live.status_code == 200 and "<html" not in live.text
    assert 'data-testid="available">850<' in live.text


async def test_the_outbid_player_sees_it_in_the_live_panel(people: People,
                                                          sign_in: SignIn) -> None:
    on = await lot(now=now())
    await give(people.alice, 1000, at=now())
    await give(people.bob, 1000, at=now())
    await auctions.place_bid(people.alice, on.id, amount=200, key="alice-first", now=now(),
                             settings=SETTINGS)
    await auctions.place_bid(people.bob, on.id, amount=300, key="bob-first-1", now=now(),
                             settings=SETTINGS)
    client = await sign_in("alice@example.com")
    live = await client.get(f"/auctions/lots/{on.id}/live")
    assert "You were outbid: your 200 points are available again." in live.text
    assert 'data-testid="available">1,000<' in live.text
    bell = await client.get("/notifications")
    assert "You were outbid on" in bell.text


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"amount": "lots"}, 400, "Enter a whole number."),
    ({"amount": "0"}, 400, "greater than or equal to 1"),
    ({"amount": "99"}, 409, "Bid at least 100 points."),
    ({"amount": "5000"}, 409, "Not enough points: 1000 available, 5000 needed."),
    ({"amount": "150", "key": "x"}, 400, "at least 8 characters"),
    ({"amount": "150", "role": "admin"}, 400, "Unexpected field: role"),
])
async def test_a_bad_bid_is_refused_with_its_reason_and_changes_nothing(
        people: People, sign_in: SignIn, data: dict[str, str], status: int,
        message: str) -> None:
    on = await lot(now=now())
    await give(people.alice, 1000, at=now())
    client = await sign_in("alice@example.com")
    answer = await post_form(client, f"/auctions/lots/{on.id}/bid",
                             {"key": "a-good-key-1", **data})
    assert answer.status_code == status
    assert message in answer.text.replace("&#39;", "'")
    assert await Bid.all().count() == 0
    assert (await Account.get(person_id=people.alice.id)).held == 0


async def test_a_bid_on_an_ended_lot_is_refused(people: People, sign_in: SignIn) -> None:
    on = await lot(now=now() - timedelta(hours=2), ends_in=timedelta(hours=1))
    await give(people.alice, 1000, at=now())
    client = await sign_in("alice@example.com")
    answer = await post_form(client, f"/auctions/lots/{on.id}/bid",
                             {"amount": "150", "key": "a-good-key-1"})
    assert answer.status_code == 409 and "This auction has ended" in answer.text


async def test_the_index_lists_open_lots_and_raffles_and_says_when_there_are_none(
        people: People, sign_in: SignIn) -> None:
    client = await sign_in("alice@example.com")
    empty = await client.get("/auctions")
    assert "No auction is open right now" in empty.text
    assert "No raffle is selling tickets right now" in empty.text
    await lot(now=now(), title="Signed ball")
    await raffle(now=now())
    full = await client.get("/auctions")
    assert "Signed ball" in full.text and "points a ticket" in full.text


async def test_a_player_buys_raffle_tickets_once_per_key_within_the_limit(
        people: People, sign_in: SignIn) -> None:
    draw = await raffle(now=now(), price=50, limit=3)
    await give(people.alice, 1000, at=now())
    client = await sign_in("alice@example.com")
    key = form_key((await client.get(f"/auctions/raffles/{draw.id}")).text)
    done = await post_form(client, f"/auctions/raffles/{draw.id}/tickets",
                           {"count": "2", "key": key})
    again = await post_form(client, f"/auctions/raffles/{draw.id}/tickets",
                            {"count": "2", "key": key})
    assert done.status_code == again.status_code == 303
    assert await Ticket.filter(raffle_id=draw.id).count() == 2
    page = await client.get(done.headers["location"])
    assert "Your tickets are in the draw" in page.text and ">1, 2<" in page.text
    over = await post_form(client, f"/auctions/raffles/{draw.id}/tickets",
                           {"count": "2", "key": "another-key-1"})
    assert over.status_code == 409
    assert "At most 3 tickets per person: you have 2." in over.text
    for data, message in [({"count": "many"}, "Enter a whole number."),
                          ({"count": "0"}, "greater than or equal to 1"),
                          ({"count": "1", "extra": "x"}, "Unexpected field: extra")]:
        bad = await post_form(client, f"/auctions/raffles/{draw.id}/tickets",
                              {"key": "bad-key-123", **data})
        assert bad.status_code == 400 and message in bad.text
    assert (await Account.get(person_id=people.alice.id)).balance == 900


async def test_marketing_puts_up_a_lot_with_a_picture(people: People,
                                                     sign_in: SignIn) -> None:
    client = await sign_in("carol@example.com")
    form = await client.get("/marketing/auctions/new/lot")
    assert form.status_code == 200 and "Put up the lot" in form.text
    start = (now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    end = (now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    answer = await client.post("/marketing/auctions/new/lot", data={
        "csrftoken": csrf(client), "title": "Meet the engineers", "description": "A day",
        "prize_text": "A day in the lab", "prize_item": "", "starts_at": start,
        "ends_at": end, "starting_bid": "500", "increment": "50"},
        files={"picture": ("lab.png", image_bytes("PNG"), "image/png")})
    assert answer.status_code == 303, answer.text
    made = await Lot.get(title="Meet the engineers")
    assert made.picture.startswith("pictures/") and made.soft_close_minutes == 2
    assert made.starting_bid == 500 and made.status == LotStatus.OPEN
    listed = await client.get(answer.headers["location"])
    assert "Saved: players see it now." in listed.text and "Meet the engineers" in listed.text


@pytest.mark.parametrize(("change", "message"), [
    ({"title": ""}, "This field is required."),
    ({"starting_bid": "-1"}, "greater than or equal to 1"),
    ({"ends_at": "tomorrow"}, "valid datetime"),
    ({"prize_item": "999999"}, "There is no such reward."),
    ({"prize_text": ""}, "Say what the winner gets"),
    ({"ends_at": "2020-01-01T10:00"}, "The end must"),
    ({"role": "admin"}, "Unexpected field: role"),
])
async def test_a_bad_lot_form_names_the_problem_and_saves_nothing(
        people: People, sign_in: SignIn, change: dict[str, str], message: str) -> None:
    client = await sign_in("carol@example.com")
    data = {"csrftoken": csrf(client), "title": "Lot", "prize_text": "Prize",
            "starts_at": "2026-01-01T10:00",
            "ends_at": (now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "starting_bid": "10", "increment": "1", **change}
    answer = await client.post("/marketing/auctions/new/lot", data=data,
                               files={"picture": ("", b"", "application/octet-stream")})
    assert answer.status_code == 400
    assert message in answer.text.replace("&#39;", "'")
    assert await Lot.all().count() == 0


async def test_a_lot_the_service_refuses_shows_the_form_again_as_typed(
        people: People, sign_in: SignIn) -> None:
    client = await sign_in("carol@example.com")
    answer = await client.post("/marketing/auctions/new/lot", data={
        "csrftoken": csrf(client), "title": "Old news", "prize_text": "A day in the lab",
        "starts_at": "2020-01-01T09:00", "ends_at": "2020-01-01T10:00",
        "starting_bid": "75", "increment": "5"})
    assert answer.status_code == 400 and "The end must be in the future." in answer.text
    for typed in ('value="Old news"', 'value="A day in the lab"', 'value="75"',
                  'value="2020-01-01T10:00:00"'):
        assert typed in answer.text
    assert await Lot.all().count() == 0


async def test_a_picture_that_is_not_one_is_refused(people: People, sign_in: SignIn) -> None:
    client = await sign_in("carol@example.com")
    answer = await client.post("/marketing/auctions/new/raffle", data={
        "csrftoken": csrf(client), "title": "Draw", "prize_text": "Prize", "winners": "1",
        "ticket_price": "10", "per_person_limit": "2",
        "draw_at": (now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
        files={"picture": ("x.png", b"<svg onload=alert(1)>", "image/png")})
    assert answer.status_code == 400 and "PNG, JPEG or WebP" in answer.text
    assert await Raffle.all().count() == 0


async def test_marketing_creates_a_raffle(people: People, sign_in: SignIn) -> None:
    client = await sign_in("carol@example.com")
    assert "Start selling tickets" in (await client.get("/marketing/auctions/new/raffle")).text
    answer = await client.post("/marketing/auctions/new/raffle", data={
        "csrftoken": csrf(client), "title": "Winter draw", "prize_text": "A bike",
        "winners": "3", "ticket_price": "25", "per_person_limit": "5",
        "draw_at": (now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")})
    assert answer.status_code == 303
    made = await Raffle.get(title="Winter draw")
    assert (made.winners, made.ticket_price, made.per_person_limit) == (3, 25, 5)
    bad = await client.post("/marketing/auctions/new/raffle", data={
        "csrftoken": csrf(client), "title": "Winter draw", "prize_text": "A bike",
        "winners": "0", "ticket_price": "25", "per_person_limit": "5",
        "draw_at": "2020-01-01T00:00"})
    assert bad.status_code == 400 and "greater than or equal to 1" in bad.text
    assert (await client.get("/marketing/auctions/new/other")).status_code == 404


async def test_marketing_cancels_a_lot_after_confirming(people: People,
                                                       sign_in: SignIn) -> None:
    on = await lot(now=now())
    await give(people.alice, 1000, at=now())
    await auctions.place_bid(people.alice, on.id, amount=300, key="alice-bid-1", now=now(),
                             settings=SETTINGS)
    client = await sign_in("carol@example.com")
    unconfirmed = await post_form(client, f"/auctions/lots/{on.id}/cancel".replace(
        "/auctions/", "/marketing/auctions/"), {})
    assert unconfirmed.status_code == 400
    done = await post_form(client, f"/marketing/auctions/lots/{on.id}/cancel",
                           {"confirm": "yes"})
    assert done.status_code == 303
    assert (await Lot.get(id=on.id)).status == LotStatus.CANCELLED
    assert (await Account.get(person_id=people.alice.id)).held == 0
    again = await post_form(client, f"/marketing/auctions/lots/{on.id}/cancel",
                            {"confirm": "yes"})
    assert again.status_code == 409
    staff = await client.get("/marketing/auctions")
    assert "cancelled" in staff.text
    alice: httpx.AsyncClient = await sign_in("alice@example.com")
    assert "This auction was cancelled" in (await alice.get(f"/auctions/lots/{on.id}")).text
