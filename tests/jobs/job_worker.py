"""Holds a job's run open in its own process, for the tests of dead and live runs.

    python -m tests.jobs.job_worker DB_URL JOB PERIOD MARKER

Claims JOB for PERIOD, writes MARKER once it is working, then works until killed.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from tortoise import Tortoise

from portal.db import tortoise_config
from portal.jobs.tasks import record_run
from portal.settings import Settings


async def main(db_url: str, job: str, period: str, marker: Path) -> None:
    async def work_forever(now: datetime, settings: Settings) -> int:
        await asyncio.to_thread(marker.write_text, "working")
        await asyncio.sleep(3600)
        return 0

    await Tortoise.init(config=tortoise_config(db_url))
    try:
        await record_run(job, work_forever, Settings(secret_key="x"), period=period,
                         now=datetime.now(UTC))
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    url, name, period, marker = sys.argv[1:5]
    asyncio.run(main(url, name, period, Path(marker)))
