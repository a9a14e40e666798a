"""Whose clock a date or time is read on: the person's own time zone, else their
company's, else the portal's (``PORTAL_TIME_ZONE``). Zones are IANA names (zoneinfo)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator

from portal.accounts.models import Person
from portal.i18n import N_
from portal.web.forms import refusal

# Offered first in the profile's list: where the networks are.
COMMON = ("Europe/Moscow", "Europe/Istanbul", "Asia/Jakarta", "Asia/Makassar",
          "Asia/Jayapura", "Europe/London", "Europe/Berlin", "UTC")


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_zone(name: str) -> str:
    """``name`` when it is a known IANA zone (as written, e.g. "Europe/Istanbul"); empty
    text is "none chosen" and comes back empty."""
    name = name.strip()
    if name and name not in known_zones():
        raise refusal(N_("Unknown time zone “%(zone)s”: write it like Europe/Istanbul or "
                         "Asia/Jakarta."), zone=name)
    return name


# A form field: a known zone, or empty for "the default".
TimeZoneName = Annotated[str, AfterValidator(check_zone)]


def zone_of(person: Person, *, company_zone: str | None, default: str) -> str:
    return person.time_zone or company_zone or default


async def zones_of(people: Iterable[Person], *, default: str) -> dict[int, str]:
    """Each person's zone by id, their company's looked up in one query."""
    people = list(people)
    rows = await Person.filter(id__in=[p.id for p in people]).values(
        "id", "outlet__company__time_zone")
    company = {row["id"]: row["outlet__company__time_zone"] for row in rows}
    return {p.id: zone_of(p, company_zone=company.get(p.id), default=default) for p in people}
