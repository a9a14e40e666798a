"""Starts one player's game on one quiz in its own process, for the cross-process races.

    python -m tests.play.start_worker DB_URL PERSON_ID QUIZ_ID NOW_ISO COUNT

The worker connects, prints "ready", waits for a line on standard input so that every
process starts at the same moment, then calls the play service's start COUNT times at
once and prints one JSON line: the game ids it was answered with, and any error (there
must be none: a lost race answers with the game that won it).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from tortoise import Tortoise

from portal.accounts.models import Person
from portal.db import tortoise_config
from portal.play import games as play

RULES = play.Rules(grace_seconds=2, extra_minutes=15, welcome_bonus=100)


async def main(db_url: str, person_id: int, quiz_id: int, now: datetime, count: int) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    person = await Person.get(id=person_id)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)

    async def one() -> str:
        try:
            game = await play.start(person, quiz_id, now=now, rules=RULES)
        except Exception as exc:
            return f"error: {exc!r}"
        return str(game.id)

    outcomes = await asyncio.gather(*(one() for _ in range(count)))
    await Tortoise.close_connections()
    print(json.dumps({"games": sorted({int(o) for o in outcomes if o.isdigit()}),
                      "errors": [o for o in outcomes if not o.isdigit()]}))


if __name__ == "__main__":
    url, person, quiz, moment, count = sys.argv[1:6]
    asyncio.run(main(url, int(person), int(quiz), datetime.fromisoformat(moment), int(count)))
