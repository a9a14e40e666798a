"""Telling people something: a notice in the portal and, for those who want it, an e-mail,
written together or not at all, and only the first time (a replayed job tells nobody
twice)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from portal.accounts.models import Person
from portal.db import write_transaction
from portal.notifications import mail
from portal.notifications import service as notifications


@dataclass(frozen=True)
class Notice:
    person: Person
    key: str  # one notice per event: a key used before tells nothing
    kind: str  # see ``service.MESSAGES``
    params: dict[str, Any]


async def tell(notices: list[Notice], *, now: datetime,
               email: Callable[[Notice], mail.Rendered | None],
               conn: BaseDBAsyncClient | None = None) -> set[str]:
    """Adds the notices and, for each one that is new, queues the e-mail ``email`` renders
    for it (None: no e-mail for this person), keyed ``email:<the notice's key>``; all in
    one transaction, the caller's when ``conn`` is given (an outbid bidder is told in the
    bid's own transaction). Returns the keys of the new notices."""
    if not notices:
        return set()
    if conn is None:
        async with write_transaction() as own:
            return await tell(notices, now=now, email=email, conn=own)
    new = await notifications.add_many(
        [(n.person.id, n.key, n.kind, n.params) for n in notices], now=now, conn=conn)
    for notice in notices:
        if notice.key in new and (rendered := email(notice)) is not None:
            await mail.queue(notice.person, key=f"email:{notice.key}", rendered=rendered,
                             now=now, conn=conn)
    return new
