"""Redeems catalog items in its own process, for the cross-process race tests.

    python -m tests.catalog.redeem_worker DB_URL CALL

CALL is JSON: {"item": 3, "people": [7, 8], "key": "p1-", "times": 1} (each person
redeems ``times`` times at once, with keys "<key><person>-<n>", or every time with
"key" itself when "same_key" is true). The worker connects, prints "ready", waits for a
line on standard input so every process starts together, then prints one JSON line: the
orders it got (id and whether replayed), how many were told sold out or not enough
points, and any other error (there must be none).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from tortoise import Tortoise

from portal.accounts.models import Person
from portal.catalog import service as catalog
from portal.db import tortoise_config
from portal.ledger import service as ledger
from tests.catalog.stock import SETTINGS


async def main(db_url: str, call: dict[str, Any]) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    try:
        viewers = [await catalog.as_player(await Person.get(id=pid)) for pid in call["people"]]
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

        async def one(viewer: catalog.Viewer, n: int) -> tuple[str, int]:
            key = call["key"] if call.get("same_key") else f"{call['key']}{viewer.person.id}-{n}"
            try:
                done = await catalog.redeem(viewer, call["item"], key=key, settings=SETTINGS)
            except catalog.SoldOut:
                return "sold_out", 0
            except ledger.NotEnoughPoints:
                return "not_enough", 0
            except Exception as exc:
                return f"error: {exc!r}", 0
            return ("replayed" if done.replayed else "ok"), done.order_id

        outcomes = await asyncio.gather(*(one(v, n) for v in viewers
                                          for n in range(call.get("times", 1))))
    finally:
        await Tortoise.close_connections()
    names = [name for name, _ in outcomes]
    print(json.dumps({
        "ok": [order for name, order in outcomes if name == "ok"],
        "replayed": [order for name, order in outcomes if name == "replayed"],
        "sold_out": names.count("sold_out"),
        "not_enough": names.count("not_enough"),
        "errors": [name for name in names if name.startswith("error")],
    }))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
