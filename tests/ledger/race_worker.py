"""Makes ledger calls in its own process, for the cross-process race tests.

    python -m tests.ledger.race_worker DB_URL CALL

CALL is JSON: {"call": "spend", "account": 7, "count": 25, "amount": 10, "key": "p1-"}
(with "same_key": true every call sends "key" itself; "lot" names the system account a
hold goes to, "by" the person making an adjustment). The worker connects, prints "ready",
waits for a line on standard input so that every process starts at the same moment, makes
its calls at once and prints one JSON line: how many succeeded, were replays, were
refused for lack of points or for a reused key, the amounts that succeeded, and any other
error (there must be none: no "database is locked", no deadlock).

One process has one SQLite connection, which Tortoise hands to one transaction at a time;
only separate processes (or PostgreSQL connections) make the ledger's writes really race.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import Tortoise

from portal.db import tortoise_config
from portal.ledger import service as ledger
from portal.ledger.models import Account

Call = Callable[[Account, int, str, dict[str, Any]], Awaitable[Any]]


async def spend(account: Account, i: int, key: str, call: dict[str, Any]) -> Any:
    return await ledger.spend(account, amount=call["amount"], reason="Gift card",
                              reference="catalog:1", key=key)


async def hold(account: Account, i: int, key: str, call: dict[str, Any]) -> Any:
    lot = await ledger.system_account(call["lot"])
    return await ledger.hold(account, target=lot, amount=call["amount"], reason="Bid",
                             reference=call["lot"], key=key)


async def hold_or_spend(account: Account, i: int, key: str, call: dict[str, Any]) -> Any:
    return await (hold if i % 2 else spend)(account, i, key, call)


async def earn_or_take(account: Account, i: int, key: str, call: dict[str, Any]) -> Any:
    if i % 2:
        return await ledger.adjust(account, amount=-1, reason="Correction",
                                   by_person_id=call["by"], key=key)
    return await ledger.earn(account, amount=1, reason="Quiz", reference="quiz:2", key=key)


CALLS: dict[str, Call] = {"spend": spend, "hold": hold, "hold_or_spend": hold_or_spend,
                          "earn_or_take": earn_or_take}


async def outcome(account: Account, i: int, call: dict[str, Any]) -> tuple[str, int]:
    key = call["key"] if call.get("same_key") else f"{call['key']}{i}"
    try:
        result = await CALLS[call["call"]](account, i, key, call)
    except ledger.NotEnoughPoints:
        return "not_enough", 0
    except ledger.KeyReused:
        return "key_reused", 0
    except Exception as exc:
        return f"error: {exc!r}", 0
    return ("replayed" if result.replayed else "ok"), int(result.amount)


async def main(db_url: str, call: dict[str, Any]) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    try:
        account = await Account.get(id=call["account"])
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        outcomes = await asyncio.gather(*(outcome(account, i, call)
                                          for i in range(call["count"])))
    finally:
        await Tortoise.close_connections()
    names = [name for name, _ in outcomes]
    print(json.dumps({
        "ok": names.count("ok"),
        "replayed": names.count("replayed"),
        "not_enough": names.count("not_enough"),
        "key_reused": names.count("key_reused"),
        "amounts": [amount for name, amount in outcomes if name == "ok"],
        "errors": [name for name in names if name.startswith("error")],
    }))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
