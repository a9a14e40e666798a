"""Activity or folding in a process of its own, for the recount test.

    python -m tests.analytics.activity_worker DB_URL play PERSON_ID...
    python -m tests.analytics.activity_worker DB_URL fold SECONDS

``play``: each person plays the example basics quiz, earns, spends and visits, with small
pauses, so folds running meanwhile see it half done. ``fold``: folds again and again for
SECONDS, reading only ids seen a second before (on PostgreSQL). Each waits for a line on
standard input after printing "ready", so all start together.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise, connections

from portal.accounts.models import Person
from portal.analytics import rollups
from portal.content.models import Quiz
from portal.db import tortoise_config
from portal.ledger import service as ledger
from tests.analytics.story import _play

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


async def play(person_ids: list[int]) -> int:
    quiz = await Quiz.get(slug="basics")
    book = rollups.VisitBook()
    done = 0
    for n, person_id in enumerate(person_ids):
        person = await Person.get(id=person_id)
        await _play(person, quiz, start=T0 + timedelta(minutes=n), each=3, right=n % 2 == 0)
        account = await ledger.account_of_person(person_id)
        for day in range(1, 4):
            await ledger.earn(account, amount=10 * day, reason="Race", reference="race",
                              key=f"race:{person_id}:{day}", now=T0 + timedelta(days=day))
            await book.record(person_id, now=T0 + timedelta(days=day))
            await asyncio.sleep(0.05)
        await ledger.spend(account, amount=5, reason="Race", reference="race",
                           key=f"race:spend:{person_id}", now=T0 + timedelta(days=4))
        done += 1
    return done


async def fold(seconds: float) -> int:
    read, until = 0, asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < until:
        read += await rollups.fold(datetime.now(UTC), settle=timedelta(seconds=1), batch=7)
        await asyncio.sleep(0.1)
    return read


async def main(db_url: str, mode: str, arguments: list[str]) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    try:
        await connections.get("default").execute_query("SELECT 1")
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        if mode == "play":
            print(await play([int(a) for a in arguments]))
        else:
            print(await fold(float(arguments[0])))
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
