"""One worker of the catalog bench's race (``tests/bench/catalog.py``).

    python -m tests.bench.catalog_worker DATABASE_URL CALL

CALL is JSON: {"mode": "portal" or "raw", "item": 3, "people": [7, 8], "times": 5,
"tag": "ab12cd"}. It connects and warms up (one redemption of its first person, not
counted), prints "ready", waits for a line on standard input (``tests/bench/racers.py``),
then every person redeems the item ``times`` times, one after another, all people at the
same time: in "portal" mode with ``catalog.redeem``, in "raw" mode with the same writes in
raw SQL (a conditional claim of a code, then a guarded balance UPDATE of a scratch copy
of the players' accounts, so the ledger stays whole, in one write transaction). It
prints one JSON line: how many won, were told sold out, any other error, each attempt's
seconds, and when it finished.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from portal.accounts.models import Person
from portal.catalog import service as catalog
from portal.db import dialect_sql, is_postgres, write_transaction
from portal.settings import Settings
from tests.bench.racers import Outcome, worker_main

PRICE = 100  # tests/bench/catalog.py's


class SoldOut(Exception):
    pass


async def _raw_claim(conn: BaseDBAsyncClient, person_id: int, item_id: int) -> None:
    """The least SQL for the same guarantees: the claim first, so a sold-out attempt ends
    at its one statement, then the guarded balance UPDATE."""
    skip = " FOR UPDATE SKIP LOCKED" if is_postgres(conn) else ""
    changed, _ = await conn.execute_query(dialect_sql(
        conn, "UPDATE catalog_code SET status = 'issued' WHERE status = 'available' AND id = "  # noqa: S608
        f"(SELECT id FROM catalog_code WHERE item_id = ? AND status = 'available' "
        f"ORDER BY id LIMIT 1{skip})"), [item_id])
    if changed != 1:
        raise SoldOut()
    changed, _ = await conn.execute_query(dialect_sql(
        conn, "UPDATE bench_catalog_account SET balance = balance - ? WHERE id = ? "
        "AND balance - held >= ?"), [PRICE, person_id, PRICE])
    if changed != 1:
        raise RuntimeError("not enough points")


async def ready(call: dict[str, Any]) -> Callable[[], Awaitable[Outcome]]:
    # The codes were sealed with this environment's key; the players sit below no threshold.
    settings = Settings.from_env().model_copy(update={"redemption_threshold": 0})
    viewers = [await catalog.as_player(p) for p in await Person.filter(id__in=call["people"])]
    seconds: list[float] = []

    async def portal(viewer: catalog.Viewer, n: int) -> None:
        try:
            await catalog.redeem(viewer, call["item"], key=f"bench-{call['tag']}-{n:04d}",
                                 settings=settings)
        except catalog.SoldOut as exc:
            raise SoldOut() from exc

    async def raw(viewer: catalog.Viewer, n: int) -> None:
        async with write_transaction() as conn:
            await _raw_claim(conn, viewer.person.id, call["item"])

    redeem = portal if call["mode"] == "portal" else raw

    async def one(viewer: catalog.Viewer, n: int) -> str:
        try:
            await redeem(viewer, n)
        except SoldOut:
            return "sold_out"
        except Exception as exc:
            return f"error: {exc!r}"
        return "won"

    warm = await one(viewers[0], 9999)  # connection, statements, code
    outcomes: list[str] = []

    async def player(viewer: catalog.Viewer) -> None:
        for n in range(call["times"]):
            started = time.perf_counter()
            outcomes.append(await one(viewer, n))
            seconds.append(time.perf_counter() - started)

    async def go() -> Outcome:
        await asyncio.gather(*(player(v) for v in viewers))
        return {"won": outcomes.count("won"), "sold_out": outcomes.count("sold_out"),
                "warm": warm, "errors": [o for o in outcomes if o.startswith("error")][:5],
                "seconds": seconds}

    return go


if __name__ == "__main__":
    worker_main(ready)
