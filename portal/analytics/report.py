"""The monthly report: last month's key figures and hardest questions, e-mailed to
marketing on the 1st, once per month and person whatever the scheduler does (the job
claims its month, and each e-mail is queued under a key naming the month and person)."""

from __future__ import annotations

from datetime import datetime

from portal.accounts.models import Person, Role
from portal.analytics import rollups, service
from portal.notifications import mail
from portal.notifications.models import Email
from portal.seasons import previous_season
from portal.settings import Settings

HARDEST = 5


def key_of(month: str, person: Person) -> str:
    return f"analytics-report:{month}:{person.id}"


async def send_monthly(now: datetime, settings: Settings) -> int:
    """Queues last month's report for every active marketing person; returns how many
    e-mails were queued (none again for a month already reported)."""
    await rollups.fold(now)  # the report reads the rollups: bring them up to date first
    month = previous_season(now)
    found = await service.programme(service.NETWORK, month, now=now)
    readers = await Person.filter(is_active=True, roles__contains=Role.MARKETING.value)
    sent = set(await Email.filter(key__in=[key_of(month, p) for p in readers])
               .values_list("key", flat=True)) if readers else set()
    queued = 0
    for person in readers:
        if key_of(month, person) in sent:
            continue  # a resumed run: this one's report is already queued
        known = await service.knowledge(month, language=person.language)
        rendered = mail.render("analytics_report", person, settings, month=month,
                               found=found, hardest=known.questions[:HARDEST])
        # Queued once per key, even by two runs at the same moment.
        await mail.queue(person, key=key_of(month, person), rendered=rendered, now=now)
        queued += 1
    return queued
