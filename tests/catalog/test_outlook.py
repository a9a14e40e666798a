"""The dashboard's rewards outlook, on SQLite and PostgreSQL: the pinned goal and what the
points buy now, as the catalog's own rules see them, in two statements."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.catalog import service as catalog
from portal.catalog.models import Goal, ItemKind
from tests.catalog.stock import finish_quiz, give, item
from tests.factories import make_person
from tests.sql_log import statements

pytestmark = pytest.mark.usefixtures("any_db")




async def test_the_outlook_offers_the_dearest_affordable_rewards_in_stock() -> None:
    alice = await make_person()
    await give(alice, 1000)
    await item(price=900, codes=1, title="Dinner")
    await item(price=800, codes=0, title="Sold out")  # a certificate without codes
    await item(kind=ItemKind.GIFT, price=800, stock=2, title="Cap")
    await item(price=1001, codes=1, title="Too dear")
    await item(price=100, codes=1, title="Coffee")
    await item(price=50, codes=1, title="Sticker")
    await item(price=10, codes=1, title="For companies", for_companies=True)
    await item(price=20, codes=1, title="Withdrawn", active=False)
    found = await catalog.outlook(alice, threshold=500)
    assert [(c.title, c.left, c.available, c.goal) for c in found.now] == [
        ("Dinner", 1, 1000, False), ("Cap", 2, 1000, False), ("Coffee", 1, 1000, False)]
    assert found.goal is None
    assert (found.threshold.points, found.threshold.available) == (500, 1000)


async def test_the_goal_shows_however_dear_and_the_locked_rewards_once_unlocked() -> None:
    alice = await make_person()
    await give(alice, 300)
    quiz_id = await finish_quiz(None)
    locked = await item(price=200, codes=1, title="Locked", unlock_quiz_id=quiz_id)
    dream = await item(price=9000, codes=1, title="Weekend away")
    await catalog.pin_goal(await catalog.as_player(alice), dream.id, now=datetime.now(UTC))
    before = await catalog.outlook(alice, threshold=0)
    assert (before.goal and (before.goal.title, before.goal.goal, before.goal.missing)) == (
        "Weekend away", True, 8700)
    assert [card.title for card in before.now] == []
    await finish_quiz(alice, quiz_id)
    with statements() as sent:
        after = await catalog.outlook(alice, threshold=0)
    assert [card.id for card in after.now] == [locked.id]
    assert len(sent) == 2  # the account, then the items


async def test_a_goal_hidden_behind_an_unplayed_quiz_is_not_shown() -> None:
    alice = await make_person()
    quiz_id = await finish_quiz(None)
    secret = await item(price=10, codes=1, unlock_quiz_id=quiz_id)
    await Goal.create(person_id=alice.id, item_id=secret.id, pinned_at=datetime.now(UTC))
    assert (await catalog.outlook(alice, threshold=0)).goal is None
