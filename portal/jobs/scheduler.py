"""Wires the periodic jobs to APScheduler triggers; the jobs themselves know nothing of it.

APScheduler's default misfire grace (1 s) silently skips a job that starts late, so every
job sets its own grace and coalesces missed runs into one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from portal.jobs import tasks
from portal.settings import Settings


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[datetime, Settings], Awaitable[int]]
    trigger: BaseTrigger
    misfire_grace_seconds: int
    description: str
    period: Callable[[datetime], str]  # the slice of time one run is responsible for


JOBS: dict[str, Job] = {
    job.name: job
    for job in [
        Job(
            name="purge-sessions",
            run=tasks.purge_sessions,
            trigger=IntervalTrigger(hours=1),
            misfire_grace_seconds=3600,
            description="Delete sessions past their idle or absolute timeout",
            period=lambda now: now.strftime("%Y-%m-%dT%H"),
        ),
    ]
}


def build_scheduler(settings: Settings) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    for job in JOBS.values():
        scheduler.add_job(
            _runner(job, settings),
            job.trigger,
            id=job.name,
            name=job.description,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=job.misfire_grace_seconds,
            next_run_time=datetime.now(UTC),  # catch up at start rather than wait a period
        )
    return scheduler


def _runner(job: Job, settings: Settings) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        now = datetime.now(UTC)
        await tasks.record_run(job.name, job.run, settings, period=job.period(now), now=now)

    return run
