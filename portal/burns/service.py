"""Inactivity burns and the warnings before them (PRODUCT.md, mechanic 4).

A player who finishes no game or course for ``days`` days loses their available points;
held points stay. Warnings go out ahead (in the portal always, by e-mail if the person
wants it). Both are safe to run again: each burn and each warning is keyed by the
account and the start of its idle period, so it happens once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from portal.accounts.models import Person
from portal.db import write_transaction
from portal.ledger import service as ledger
from portal.notifications import mail
from portal.notifications import service as notifications
from portal.settings import Settings

log = logging.getLogger("portal.burns")
BATCH = 1000


def next_burn(last_activity: datetime, days: int) -> datetime:
    return last_activity + timedelta(days=days)


async def burn_inactive(now: datetime, *, days: int, batch: int = BATCH) -> int:
    """Burns every idle account, a batch per transaction; returns how many burned."""
    cutoff = now - timedelta(days=days)
    after, burned = 0, 0
    async def tell(conn: BaseDBAsyncClient, accounts: list[ledger.BurnedAccount]) -> None:
        await notifications.add_many(
            [(a.person_id, f"burned:{a.key}", "burned",
              {"points": a.amount, "date": a.last_activity.date().isoformat()})
             for a in accounts], now=now, conn=conn)

    while (done := await ledger.burn_idle_batch(cutoff=cutoff, now=now, after=after,
                                                limit=batch, also=tell)) is not None:
        after, accounts = done
        burned += len(accounts)
    return burned


async def warn_before_burn(now: datetime, settings: Settings, *, batch: int = BATCH) -> int:
    """Warns everyone whose burn is due within each warning period; returns how many
    warnings were new."""
    days = settings.burn_after_days
    warned = 0
    for ahead in settings.warning_days:
        after = 0
        while accounts := await ledger.idle_accounts(
                active_from=now - timedelta(days=days) + timedelta(microseconds=1),
                active_until=now - timedelta(days=days - ahead) + timedelta(microseconds=1),
                after=after, limit=batch):
            after = accounts[-1][0]
            rows = [(person_id, f"warn:{ahead}:{account_id}:{active.date()}", "burn_warning",
                     {"points": amount, "date": next_burn(active, days).date().isoformat()})
                    for account_id, person_id, amount, active in accounts]
            people = {p.id: p for p in await Person.filter(
                id__in=[row[0] for row in rows], is_active=True, email_burn_warnings=True)}
            # A warning and its e-mail are written together, or neither.
            async with write_transaction() as conn:
                new = await notifications.add_many(rows, now=now, conn=conn)
                for person_id, key, _, params in rows:
                    person = people.get(person_id)
                    if key in new and person is not None:
                        rendered = mail.render(
                            "burn_warning", person, settings, points=params["points"],
                            due=datetime.fromisoformat(str(params["date"])).date())
                        await mail.queue(person, key=f"email:{key}", rendered=rendered,
                                         now=now, conn=conn)
            warned += len(new)
    return warned
