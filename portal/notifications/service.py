"""The notification centre: adding notifications once per event, reading, marking read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from portal import i18n
from portal.db import dialect_sql, write_transaction
from portal.i18n import N_
from portal.notifications.models import Notification

# What each kind of notification says; ``params`` fill the placeholders.
MESSAGES = {
    "burn_warning": N_("%(points)s points burn on %(when)s: finish one game or course "
                       "before then to keep them."),
    "burn_warning:today": N_("%(points)s points burn today, %(when)s: finish one game or "
                             "course before then to keep them."),
    "burn_warning:tomorrow": N_("%(points)s points burn tomorrow, %(when)s: finish one game "
                                "or course before then to keep them."),
    # Warnings written before they named the moment of the burn have its date only.
    "burn_warning:date": N_("%(points)s points burn on %(date)s: finish one game or course "
                            "to keep them."),
    "burned": N_("%(points)s points burned: no finished game or course since %(date)s."),
    "new_season": N_("A new month has started: this month's quizzes and courses are live."),
    "low_stock": N_("Low stock: %(left)s left of “%(title)s”."),
    "order_cancelled": N_("Your order “%(title)s” was cancelled (%(reason)s): its %(points)s "
                          "points are back in your account."),
    "prize_cancelled": N_("Your prize “%(title)s” was cancelled (%(reason)s)."),
    "email_failed": N_("The e-mail “%(subject)s” to %(to)s was not delivered after a day "
                       "of tries."),
    "outbid": N_("You were outbid on “%(title)s”: your %(points)s points are available "
                 "again."),
    "auction_won": N_("You won “%(title)s” for %(points)s points."),
    "auction_lost": N_("“%(title)s” has closed: another bid won, at %(points)s points."),
    "auction_cancelled": N_("The auction “%(title)s” was cancelled: your points are "
                            "available again."),
    "raffle_won": N_("You won in the raffle “%(title)s”!"),
    "prize_address": N_("Your prize “%(title)s” will be sent to you: give your delivery "
                        "address on its order page."),
    "raffle_lost": N_("The raffle “%(title)s” was drawn: not this time. Thank you for "
                      "taking part."),
}
# Where a notice of each kind leads: a route name, its query string, and the link's text.
LINKS = {
    "low_stock": ("catalog.staff", "", N_("Open the catalog")),
    "order_cancelled": ("catalog.mine", "", N_("My rewards")),
    "prize_cancelled": ("catalog.mine", "", N_("My rewards")),
    "prize_address": ("catalog.mine", "", N_("My rewards")),
    "email_failed": ("admin.mail", "?status=failed", N_("Resend it from the mail page")),
    **{kind: ("auctions.index", "", N_("See the auctions and raffles"))
       for kind in ("outbid", "auction_won", "auction_lost", "auction_cancelled",
                    "raffle_won", "raffle_lost")},
}


@dataclass(frozen=True)
class Shown:
    id: int
    text: str
    created_at: datetime
    read: bool
    kind: str
    link: tuple[str, str, str] | None = None  # (route name, query string, text)


# A moment this many calendar days after the notice was sent is said so.
_SOON = {0: "today", 1: "tomorrow"}


def text_of(kind: str, params: dict[str, Any], *, sent_at: datetime | None = None,
            zone: str | None = None) -> str:
    """The message in the current request's language, numbers and dates formatted. A
    moment (``at``) is shown in ``zone`` (the reader's by default) with the zone named,
    and, counted from
    ``sent_at``, the message says "today" or "tomorrow" when it is (``kind:today``)."""
    values = dict(params)
    variant = ""
    zone = zone or i18n.current_zone()
    if "points" in values:
        values["points"] = i18n.points(int(values["points"]))
    if "date" in values:
        values["date"] = i18n.day(date.fromisoformat(str(values["date"])))
        variant = "date"
    if "at" in values:
        at = datetime.fromisoformat(str(values["at"]))
        values["when"] = i18n.when(at, zone)
        variant = _SOON.get(i18n.days_apart(sent_at, at, zone), "") if sent_at else ""
    message = MESSAGES.get(f"{kind}:{variant}") or MESSAGES.get(kind, kind)
    return i18n.gettext(message) % values


async def add_many(rows: list[tuple[int, str, str, dict[str, Any]]], *, now: datetime,
                   conn: BaseDBAsyncClient | None = None) -> set[str]:
    """Adds (person id, key, kind, params) notifications; a key already used adds nothing.
    Returns the keys that are new. Pass ``conn`` to write inside the caller's transaction
    (a burn and its notice commit together)."""
    if not rows:
        return set()
    if conn is None:
        async with write_transaction() as own:
            return await add_many(rows, now=now, conn=own)
    new: set[str] = set()
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start:start + _ROWS_PER_INSERT]
        # One statement; ON CONFLICT DO NOTHING: a key already there (or added by a
        # concurrent run) adds nothing, and RETURNING tells which keys were new.
        added = await conn.execute_query_dict(
            dialect_sql(conn, "INSERT INTO notification (person_id, key, kind, params, "  # noqa: S608
                        "created_at) VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * len(chunk))
                        + " ON CONFLICT (key) DO NOTHING RETURNING key"),
            [value for person_id, key, kind, params in chunk
             for value in (person_id, key, kind, json.dumps(params), now)])
        new |= {str(row["key"]) for row in added}
    return new


# Five parameters a row: well within both engines' limit on a statement's parameters.
_ROWS_PER_INSERT = 1000


async def unread_count(person_id: int) -> int:
    return await Notification.filter(person_id=person_id, read_at__isnull=True).count()


async def recent(person_id: int, *, offset: int = 0, limit: int = 25, zone: str = "UTC"
                 ) -> tuple[list[Shown], bool]:
    """A page of the person's notifications, newest first, moments shown in ``zone``."""
    rows = await Notification.filter(person_id=person_id).order_by("-id").offset(
        offset).limit(limit + 1)
    shown = [Shown(row.id, text_of(row.kind, row.params, sent_at=row.created_at, zone=zone),
                   row.created_at,
                   row.read_at is not None, row.kind, LINKS.get(row.kind))
             for row in rows[:limit]]
    return shown, len(rows) > limit


async def mark_read(person_id: int, *, now: datetime, notification_id: int | None = None
                    ) -> int:
    query = Notification.filter(person_id=person_id, read_at__isnull=True)
    if notification_id is not None:
        query = query.filter(id=notification_id)
    return await query.update(read_at=now)
