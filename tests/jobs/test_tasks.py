"""A job runs once per period, whoever starts it and however often."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from portal.jobs.models import JobRun
from portal.jobs.scheduler import JOBS
from portal.jobs.tasks import record_run
from portal.settings import Settings

pytestmark = pytest.mark.usefixtures("db")
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SETTINGS = Settings(secret_key="x")


async def test_two_runs_for_the_same_period_do_the_work_once() -> None:
    calls: list[datetime] = []

    async def job(now: datetime, settings: Settings) -> int:
        calls.append(now)
        await asyncio.sleep(0)
        return 1

    runs = await asyncio.gather(*(record_run("demo", job, SETTINGS, period="2026-12-01T03",
                                             now=NOW) for _ in range(5)))
    assert len(calls) == 1
    assert sum(run is not None for run in runs) == 1
    stored = await JobRun.get(job="demo", period="2026-12-01T03")
    assert stored.result == "1 done" and stored.finished_at is not None


async def test_a_failed_period_is_recorded_and_a_later_run_completes_it() -> None:
    async def broken(now: datetime, settings: Settings) -> int:
        raise RuntimeError("mail server down")

    async def working(now: datetime, settings: Settings) -> int:
        return 3

    failed = await record_run("demo", broken, SETTINGS, period="p1", now=NOW)
    assert failed is not None and "mail server down" in failed.error
    retried = await record_run("demo", working, SETTINGS, period="p1",
                               now=NOW + timedelta(minutes=5))
    assert retried is not None and retried.result == "3 done" and retried.error == ""
    assert await record_run("demo", working, SETTINGS, period="p1", now=NOW) is None


async def test_the_session_purge_runs_for_each_hour() -> None:
    job = JOBS["purge-sessions"]
    assert job.period(NOW) == "2026-12-01T03"
    assert job.period(NOW + timedelta(minutes=59)) == job.period(NOW)
    assert job.period(NOW + timedelta(hours=1)) != job.period(NOW)
    run = await record_run(job.name, job.run, SETTINGS, period=job.period(NOW), now=NOW)
    assert run is not None and run.result == "0 done"


def test_every_job_sets_its_misfire_grace_and_coalesces() -> None:
    from portal.jobs.scheduler import build_scheduler

    scheduler = build_scheduler(SETTINGS)
    jobs = scheduler.get_jobs()
    assert {job.id for job in jobs} == set(JOBS)
    for job in jobs:
        assert job.coalesce is True
        assert job.misfire_grace_time >= 60  # APScheduler's 1 s default skips late runs
        assert job.max_instances == 1


async def test_the_season_end_freezes_last_month_once_and_announces_the_new_one() -> None:
    from portal.leaderboard.models import SeasonStanding
    from portal.ledger import service as ledger
    from portal.notifications.models import Notification
    from tests.factories import make_person

    people = [await make_person(f"p{i}@example.com") for i in range(3)]
    for i, person in enumerate(people):
        account = await ledger.account_of_person(person.id)
        await ledger.earn(account, amount=100 * (i + 1), reason="Quiz", reference="q",
                          key=f"e{i}", now=datetime(2026, 11, 20, tzinfo=UTC))
    job = JOBS["season-end"]
    moment = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    first = await record_run(job.name, job.run, SETTINGS, period=job.period(moment), now=moment)
    assert first is not None and first.result == "3 done"
    standings = await SeasonStanding.filter(season="2026-11").order_by("rank")
    assert [(s.rank, s.earned) for s in standings] == [(1, 300), (2, 200), (3, 100)]
    from portal.jobs.tasks import season_end

    assert await season_end(moment, SETTINGS) == 0  # even run again, outside its claim
    assert await SeasonStanding.filter(season="2026-11").count() == 3
    assert await Notification.filter(kind="new_season").count() == 3
    from portal.notifications.models import Email

    assert await Email.filter(subject="This month's quizzes are live").count() == 3


async def test_a_run_that_died_without_a_word_is_taken_over_after_an_hour() -> None:
    # Claims are judged by the wall clock (when runs really started), not the replayed date.
    wall = datetime.now(UTC)
    dead = await JobRun.create(job="demo", period="p2", started_at=wall - timedelta(minutes=30))

    async def working(now: datetime, settings: Settings) -> int:
        return 1

    assert await record_run("demo", working, SETTINGS, period="p2", now=NOW) is None
    await JobRun.filter(id=dead.id).update(started_at=wall - timedelta(hours=2))
    taken = await record_run("demo", working, SETTINGS, period="p2", now=NOW)
    assert taken is not None and taken.result == "1 done"
