"""Donates in its own process, for the cross-process race tests.

    python -m tests.charity.donate_worker DB_URL CALL

CALL is JSON: {"person": 3, "cause": 1, "count": 10, "amount": 100, "key": "p1-"} (with
"same_key": true every call sends "key" itself). As tests/ledger/race_worker.py: connect,
print "ready", wait for the go line, make every call at once, print one JSON line with how
many gave, were replays or were refused for lack of points, and any other error.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise

from portal.accounts.models import Person
from portal.charity import service as charity
from portal.db import tortoise_config
from portal.ledger import service as ledger


async def outcome(person: Person, i: int, call: dict[str, Any]) -> str:
    key = call["key"] if call.get("same_key") else f"{call['key']}{i}"
    try:
        done = await charity.donate(person, call["cause"], amount=call["amount"], key=key,
                                    minimum=1, now=datetime.now(UTC))
    except ledger.NotEnoughPoints:
        return "not_enough"
    except Exception as exc:
        return f"error: {exc!r}"
    return "replayed" if done.replayed else "ok"


async def main(db_url: str, call: dict[str, Any]) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    try:
        person = await Person.get(id=call["person"])
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        outcomes = await asyncio.gather(*(outcome(person, i, call)
                                          for i in range(call["count"])))
    finally:
        await Tortoise.close_connections()
    print(json.dumps({
        "ok": outcomes.count("ok"),
        "replayed": outcomes.count("replayed"),
        "not_enough": outcomes.count("not_enough"),
        "errors": [name for name in outcomes if name.startswith("error")],
    }))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
