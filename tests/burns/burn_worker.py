"""Runs the inactivity burn in its own process, for the cross-process tests.

    python -m tests.burns.burn_worker DB_URL NOW_ISO DAYS BATCH

Connects, prints "ready" and waits for a line on standard input, so that every process
burns at the same moment, then prints how many accounts it burned.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from tortoise import Tortoise, connections

from portal.burns import service as burns
from portal.db import tortoise_config


async def main(db_url: str, now: datetime, days: int, batch: int) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    try:
        await connections.get("default").execute_query("SELECT 1")
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        print(await burns.burn_inactive(now, days=days, batch=batch))
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    url, moment, days, batch = sys.argv[1:5]
    asyncio.run(main(url, datetime.fromisoformat(moment), int(days), int(batch)))
