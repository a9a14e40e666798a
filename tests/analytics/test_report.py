"""The monthly report reaches marketing once per month, whatever the scheduler does: runs
at once, runs again later in the month, a resumed run. Delivered to a real SMTP peer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from portal.accounts.models import Role
from portal.analytics import rollups
from portal.jobs.models import JobRun
from portal.jobs.scheduler import JOBS, run_job
from portal.jobs.tasks import Outcome
from portal.notifications import mail
from portal.notifications.models import Email
from tests.analytics.story import tell
from tests.factories import make_person
from tests.notifications.smtp import Peer, smtp_peer

pytestmark = pytest.mark.usefixtures("any_db")
FIRST = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def smtp() -> Iterator[Peer]:
    with smtp_peer() as peer:
        yield peer


async def test_marketing_gets_last_months_report_once_however_often_the_job_runs(
        tmp_path: Path, smtp: Peer) -> None:
    await tell(tmp_path / "media")  # Carol is marketing
    # The fold job has run since (on PostgreSQL a fold reads only ids it saw a while ago,
    # so the report's own fold would find nothing new the first time).
    await rollups.fold(FIRST, settle=timedelta(0))
    fay = await make_person("fay@example.com", roles={Role.MARKETING, Role.ADMIN})
    settings = smtp.settings()
    job = JOBS["monthly-report"]
    reports = await asyncio.gather(*(run_job(job, settings, now=FIRST) for _ in range(3)))
    assert sum(r.outcome is Outcome.DONE for r in reports) == 1
    # A restart later in the month, and a run whose record was lost midway, send nothing new.
    later = await run_job(job, settings, now=FIRST + timedelta(days=9))
    assert later.outcome is Outcome.ALREADY_DONE
    await JobRun.filter(job="monthly-report").update(finished_at=None)
    resumed = await run_job(job, settings, now=FIRST + timedelta(days=10))
    assert resumed.outcome is Outcome.DONE and resumed.run is not None
    assert resumed.run.result == "0 done"
    emails = await Email.filter(key__startswith="analytics-report:").order_by("to")
    assert [e.to for e in emails] == ["carol@example.com", "fay@example.com"]
    carol_id = (await Email.get(to="carol@example.com")).person_id
    assert {e.key for e in emails} == {f"analytics-report:2026-01:{p}" for p in (carol_id, fay.id)}

    await mail.send_due(FIRST + timedelta(minutes=1), settings)
    assert sorted(str(m["To"]) for m in smtp.messages) == [
        "carol@example.com", "fay@example.com"]
    text = next(str(cast(bytes, part.get_payload(decode=True)).decode())
                for part in smtp.messages[0].walk() if part.get_content_type() == "text/plain")
    assert "Programme report for 2026-01" in str(smtp.messages[0]["Subject"])
    assert "Registered players: 3 (1)" in text
    assert "Share finishing at least one game: 67 % (0 %)" in text
    assert "A piston" in text  # Bob's misconception on the first question
    assert "https://club.example.com/analytics?month=2026-01" in text


async def test_the_report_job_waits_for_the_first_of_the_month_schedule() -> None:
    trigger = JOBS["monthly-report"].trigger
    moment = trigger.get_next_fire_time(None, datetime(2026, 3, 14, 10, 0, tzinfo=UTC))
    assert moment == datetime(2026, 4, 1, 6, 0, tzinfo=UTC)
    assert JOBS["monthly-report"].period(FIRST + timedelta(days=20)) == "2026-02"
