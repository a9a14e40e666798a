"""Raffles on SQLite and PostgreSQL: tickets are keyed spends within a per-person limit,
the draw happens once (raced across processes too), and the recorded seed with the
published ticket list reproduces the winners."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from portal.auctions import raffles
from portal.auctions.models import Raffle, RaffleStatus, RaffleWinner, Ticket
from portal.catalog.models import Order
from portal.ledger import service as ledger
from portal.ledger.models import Account
from portal.notifications.models import Notification
from portal.settings import PROJECT_ROOT
from tests.auctions.lots import NOW, SETTINGS, player, raffle
from tests.catalog.stock import item
from tests.racing import race

pytestmark = pytest.mark.usefixtures("any_db")


async def test_tickets_are_one_spend_per_key_with_consecutive_numbers() -> None:
    alice, bob = await player(1000), await player(1000)
    draw = await raffle(price=50, limit=5)
    first = await raffles.buy_tickets(alice, draw.id, count=3, key="alice-tickets", now=NOW)
    again = await raffles.buy_tickets(alice, draw.id, count=3, key="alice-tickets", now=NOW)
    theirs = await raffles.buy_tickets(bob, draw.id, count=1, key="bob-tickets-1", now=NOW)
    assert (first.numbers, first.paid, first.replayed) == ([1, 2, 3], 150, False)
    assert (again.numbers, again.replayed) == ([1, 2, 3], True)
    assert theirs.numbers == [4]
    assert (await Account.get(person_id=alice.id)).balance == 850
    assert (await Account.get(id=draw.account_id)).balance == 200
    with pytest.raises(ledger.KeyReused):
        await raffles.buy_tickets(alice, draw.id, count=2, key="alice-tickets", now=NOW)


async def test_the_per_person_limit_and_the_points_are_respected() -> None:
    alice = await player(120)
    draw = await raffle(price=50, limit=3)
    await raffles.buy_tickets(alice, draw.id, count=2, key="alice-first", now=NOW)
    with pytest.raises(raffles.TicketLimit):
        await raffles.buy_tickets(alice, draw.id, count=2, key="alice-second", now=NOW)
    with pytest.raises(ledger.NotEnoughPoints):
        await raffles.buy_tickets(alice, draw.id, count=1, key="alice-third", now=NOW)
    assert await Ticket.filter(raffle_id=draw.id).count() == 2
    assert (await Raffle.get(id=draw.id)).sold == 2


async def test_bad_purchases_are_refused() -> None:
    alice = await player(1000)
    draw = await raffle()
    for count in (0, -1, 101, True):
        with pytest.raises(raffles.BadRaffle):
            await raffles.buy_tickets(alice, draw.id, count=count, key="a-good-key", now=NOW)
    with pytest.raises(raffles.BadRaffle):
        await raffles.buy_tickets(alice, draw.id, count=1, key="short", now=NOW)
    with pytest.raises(raffles.NoSuchRaffle):
        await raffles.buy_tickets(alice, 999999, count=1, key="a-good-key", now=NOW)
    with pytest.raises(raffles.SalesClosed):
        await raffles.buy_tickets(alice, draw.id, count=1, key="a-late-key",
                                  now=draw.draw_at)
    assert (await Account.get(person_id=alice.id)).balance == 1000


async def test_the_draw_happens_once_and_its_seed_reproduces_the_winners() -> None:
    people = [await player(1000) for _ in range(6)]
    reward = await item(price=10, codes=5)
    draw = await raffle(price=10, limit=5, winners=3, prize_item_id=reward.id)
    for n, person in enumerate(people):
        await raffles.buy_tickets(person, draw.id, count=1 + n % 3,
                                  key=f"buy-tickets-{person.id}-x", now=NOW)
    assert await raffles.draw_due(draw.draw_at - timedelta(seconds=1), SETTINGS) == 0
    assert await raffles.draw_due(draw.draw_at, SETTINGS) == 1
    assert await raffles.draw_due(draw.draw_at, SETTINGS) == 0
    assert not await raffles.draw(draw.id, settings=SETTINGS, now=draw.draw_at)
    drawn = await Raffle.get(id=draw.id)
    assert drawn.status == RaffleStatus.DRAWN and len(drawn.seed) == 32
    winners = await RaffleWinner.filter(raffle_id=draw.id).order_by("place")
    assert len(winners) == 3 and len({w.person_id for w in winners}) == 3
    check = await raffles.verify(draw.id)
    assert check.matches and check.recorded == [w.ticket_number for w in winners]
    # The rule, from the published list alone: rank by sha256("seed:n"), distinct people.
    tickets = {t.number: t.person_id for t in await Ticket.filter(raffle_id=draw.id)}
    assert [n for n, _ in raffles.pick(drawn.seed, tickets, 3)] == check.recorded
    orders = await Order.filter(person_id__in=[w.person_id for w in winners])
    assert len(orders) == 3 and all(o.price == 0 for o in orders)
    told = await Notification.filter(kind__in=["raffle_won", "raffle_lost"]).count()
    assert told == 6
    assert await Notification.filter(kind="raffle_won").count() == 3


async def test_the_same_seed_and_tickets_always_give_the_same_winners() -> None:
    tickets = {n: n % 7 for n in range(1, 50)}
    assert raffles.pick("abc", tickets, 4) == raffles.pick("abc", dict(reversed(
        list(tickets.items()))), 4)
    assert raffles.pick("abc", tickets, 4) != raffles.pick("abd", tickets, 4)
    assert raffles.pick("abc", {1: 5, 2: 5}, 3) == [(raffles.ranking("abc", [1, 2])[0], 5)]


async def test_a_raffle_without_tickets_is_drawn_with_no_winner() -> None:
    draw = await raffle()
    assert await raffles.draw_due(draw.draw_at, SETTINGS) == 1
    assert await RaffleWinner.filter(raffle_id=draw.id).count() == 0
    assert (await raffles.verify(draw.id)).matches


async def test_the_draw_raced_by_processes_happens_once(any_db: str) -> None:
    people = [await player(1000) for _ in range(4)]
    draw = await raffle(price=10, winners=2)
    for person in people:
        await raffles.buy_tickets(person, draw.id, count=2, key=f"buy-tickets-{person.id}-y",
                                  now=NOW)
    call = {"op": "draw", "raffle": draw.id, "now": draw.draw_at.isoformat()}
    lines = await race("tests.auctions.bid_worker", *([any_db, json.dumps(call)]
                                                      for _ in range(3)))
    outcomes = [o for line in lines for o in json.loads(line)["outcomes"]]
    assert sorted(outcomes) == ["drawn", "not_drawn", "not_drawn"]
    assert await RaffleWinner.filter(raffle_id=draw.id).count() == 2
    assert (await raffles.verify(draw.id)).matches


async def test_the_verify_command_repeats_the_draw(any_db: str) -> None:
    alice = await player(1000)
    draw = await raffle(price=10, winners=1)
    await raffles.buy_tickets(alice, draw.id, count=2, key="alice-verify", now=NOW)
    await raffles.draw(draw.id, settings=SETTINGS, now=draw.draw_at)
    seed = (await Raffle.get(id=draw.id)).seed
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "portal.cli", "raffle-verify", str(draw.id)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PORTAL_DATABASE_URL": any_db, "PORTAL_SECRET_KEY": "x"})
    assert done.returncode == 0, done.stderr
    assert f"seed: {seed}" in done.stdout and "the draw is reproduced" in done.stdout
