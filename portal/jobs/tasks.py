"""The periodic jobs: plain async functions taking ``now`` and returning what they did."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from portal.accounts import service as accounts
from portal.jobs.models import JobRun
from portal.settings import Settings

log = logging.getLogger("portal.jobs")


async def purge_sessions(now: datetime, settings: Settings) -> int:
    return await accounts.purge_expired_sessions(
        now, idle=timedelta(minutes=settings.session_idle_minutes)
    )


async def claim(name: str, period: str, now: datetime) -> JobRun | None:
    """Claims (job, period) for this run; None when another run has it or has done it.

    The unique row is the claim, so a second scheduler, a retry or a replay of the same
    period does nothing twice. A period whose run failed may be claimed again.
    """
    try:
        return await JobRun.create(job=name, period=period, started_at=now)
    except IntegrityError:
        retried = await JobRun.filter(job=name, period=period).exclude(error="").update(
            error="", result="", started_at=now, finished_at=None)
        return await JobRun.get(job=name, period=period) if retried else None


async def record_run(
    name: str,
    job: Callable[[datetime, Settings], Awaitable[int]],
    settings: Settings,
    *,
    period: str,
    now: datetime,
) -> JobRun | None:
    """Runs a job once for its period and keeps a record (counts, or the error)."""
    run = await claim(name, period, now)
    if run is None:
        log.info("job %s for %s was already claimed", name, period)
        return None
    try:
        count = await job(now, settings)
    except Exception as exc:
        log.exception("job %s failed", name)
        run.error = repr(exc)[:2000] or "failed"
    else:
        run.result = f"{count} done"
    run.finished_at = datetime.now(now.tzinfo)
    await run.save(update_fields=["error", "result", "finished_at"])
    return run
