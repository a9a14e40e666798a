"""When an account's available points fall due to burn, as the dashboard's summary shows
it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.ledger import reads
from portal.ledger import service as ledger
from tests.factories import make_person
from tests.ledger.test_service import fresh, new_account

pytestmark = pytest.mark.usefixtures("any_db")


async def test_the_next_burn_is_counted_from_the_last_earning_not_from_spending() -> None:
    alice = await new_account()
    earned_on = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    await ledger.earn(alice, amount=100, reason="Quiz", reference="quiz:9", key="e",
                      now=earned_on)
    await ledger.spend(alice, amount=10, reason="Gift", reference="catalog:1", key="s",
                       now=datetime(2026, 12, 5, tzinfo=UTC))
    points = await reads.summary(await fresh(alice), burn_after_days=30,
                                  now=datetime(2026, 12, 6, tzinfo=UTC))
    assert points.last_activity == earned_on
    assert points.burn_due == datetime(2026, 12, 31, 10, 0, tzinfo=UTC)
    assert (points.available, points.earned_this_season) == (90, 100)


async def test_points_arriving_late_fall_due_no_sooner_than_the_notice_after() -> None:
    alice = await new_account()
    dave = await make_person("dave@example.com")
    earned_on = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    week = timedelta(days=7)
    await ledger.earn(alice, amount=100, reason="Quiz", reference="quiz:9", key="e",
                      now=earned_on)
    await ledger.adjust(alice, amount=5, reason="Correction", by_person_id=dave.id, key="a1",
                        now=datetime(2026, 12, 10, tzinfo=UTC))  # early: changes nothing
    points = await reads.summary(await fresh(alice), burn_after_days=30, notice=week)
    assert points.burn_due == datetime(2026, 12, 31, 10, 0, tzinfo=UTC)
    await ledger.adjust(alice, amount=5, reason="Correction", by_person_id=dave.id, key="a2",
                        now=datetime(2026, 12, 28, 12, 0, tzinfo=UTC))
    points = await reads.summary(await fresh(alice), burn_after_days=30, notice=week)
    assert points.burn_due == datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


async def test_a_released_bid_is_points_arriving() -> None:
    alice = await new_account()
    await ledger.earn(alice, amount=100, reason="Quiz", reference="quiz:9", key="e",
                      now=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    lot = await ledger.system_account("auction:9")
    bid = await ledger.hold(alice, target=lot, amount=60, reason="Bid", reference="lot:9",
                            key="b", now=datetime(2026, 12, 2, tzinfo=UTC))
    await ledger.release(bid.id, now=datetime(2026, 12, 30, tzinfo=UTC))
    points = await reads.summary(await fresh(alice), burn_after_days=30,
                                  notice=timedelta(days=7))
    assert points.burn_due == datetime(2027, 1, 6, tzinfo=UTC)


async def test_nothing_burns_when_nothing_is_available() -> None:
    alice = await new_account()
    points = await reads.summary(alice, burn_after_days=30)
    assert points.burn_due is None
