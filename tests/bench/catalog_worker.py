"""One worker of the catalog bench's race (``tests/bench/catalog.py``).

    python -m tests.bench.catalog_worker DATABASE_URL CALL

CALL is JSON: {"mode": "portal" or "raw", "item": 3, "people": [7, 8], "tag": "ab12cd"}.
It connects, prints "ready", waits for a line on standard input, then redeems the item
once for each person at the same time: in "portal" mode with ``catalog.redeem``, in "raw"
mode with the same writes in raw SQL (a guarded balance UPDATE and a conditional claim of
a code in one write transaction). It prints one JSON line: how many won, were told sold
out, any other error, and the wall clock when the last answer came.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from portal.accounts.models import Person
from portal.catalog import service as catalog
from portal.db import is_postgres, placeholders, tortoise_config, write_transaction
from portal.settings import Settings
from tests.bench.catalog import PRICE


class SoldOut(Exception):
    pass


async def _raw_claim(conn: BaseDBAsyncClient, person_id: int, item_id: int) -> None:
    p = placeholders(conn, 3)
    changed, _ = await conn.execute_query(
        f"UPDATE account SET balance = balance - {p[0]} "  # noqa: S608
        f"WHERE person_id = {p[1]} AND balance - held >= {p[2]}", [PRICE, person_id, PRICE])
    if changed != 1:
        raise RuntimeError("not enough points")
    skip = " FOR UPDATE SKIP LOCKED" if is_postgres(conn) else ""
    p = placeholders(conn, 1)
    changed, _ = await conn.execute_query(
        "UPDATE catalog_code SET status = 'issued' WHERE status = 'available' AND id = "  # noqa: S608
        f"(SELECT id FROM catalog_code WHERE item_id = {p[0]} AND status = 'available' "
        f"ORDER BY id LIMIT 1{skip})", [item_id])
    if changed != 1:
        raise SoldOut()


async def main(db_url: str, call: dict[str, Any]) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    # The codes were sealed with this environment's key; the players sit below no threshold.
    settings = Settings.from_env().model_copy(update={"redemption_threshold": 0})
    try:
        viewers = [await catalog.as_player(p)
                   for p in await Person.filter(id__in=call["people"])]
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

        async def portal(viewer: catalog.Viewer) -> str:
            try:
                await catalog.redeem(viewer, call["item"], key=f"bench-{call['tag']}-race",
                                     settings=settings)
            except catalog.SoldOut:
                return "sold_out"
            except Exception as exc:
                return f"error: {exc!r}"
            return "won"

        async def raw(viewer: catalog.Viewer) -> str:
            try:
                async with write_transaction() as conn:
                    await _raw_claim(conn, viewer.person.id, call["item"])
            except SoldOut:
                return "sold_out"
            except Exception as exc:
                return f"error: {exc!r}"
            return "won"

        one = portal if call["mode"] == "portal" else raw
        outcomes = await asyncio.gather(*(one(v) for v in viewers))
        finished = time.time()
    finally:
        await Tortoise.close_connections()
    print(json.dumps({"won": outcomes.count("won"), "sold_out": outcomes.count("sold_out"),
                      "errors": [o for o in outcomes if o.startswith("error")],
                      "finished": finished}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
