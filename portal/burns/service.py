"""Inactivity burns and the warnings before them (PRODUCT.md, mechanic 4).

A player who finishes no game or course for ``days`` days loses their available points;
held points stay. Every available point is warned before it burns: points that arrive
while the player is idle (an adjustment, a refund, a released bid), even after a burn,
fall due no sooner than the longest warning after they arrived (``idle.burn_due``).
Warnings go out ahead (in the portal always, by e-mail if the person wants it).

Points burn only when the inactivity-burn job runs (on ``SCHEDULE``, which the
scheduler's job table wires), so the moment people are told is that run, computed
by ``burn_moment`` for the dashboard, the notices and the e-mails alike. Both jobs are
safe to run again: a burn is keyed by the account and the run, a warning by the account,
the run it announces and how far ahead it is, so each happens once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from tortoise.backends.base.client import BaseDBAsyncClient

from portal import i18n
from portal.accounts.models import Person
from portal.accounts.zones import zones_of
from portal.db import dialect_sql, is_postgres
from portal.ledger import idle, reads
from portal.ledger import service as ledger
from portal.ledger.models import Account
from portal.notifications import mail
from portal.notifications.telling import Notice, tell
from portal.settings import Settings

log = logging.getLogger("portal.burns")
BATCH = 1000
# Accounts per burn transaction: each commit costs a disk flush and a look for the next
# accounts, so fewer and larger batches burn a million accounts faster (SQLite: 14.6 s in
# 1,000s, 12.7 s in 5,000s), while one batch still holds the write lock (SQLite) or its
# accounts' rows (PostgreSQL) for well under a second (about 0.1 s and 0.3 s on average),
# far inside the busy timeout a player's answer waits for.
BURN_BATCH = 5000
BURN_JOB = "inactivity-burn"
# When the burn job runs: the scheduler wires its job to this trigger, and every moment
# people are told (``burn_moment``) and every run's reach (``last_burn_run``) come from it.
SCHEDULE: BaseTrigger = CronTrigger(hour=2, timezone=UTC)
# The longest warning of the default PORTAL_BURN_WARNING_DAYS ("7,1"), for callers that
# pass no settings; see ``notice_period``.
DEFAULT_NOTICE = timedelta(days=7)
# The burn job runs at least this often (daily), so its latest run is found within it.
_LONGEST_GAP = timedelta(days=7)


def notice_period(settings: Settings) -> timedelta:
    """The least time between points arriving and their burn: the longest warning, so
    every point gets every warning."""
    return timedelta(days=max(settings.warning_days, default=0))


def burn_moment(due: datetime, *, now: datetime) -> datetime:
    """When points due at ``due`` really burn: the burn job's first run at or after
    ``due``; for points already due but not yet burned, its next run from ``now``."""
    moment = SCHEDULE.get_next_fire_time(None, max(due, now).astimezone(UTC))
    if moment is None:  # a cron trigger without an end date always has a next run
        raise RuntimeError(f"the {BURN_JOB} job has no next run")
    return moment.astimezone(UTC)


def last_burn_run(now: datetime) -> datetime:
    """The burn job's latest scheduled run at or before ``now``: what a run at ``now``
    (late, caught up or replayed) burns is what was due by then, so nobody loses points
    before the moment ``burn_moment`` told them."""
    latest, fire = None, SCHEDULE.get_next_fire_time(None, now.astimezone(UTC) - _LONGEST_GAP)
    while fire is not None and fire <= now:
        latest, fire = fire, SCHEDULE.get_next_fire_time(fire, fire)
    if latest is None:
        raise RuntimeError(f"the {BURN_JOB} job runs less often than every {_LONGEST_GAP}")
    return latest.astimezone(UTC)


@dataclass(frozen=True)
class Outlook:
    """A player's points and when they burn if nothing changes."""

    points: reads.Summary
    burns_at: datetime | None  # the burn job's run that takes them; None: nothing burns
    days_left: int | None  # calendar days until then in the portal's zone: 0 today, 1 ...


async def outlook(account: Account, settings: Settings, *, now: datetime,
                  zone: str | None = None) -> Outlook:
    """``zone``: the reader's, which says what "today" is (the portal's by default)."""
    points = await reads.summary(account, burn_after_days=settings.burn_after_days,
                                  notice=notice_period(settings), now=now)
    if points.burn_due is None:
        return Outlook(points, None, None)
    at = burn_moment(points.burn_due, now=now)
    return Outlook(points, at, i18n.days_apart(now, at, zone or settings.time_zone))


async def burn_inactive(now: datetime, *, days: int, batch: int = BURN_BATCH,
                        notice: timedelta = DEFAULT_NOTICE) -> int:
    """Burns every account due by the burn run ``now`` belongs to, a batch per
    transaction; returns how many burned. ``notice`` should be ``notice_period(settings)``."""
    run = last_burn_run(now)
    after, burned = 0, 0

    async def tell(conn: BaseDBAsyncClient, burning: ledger.BurnedBatch) -> None:
        await conn.execute_query(_notices_sql(conn, burning.where),
                                 [ledger.burn_run(run), now, *burning.params])

    while (done := await ledger.burn_idle_batch(
            due_by=run, idle_days=days, notice=notice, now=now, after=after, limit=batch,
            also=tell)) is not None:
        after, batch_burned = done
        burned += batch_burned.count
    return burned


def _notices_sql(conn: BaseDBAsyncClient, chosen: str) -> str:
    """The "burned" notices of a batch's burns in one INSERT ... SELECT from their
    accounts' rows, before the balances change (so balance - held is the points burned):
    the points and the day of the last activity (as the reason names it), keyed by the
    burn's key (``burn:<account>:<run>``), so a notice is added once."""
    build = "jsonb_build_object" if is_postgres(conn) else "json_object"
    return dialect_sql(conn, (
        "INSERT INTO notification (person_id, key, kind, params, created_at) "  # noqa: S608
        f"SELECT a.person_id, 'burned:' || {ledger.BURN_KEY_SQL}, 'burned', "
        f"{build}('points', a.balance - a.held, 'date', {ledger.activity_day(conn)}), ? "
        f"FROM account a WHERE {chosen} ON CONFLICT (key) DO NOTHING"))


async def warn_before_burn(now: datetime, settings: Settings, *, batch: int = BATCH) -> int:
    """Warns everyone whose points burn at a run within the longest warning period, once
    per warning period and run; returns how many warnings were new.

    Each account gets the nearest warning that applies: one entering the 1-day period
    without having had the 7-day one is told "tomorrow" only, not both at once.
    """
    aheads = sorted(settings.warning_days)
    if not aheads:
        return 0
    warned, after = 0, 0
    # Burns at runs in (now, now + longest]: due after the latest run, by the last one.
    due_after = last_burn_run(now)
    due_by = last_burn_run(now + timedelta(days=aheads[-1]))
    while (found := await idle.idle_accounts(
            due_after=due_after, due_by=due_by, idle_days=settings.burn_after_days,
            notice=notice_period(settings), after=after, limit=batch)) is not None:
        after, accounts = found
        people = {p.id: p for p in await Person.filter(
            id__in=[account.person_id for account in accounts])}
        zones = await zones_of(people.values(), default=settings.time_zone)
        notices = []
        for account in accounts:
            at = burn_moment(account.due, now=now)
            ahead = next(days for days in aheads if at - now <= timedelta(days=days))
            notices.append(Notice(
                people[account.person_id],
                f"warn:{ahead}:{account.account_id}:{at:%Y-%m-%dT%H:%MZ}",
                "burn_warning", {"points": account.amount, "at": at.isoformat()}))
        warned += len(await tell(notices, now=now, email=partial(
            _warning_email, settings=settings, now=now, zones=zones)))
    return warned


def _warning_email(notice: Notice, *, settings: Settings, now: datetime,
                   zones: dict[int, str]) -> mail.Rendered | None:
    """The warning by e-mail, its moment in the person's zone (``zones_of``), named."""
    person = notice.person
    if not (person.is_active and person.email_burn_warnings):
        return None
    at = datetime.fromisoformat(str(notice.params["at"]))
    zone = zones[person.id]
    return mail.render("burn_warning", person, settings, points=notice.params["points"],
                       burns_at=at, zone=zone, days_left=i18n.days_apart(now, at, zone))
