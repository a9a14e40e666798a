"""The periodic jobs: plain async functions taking ``now`` and returning what they did."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from portal.accounts import service as accounts
from portal.accounts.models import Person
from portal.analytics import report as analytics_report
from portal.analytics import rollups
from portal.auctions import raffles
from portal.auctions import service as auctions
from portal.burns import service as burns
from portal.catalog import service as catalog
from portal.jobs.locks import job_lock
from portal.jobs.models import JobRun
from portal.leaderboard import standings
from portal.notifications import mail
from portal.notifications.telling import Notice, tell
from portal.play import games
from portal.seasons import previous_season, season_bounds, season_of
from portal.settings import Settings

log = logging.getLogger("portal.jobs")
# "A new month has started" is news in the month's first days, not on its last.
ANNOUNCE_NEW_SEASON_WITHIN = timedelta(days=3)


async def purge_sessions(now: datetime, settings: Settings) -> int:
    return await accounts.purge_expired_sessions(
        now, idle=timedelta(minutes=settings.session_idle_minutes)
    )


async def expire_games(now: datetime, settings: Settings) -> int:
    return await games.expire_games(now)


async def inactivity_burn(now: datetime, settings: Settings) -> int:
    return await burns.burn_inactive(now, days=settings.burn_after_days,
                                     notice=burns.notice_period(settings))


async def burn_warnings(now: datetime, settings: Settings) -> int:
    return await burns.warn_before_burn(now, settings)


async def season_end(now: datetime, settings: Settings) -> int:
    """Freezes last month's standings and tells every player the new month is live.

    The news goes out only in the month's first days: a run that catches up later (a
    restart, a new deployment, a replay on the 30th) freezes the past month but does not
    tell anyone "a new month has started" weeks into it.
    """
    await standings.freeze_season(previous_season(now), now=now)
    season_start, _ = season_bounds(season_of(now))
    if not season_start <= now < season_start + ANNOUNCE_NEW_SEASON_WITHIN:
        return 0
    return await _announce_season(season_of(now), now, settings)


async def _announce_season(season: str, now: datetime, settings: Settings) -> int:
    told, after = 0, 0
    while players := await Person.filter(is_active=True, id__gt=after,
                                         roles__contains="player").order_by("id").limit(1000):
        after = players[-1].id
        told += len(await tell(
            [Notice(p, f"season:{season}:{p.id}", "new_season", {"season": season})
             for p in players], now=now,
            email=lambda notice: (mail.render("new_season", notice.person, settings)
                                  if notice.person.email_news else None)))
    return told


async def analytics_fold(now: datetime, settings: Settings) -> int:
    return await rollups.fold(now)


async def monthly_report(now: datetime, settings: Settings) -> int:
    return await analytics_report.send_monthly(now, settings)


async def send_email(now: datetime, settings: Settings) -> int:
    """Queues the code e-mails new e-certificate orders owe, then sends what is due: a
    code bought a moment ago goes out in the same run."""
    await catalog.mail_codes(now, settings)
    return await mail.send_due(now, settings)


async def auction_close(now: datetime, settings: Settings) -> int:
    return await auctions.close_due(now, settings)


async def raffle_draw(now: datetime, settings: Settings) -> int:
    return await raffles.draw_due(now, settings)


async def claim(name: str, period: str, now: datetime) -> JobRun | None:
    """Claims (job, period) for this run; None when the period's work is already done.

    Called with the job's lock held (see ``locks``), so no other run of this job is alive:
    the unique row is the claim, and a row left unfinished belongs to a run that died
    midway and is resumed now. A period whose run failed is claimed again too. The jobs
    are safe to resume: each piece of their work is keyed, so nothing happens twice.
    """
    try:
        return await JobRun.create(job=name, period=period, started_at=now)
    except IntegrityError:
        resumed = await JobRun.filter(
            Q(error__not="") | Q(finished_at__isnull=True), job=name, period=period,
        ).update(error="", result="", started_at=now, finished_at=None)
        return await JobRun.get(job=name, period=period) if resumed else None


class Outcome(StrEnum):
    DONE = "done"  # this run did the period's work (or recorded its error)
    ALREADY_DONE = "already done"  # an earlier run finished this period
    BUSY = "busy"  # another run of this job is alive right now


@dataclass(frozen=True)
class RunReport:
    outcome: Outcome
    run: JobRun | None = None  # the record, when this run did the work


async def record_run(
    name: str,
    job: Callable[[datetime, Settings], Awaitable[int]],
    settings: Settings,
    *,
    period: str,
    now: datetime,
) -> RunReport:
    """Runs a job once for its period and keeps a record (counts, or the error).

    ``now`` is the moment the job works for (a replayed date, say); the record keeps
    the wall-clock start and end, so the admin page shows how long it really took.
    """
    async with job_lock(name) as mine:
        if not mine:
            log.info("job %s is running elsewhere; %s is left to it", name, period)
            return RunReport(Outcome.BUSY)
        run = await claim(name, period, datetime.now(now.tzinfo))
        if run is None:
            log.info("job %s for %s was already done", name, period)
            return RunReport(Outcome.ALREADY_DONE)
        try:
            count = await job(now, settings)
        except Exception as exc:
            log.exception("job %s failed", name)
            run.error = repr(exc)[:2000] or "failed"
        else:
            run.result = f"{count} done"
        run.finished_at = datetime.now(now.tzinfo)
        await run.save(update_fields=["error", "result", "finished_at"])
        return RunReport(Outcome.DONE, run)
