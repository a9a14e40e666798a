"""Points that arrive while a player stays idle, even after a burn, are warned and then
burned too; the jobs run as scheduled (burns at 02:00 UTC, warnings at 09:00 UTC), each
run replayed, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts.models import Person
from portal.burns import service as burns
from portal.db import write_transaction
from portal.ledger import service as ledger
from portal.ledger.models import Account, Transfer, TransferKind
from portal.notifications.models import Email, Notification
from portal.settings import Settings
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("any_db")
SETTINGS = Settings(secret_key="x", burn_after_days=30, burn_warning_days="7,1",
                    base_url="https://club.example.com")
NOTICE = burns.notice_period(SETTINGS)
LAST_GAME = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)  # due 2026-12-01 10:00
FIRST_BURN = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # the first run at or after that


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


async def idle_player(points: int = 500) -> tuple[Person, Account]:
    alice = await make_person("alice@example.com")
    account = await ledger.account_of_person(alice.id)
    await ledger.earn(account, amount=points, reason="Quiz", reference="quiz:1", key="q1",
                      now=LAST_GAME)
    return alice, account


async def burn_run(now: datetime) -> int:
    """One scheduled burn run, replayed: the replay must burn nothing."""
    burned = await burns.burn_inactive(now, days=30, notice=NOTICE)
    assert await burns.burn_inactive(now, days=30, notice=NOTICE) == 0
    return burned


async def warning_run(now: datetime) -> int:
    warned = await burns.warn_before_burn(now, SETTINGS)
    assert await burns.warn_before_burn(now, SETTINGS) == 0
    return warned


async def days_of_jobs(first: datetime, last: datetime) -> list[tuple[datetime, str, int]]:
    """Every burn and warning run from ``first`` to ``last`` (days), and what each did."""
    done = []
    day = first
    while day <= last:
        done.append((day.replace(hour=2), "burned", await burn_run(day.replace(hour=2))))
        done.append((day.replace(hour=9), "warned", await warning_run(day.replace(hour=9))))
        day += timedelta(days=1)
    return [event for event in done if event[2]]


async def adjust(account: Account, amount: int, now: datetime) -> None:
    dave = await Person.get_or_none(email="dave@example.com") or await make_person(
        "dave@example.com")
    await ledger.adjust(account, amount=amount, reason="Correction", by_person_id=dave.id,
                        key=f"adjust:{now.isoformat()}", now=now)


async def available(account: Account) -> tuple[int, int]:
    fresh = await Account.get(id=account.id)
    return fresh.balance - fresh.held, fresh.held


async def test_points_that_arrive_after_a_burn_are_warned_then_burned(any_db: str) -> None:
    alice, account = await idle_player(500)
    assert await days_of_jobs(datetime(2026, 11, 20, tzinfo=UTC), at(2, 0)) == [
        (datetime(2026, 11, 25, 9, 0, tzinfo=UTC), "warned", 1), (at(1, 9), "warned", 1),
        (FIRST_BURN, "burned", 1)]
    await adjust(account, 50, at(3, 15))  # the player stays idle
    outlook = await burns.outlook(await Account.get(id=account.id), SETTINGS, now=at(3, 16))
    assert outlook.burns_at == at(11, 2)  # the first run a week or more after they arrived
    assert await days_of_jobs(at(3, 0), at(12, 0)) == [
        (at(4, 9), "warned", 1), (at(10, 9), "warned", 1), (at(11, 2), "burned", 1)]
    assert await available(account) == (0, 0)
    burned = await Transfer.filter(kind=TransferKind.BURN).order_by("id").values_list(
        "key", "amount")
    assert burned == [(f"burn:{account.id}:2026-12-02T02:00Z", 500),
                      (f"burn:{account.id}:2026-12-11T02:00Z", 50)]
    notices = await Notification.filter(person_id=alice.id).order_by("id").values_list(
        "key", "params")
    assert [params for _, params in notices] == [
        {"points": 500, "at": "2026-12-02T02:00:00+00:00"},
        {"points": 500, "at": "2026-12-02T02:00:00+00:00"},
        {"points": 500, "date": "2026-11-01"},
        {"points": 50, "at": "2026-12-11T02:00:00+00:00"},
        {"points": 50, "at": "2026-12-11T02:00:00+00:00"},
        {"points": 50, "date": "2026-11-01"},
    ]
    assert [key.split(":")[:2] for key, _ in notices] == [
        ["warn", "7"], ["warn", "1"], ["burned", "burn"]] * 2
    assert await Email.filter(person_id=alice.id).count() == 4
    assert await ledger.check_invariants() == []


async def test_a_player_who_plays_after_late_points_arrive_keeps_them(any_db: str) -> None:
    alice, account = await idle_player(500)
    assert await days_of_jobs(at(2, 0), at(2, 0)) == [(FIRST_BURN, "burned", 1)]
    await adjust(account, 50, at(3, 15))
    await days_of_jobs(at(3, 0), at(7, 0))  # the 7-day warning went out on the 4th
    async with write_transaction() as conn:  # a finished game that earned nothing
        await ledger.mark_active(conn, alice.id, now=at(8, 12))
    assert await days_of_jobs(at(8, 0), at(20, 0)) == []
    assert await available(account) == (50, 0)
    outlook = await burns.outlook(await Account.get(id=account.id), SETTINGS, now=at(20, 0))
    assert outlook.burns_at == datetime(2027, 1, 8, 2, 0, tzinfo=UTC)


async def test_a_released_bid_after_a_burn_is_warned_then_burned_and_held_points_never(
    any_db: str,
) -> None:
    _, account = await idle_player(500)
    lot = await ledger.system_account("auction:1")
    bid = await ledger.hold(account, target=lot, amount=200, reason="Bid", reference="lot:1",
                            key="bid", now=datetime(2026, 11, 2, tzinfo=UTC))
    assert await days_of_jobs(at(2, 0), at(2, 0)) == [(FIRST_BURN, "burned", 1)]
    assert await available(account) == (0, 200)  # the bid's points stay
    await adjust(account, 30, at(3, 15))  # arrives while the bid is still open
    assert await days_of_jobs(at(3, 0), at(11, 0)) == [
        (at(4, 9), "warned", 1), (at(10, 9), "warned", 1), (at(11, 2), "burned", 1)]
    assert await available(account) == (0, 200)
    await ledger.release(bid.id, now=at(12, 20))  # outbid: the points come back
    assert await days_of_jobs(at(12, 0), at(21, 0)) == [
        (at(13, 9), "warned", 1), (at(19, 9), "warned", 1), (at(20, 2), "burned", 1)]
    assert await available(account) == (0, 0)
    amounts = await Transfer.filter(kind=TransferKind.BURN).order_by("id").values_list(
        "amount", flat=True)
    assert amounts == [300, 30, 200]
    assert await ledger.check_invariants() == []


async def test_replays_and_runs_started_together_in_one_process_burn_nothing_twice(
        any_db: str) -> None:
    _, account = await idle_player(500)
    # Three runs at once, the run again, and a catch-up of it later that day: one burn.
    results = [*await asyncio.gather(*(burns.burn_inactive(FIRST_BURN, days=30, notice=NOTICE)
                                       for _ in range(3))),
               await burns.burn_inactive(FIRST_BURN, days=30, notice=NOTICE),
               await burns.burn_inactive(at(2, 14), days=30, notice=NOTICE)]
    assert sorted(results) == [0, 0, 0, 0, 1]
    await adjust(account, 50, at(3, 15))
    # Replaying the old run after new points arrived burns none of them.
    assert await burns.burn_inactive(FIRST_BURN, days=30, notice=NOTICE) == 0
    assert await available(account) == (50, 0)
    assert await Transfer.filter(kind=TransferKind.BURN).count() == 1
    assert await Notification.filter(kind="burned").count() == 1


async def test_points_arriving_just_before_the_burn_postpone_it_until_they_are_warned(
    any_db: str,
) -> None:
    alice, account = await idle_player(500)
    assert await days_of_jobs(datetime(2026, 11, 20, tzinfo=UTC), at(1, 0)) == [
        (datetime(2026, 11, 25, 9, 0, tzinfo=UTC), "warned", 1), (at(1, 9), "warned", 1)]
    await adjust(account, 50, at(1, 12))  # after "tomorrow" was said, before the run
    # The 550 points burn a week later, each warning given again with the new amount.
    assert await days_of_jobs(at(2, 0), at(10, 0)) == [
        (at(2, 9), "warned", 1), (at(8, 9), "warned", 1), (at(9, 2), "burned", 1)]
    assert (await Transfer.get(kind=TransferKind.BURN)).amount == 550
    assert await Notification.filter(person_id=alice.id, kind="burn_warning").count() == 4


async def test_a_late_run_never_burns_points_due_after_its_scheduled_time(any_db: str) -> None:
    _, account = await idle_player(500)  # due 12-01 10:00, told 12-02 02:00
    # The 12-01 run started late (caught up at 14:00): the points were not due at 02:00.
    assert await burns.burn_inactive(at(1, 14), days=30, notice=NOTICE) == 0
    assert await available(account) == (500, 0)
    assert await burns.burn_inactive(FIRST_BURN, days=30, notice=NOTICE) == 1
