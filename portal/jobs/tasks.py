"""The periodic jobs: plain async functions taking ``now`` and returning what they did."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from portal.accounts import service as accounts
from portal.accounts.models import Person
from portal.burns import service as burns
from portal.db import write_transaction
from portal.jobs.models import JobRun
from portal.leaderboard import service as leaderboard
from portal.notifications import mail
from portal.notifications import service as notifications
from portal.play import service as play
from portal.settings import Settings

log = logging.getLogger("portal.jobs")
STALE = timedelta(hours=1)  # a run unfinished this long is taken to have died


async def purge_sessions(now: datetime, settings: Settings) -> int:
    return await accounts.purge_expired_sessions(
        now, idle=timedelta(minutes=settings.session_idle_minutes)
    )


async def expire_games(now: datetime, settings: Settings) -> int:
    return await play.expire_games(now)


async def inactivity_burn(now: datetime, settings: Settings) -> int:
    return await burns.burn_inactive(now, days=settings.burn_after_days)


async def burn_warnings(now: datetime, settings: Settings) -> int:
    return await burns.warn_before_burn(now, settings)


async def season_end(now: datetime, settings: Settings) -> int:
    """Freezes last month's standings and tells every player the new month is live."""
    await leaderboard.freeze_season(leaderboard.previous_season(now), now=now)
    season = now.strftime("%Y-%m")
    told, after = 0, 0
    while players := await Person.filter(is_active=True, id__gt=after,
                                         roles__contains="player").order_by("id").limit(1000):
        after = players[-1].id
        async with write_transaction() as conn:  # the notice and its e-mail, or neither
            new = await notifications.add_many(
                [(p.id, f"season:{season}:{p.id}", "new_season", {"season": season})
                 for p in players], now=now, conn=conn)
            for person in players:
                if person.email_news and f"season:{season}:{person.id}" in new:
                    await mail.queue(person, key=f"email:season:{season}:{person.id}",
                                     rendered=mail.render("new_season", person, settings),
                                     now=now, conn=conn)
        told += len(new)
    return told


async def send_email(now: datetime, settings: Settings) -> int:
    return await mail.send_due(now, settings)


@asynccontextmanager
async def exclusive(name: str) -> AsyncIterator[bool]:
    """On PostgreSQL, a session advisory lock held for the whole run, so even two
    schedulers by mistake never run one job at the same time. SQLite runs one process."""
    client = connections.get("default")
    if client.capabilities.dialect != "postgres":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    async with client.acquire_connection() as raw:
        if not await raw.fetchval("SELECT pg_try_advisory_lock($1)", key):
            yield False
            return
        try:
            yield True
        finally:
            await raw.execute("SELECT pg_advisory_unlock($1)", key)


async def claim(name: str, period: str, now: datetime) -> JobRun | None:
    """Claims (job, period) for this run; None when another run has it or has done it.

    The unique row is the claim, so a second scheduler, a retry or a replay of the same
    period does nothing twice. A period whose run failed may be claimed again.
    """
    try:
        return await JobRun.create(job=name, period=period, started_at=now)
    except IntegrityError:
        # A failed run, or one that died without a word an hour ago, may be taken over.
        retried = await JobRun.filter(
            Q(error__not="") | Q(finished_at__isnull=True, started_at__lt=now - STALE),
            job=name, period=period,
        ).update(error="", result="", started_at=now, finished_at=None)
        return await JobRun.get(job=name, period=period) if retried else None


async def record_run(
    name: str,
    job: Callable[[datetime, Settings], Awaitable[int]],
    settings: Settings,
    *,
    period: str,
    now: datetime,
) -> JobRun | None:
    """Runs a job once for its period and keeps a record (counts, or the error).

    ``now`` is the moment the job works for (a replayed date, say); the record keeps
    the wall-clock start and end, so the admin page shows how long it really took.
    """
    run = await claim(name, period, datetime.now(now.tzinfo))
    if run is None:
        log.info("job %s for %s was already claimed", name, period)
        return None
    try:
        async with exclusive(name) as mine:
            if not mine:
                # Another scheduler is running this job right now (PostgreSQL only).
                await JobRun.filter(id=run.id).update(error="another run held the lock")
                return None
            count = await job(now, settings)
    except Exception as exc:
        log.exception("job %s failed", name)
        run.error = repr(exc)[:2000] or "failed"
    else:
        run.result = f"{count} done"
    run.finished_at = datetime.now(now.tzinfo)
    await run.save(update_fields=["error", "result", "finished_at"])
    return run
