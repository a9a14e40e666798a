"""Wires the periodic jobs to APScheduler triggers; the jobs themselves know nothing of it.

APScheduler's default misfire grace (1 s) silently skips a job that starts late, so every
job sets its own grace and coalesces missed runs into one; each job also runs once at
start, so a period missed while the scheduler was down is caught up (once: every run
claims its (job, period) row first).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from portal.burns import service as burns
from portal.i18n import N_
from portal.jobs import tasks
from portal.seasons import season_of
from portal.settings import Settings

log = logging.getLogger("portal.jobs")
STOP_SECONDS = 5  # a cancelled job gets this long to roll back and let go


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[datetime, Settings], Awaitable[int]]
    trigger: BaseTrigger
    misfire_grace_seconds: int
    description: str  # English, marked with N_: the admin's jobs page translates it
    period: Callable[[datetime], str]  # the slice of time one run is responsible for


def _minute(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M")


def _hour(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H")


def _day(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")


def _month(now: datetime) -> str:
    return season_of(now)


JOBS: dict[str, Job] = {
    job.name: job
    for job in [
        Job("expire-games", tasks.expire_games, IntervalTrigger(minutes=1, timezone=UTC), 300,
            N_("Abandon games past their deadline (their points burn)"), _minute),
        # The burn's schedule lives with the burns: what players are told is its next run.
        Job(burns.BURN_JOB, tasks.inactivity_burn, burns.SCHEDULE, 24 * 3600,
            N_("Burn the available points of idle players"), _day),
        Job("burn-warnings", tasks.burn_warnings, CronTrigger(hour=9, timezone=UTC),
            24 * 3600, N_("Warn players before their points burn"), _day),
        Job("season-end", tasks.season_end, CronTrigger(day=1, hour=0, minute=5, timezone=UTC),
            27 * 24 * 3600, N_("Freeze last month's standings; announce the new month"), _month),
        Job("send-email", tasks.send_email, IntervalTrigger(minutes=1, timezone=UTC), 300,
            N_("Deliver queued e-mail, retrying failures with backoff"), _minute),
        Job("analytics-fold", tasks.analytics_fold, IntervalTrigger(minutes=2, timezone=UTC),
            600, N_("Fold new visits, games and ledger transfers into the programme's figures"),
            _minute),
        Job("monthly-report", tasks.monthly_report,
            CronTrigger(day=1, hour=6, timezone=UTC), 27 * 24 * 3600,
            N_("E-mail marketing last month's programme report"), _month),
        Job("auction-close", tasks.auction_close, IntervalTrigger(minutes=1, timezone=UTC),
            300, N_("Close auctions past their end: the winner pays, the others get their "
                    "points back"), _minute),
        Job("raffle-draw", tasks.raffle_draw, IntervalTrigger(minutes=1, timezone=UTC), 300,
            N_("Draw raffles whose draw time has come, with a recorded seed"), _minute),
        Job("purge-sessions", tasks.purge_sessions, IntervalTrigger(hours=1, timezone=UTC),
            3600, N_("Delete sessions past their idle or absolute timeout"), _hour),
    ]
}


class JobScheduler:
    """APScheduler's triggers with the portal's two rules on top.

    One job at a time in a process: a job uses at most one pooled connection at a time,
    so the scheduler never takes more than one, and web requests always have the rest of
    the pool. Stopping cancels a running job instead of waiting for it; its run is left
    unfinished and the next attempt resumes it (see ``tasks.claim``).
    """

    def __init__(self, settings: Settings) -> None:
        self.apscheduler = AsyncIOScheduler(timezone=UTC)
        self._one_at_a_time = asyncio.Lock()
        self._running: set[asyncio.Task[None]] = set()
        for job in JOBS.values():
            self.apscheduler.add_job(
                self._runner(job, settings),
                job.trigger,
                id=job.name,
                name=job.description,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=job.misfire_grace_seconds,
                next_run_time=datetime.now(UTC),  # catch up at start rather than wait a period
            )

    def start(self) -> None:
        self.apscheduler.start()

    async def stop(self) -> None:
        self.apscheduler.shutdown(wait=False)
        for task in self._running:
            task.cancel()
        if self._running:
            await asyncio.wait(self._running, timeout=STOP_SECONDS)

    def _runner(self, job: Job, settings: Settings) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None  # APScheduler runs coroutine jobs as tasks
            self._running.add(task)
            try:
                async with self._one_at_a_time:
                    await run_job(job, settings, now=datetime.now(UTC))
            except asyncio.CancelledError:
                log.info("job %s was stopped; its next run resumes it", job.name)
            finally:
                self._running.discard(task)

        return run


async def run_job(job: Job, settings: Settings, *, now: datetime) -> tasks.RunReport:
    return await tasks.record_run(job.name, job.run, settings, period=job.period(now), now=now)
