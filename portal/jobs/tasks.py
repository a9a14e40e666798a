"""The periodic jobs: plain async functions taking ``now`` and returning what they did."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from portal.accounts import service as accounts
from portal.jobs.models import JobRun
from portal.settings import Settings

log = logging.getLogger("portal.jobs")


async def purge_sessions(now: datetime, settings: Settings) -> int:
    return await accounts.purge_expired_sessions(
        now, idle=timedelta(minutes=settings.session_idle_minutes)
    )


async def record_run(
    name: str,
    job: Callable[[datetime, Settings], Awaitable[int]],
    settings: Settings,
    *,
    now: datetime,
) -> JobRun:
    """Runs a job and keeps a record of it (what it did, or the error) for the admin."""
    run = await JobRun.create(job=name, period=now.isoformat(), started_at=now)
    try:
        count = await job(now, settings)
    except Exception as exc:
        log.exception("job %s failed", name)
        run.error = repr(exc)[:2000]
    else:
        run.result = f"{count} done"
    run.finished_at = datetime.now(now.tzinfo)
    await run.save(update_fields=["error", "result", "finished_at"])
    return run
