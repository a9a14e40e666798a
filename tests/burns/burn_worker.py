"""Runs the inactivity burn in its own process, for the cross-process tests.

    python -m tests.burns.burn_worker DB_URL NOW_ISO DAYS BATCH
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from tortoise import Tortoise

from portal.burns import service as burns
from portal.db import tortoise_config


async def main(db_url: str, now: datetime, days: int, batch: int) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    try:
        print(await burns.burn_inactive(now, days=days, batch=batch))
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    url, moment, days, batch = sys.argv[1:5]
    asyncio.run(main(url, datetime.fromisoformat(moment), int(days), int(batch)))
