"""A job runs once per period, whoever starts it and however often."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from portal.jobs.models import JobRun
from portal.jobs.scheduler import JOBS, JobScheduler
from portal.jobs.tasks import Outcome, record_run
from portal.settings import Settings

pytestmark = pytest.mark.usefixtures("db")
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SETTINGS = Settings(secret_key="x")


async def test_five_runs_for_the_same_period_started_in_one_process_do_the_work_once() -> None:
    calls: list[datetime] = []

    async def job(now: datetime, settings: Settings) -> int:
        calls.append(now)
        await asyncio.sleep(0)
        return 1

    reports = await asyncio.gather(*(record_run("demo", job, SETTINGS, period="2026-12-01T03",
                                                now=NOW) for _ in range(5)))
    assert len(calls) == 1
    assert sum(report.outcome is Outcome.DONE for report in reports) == 1
    stored = await JobRun.get(job="demo", period="2026-12-01T03")
    assert stored.result == "1 done" and stored.finished_at is not None


async def test_a_failed_period_is_recorded_and_a_later_run_completes_it() -> None:
    async def broken(now: datetime, settings: Settings) -> int:
        raise RuntimeError("mail server down")

    async def working(now: datetime, settings: Settings) -> int:
        return 3

    failed = (await record_run("demo", broken, SETTINGS, period="p1", now=NOW)).run
    assert failed is not None and "mail server down" in failed.error
    retried = (await record_run("demo", working, SETTINGS, period="p1",
                                now=NOW + timedelta(minutes=5))).run
    assert retried is not None and retried.result == "3 done" and retried.error == ""
    again = await record_run("demo", working, SETTINGS, period="p1", now=NOW)
    assert again.outcome is Outcome.ALREADY_DONE and again.run is None


async def test_the_session_purge_runs_for_each_hour() -> None:
    job = JOBS["purge-sessions"]
    assert job.period(NOW) == "2026-12-01T03"
    assert job.period(NOW + timedelta(minutes=59)) == job.period(NOW)
    assert job.period(NOW + timedelta(hours=1)) != job.period(NOW)
    run = (await record_run(job.name, job.run, SETTINGS, period=job.period(NOW), now=NOW)).run
    assert run is not None and run.result == "0 done"


def test_every_job_sets_its_misfire_grace_and_coalesces() -> None:
    jobs = JobScheduler(SETTINGS).apscheduler.get_jobs()
    assert {job.id for job in jobs} == set(JOBS)
    for job in jobs:
        assert job.coalesce is True
        assert job.misfire_grace_time >= 60  # APScheduler's 1 s default skips late runs
        assert job.max_instances == 1


def test_the_burn_job_runs_on_the_schedule_players_are_told() -> None:
    from portal.burns import service as burns

    job = JOBS[burns.BURN_JOB]
    assert job.trigger is burns.SCHEDULE
    run = job.trigger.get_next_fire_time(None, datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    assert run == burns.burn_moment(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), now=NOW)


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
    first = (await record_run(job.name, job.run, SETTINGS, period=job.period(moment),
                              now=moment)).run
    assert first is not None and first.result == "3 done"
    standings = await SeasonStanding.filter(season="2026-11").order_by("rank")
    assert [(s.rank, s.earned) for s in standings] == [(1, 300), (2, 200), (3, 100)]
    from portal.jobs.tasks import season_end

    assert await season_end(moment, SETTINGS) == 0  # even run again, outside its claim
    assert await SeasonStanding.filter(season="2026-11").count() == 3
    assert await Notification.filter(kind="new_season").count() == 3
    from portal.notifications.models import Email

    assert await Email.filter(subject="This month's quizzes are live").count() == 3


async def test_a_run_left_unfinished_is_resumed_at_once_by_the_next_attempt() -> None:
    # No run holds the job's lock, so the unfinished row is a dead run's: no hour to wait.
    await JobRun.create(job="demo", period="p2", started_at=datetime.now(UTC))

    async def working(now: datetime, settings: Settings) -> int:
        return 1

    resumed = await record_run("demo", working, SETTINGS, period="p2", now=NOW)
    assert resumed.outcome is Outcome.DONE
    assert resumed.run is not None and resumed.run.result == "1 done"


async def test_a_run_stopped_midway_leaves_its_period_to_the_next_attempt() -> None:
    started = asyncio.Event()

    async def slow(now: datetime, settings: Settings) -> int:
        started.set()
        await asyncio.sleep(3600)
        return 0

    run = asyncio.create_task(record_run("demo", slow, SETTINGS, period="p3", now=NOW))
    await started.wait()
    busy = await record_run("demo", slow, SETTINGS, period="p3", now=NOW)
    assert busy.outcome is Outcome.BUSY  # the live run still holds the lock
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert (await JobRun.get(job="demo", period="p3")).finished_at is None

    async def quick(now: datetime, settings: Settings) -> int:
        return 7

    resumed = await record_run("demo", quick, SETTINGS, period="p3", now=NOW)
    assert resumed.run is not None and resumed.run.result == "7 done"


@pytest.mark.parametrize("month", range(1, 13))
async def test_the_new_month_is_announced_after_it_begins_never_before(month: int) -> None:
    from portal.jobs.tasks import season_end
    from portal.notifications.models import Notification
    from tests.factories import make_person

    await make_person("p@example.com")
    start = datetime(2026 + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    last_minute = start - timedelta(minutes=1)
    # A restart (or replay) in the old month's last minute: nothing is news.
    assert await season_end(last_minute, SETTINGS) == 0
    assert await season_end(last_minute - timedelta(days=20), SETTINGS) == 0
    assert await Notification.filter(kind="new_season").count() == 0
    # Just after midnight, and again at the scheduled 00:05: told once.
    assert await season_end(start + timedelta(minutes=1), SETTINGS) == 1
    assert await season_end(start + timedelta(minutes=5), SETTINGS) == 0
    notice = await Notification.get(kind="new_season")
    assert notice.params == {"season": start.strftime("%Y-%m")}


async def test_a_catch_up_weeks_into_the_month_freezes_the_last_one_but_tells_nobody() -> None:
    from portal.jobs.tasks import season_end
    from portal.leaderboard.models import SeasonFreeze
    from portal.notifications.models import Email, Notification
    from tests.factories import make_person

    await make_person("p@example.com")
    job = JOBS["season-end"]
    moment = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # a fresh start on the month's last day
    report = await record_run(job.name, job.run, SETTINGS, period=job.period(moment),
                              now=moment)
    assert report.run is not None and report.run.result == "0 done"
    assert await SeasonFreeze.exists(season="2026-10")
    assert await Notification.filter(kind="new_season").count() == 0
    assert await Email.all().count() == 0
    assert await season_end(datetime(2026, 12, 1, 0, 5, tzinfo=UTC), SETTINGS) == 1


async def test_the_burn_job_gives_late_points_the_longest_warning_the_settings_name() -> None:
    from portal.ledger import service as ledger
    from tests.factories import make_person

    alice = await make_person("alice@example.com")
    account = await ledger.account_of_person(alice.id)
    await ledger.earn(account, amount=500, reason="Quiz", reference="quiz:1", key="q1",
                      now=datetime(2026, 11, 1, 10, 0, tzinfo=UTC))
    await ledger.adjust(account, amount=50, reason="Fair play", key="adj1", by_person_id=alice.id,
                        now=datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    job = JOBS["inactivity-burn"]
    run = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # idle 30 days; the 50 arrived 11 days ago
    fortnight = Settings(secret_key="x", burn_warning_days="14,1")
    report = await record_run(job.name, job.run, fortnight, period=job.period(run), now=run)
    assert report.run is not None and report.run.result == "0 done"
    weekly = Settings(secret_key="x", burn_warning_days="7,1")
    report = await record_run(job.name, job.run, weekly, period="replay", now=run)
    assert report.run is not None and report.run.result == "1 done"
