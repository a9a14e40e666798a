"""Runs concurrent spends in its own process, for the cross-process tests.

    python -m tests.ledger.spend_worker DB_URL ACCOUNT_ID COUNT AMOUNT KEY_PREFIX

Prints one JSON line: how many spends succeeded, how many were refused for lack of
points, and any other error (there must be none: no "database is locked").
"""

from __future__ import annotations

import asyncio
import json
import sys

from tortoise import Tortoise

from portal.db import tortoise_config
from portal.ledger import service as ledger
from portal.ledger.models import Account


async def main(db_url: str, account_id: int, count: int, amount: int, key_prefix: str) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    account = await Account.get(id=account_id)

    async def one(i: int) -> str:
        key = key_prefix if key_prefix.endswith("!") else f"{key_prefix}{i}"
        try:
            result = await ledger.spend(account, amount=amount, reason="Gift card",
                                        reference="catalog:1", key=key)
        except ledger.NotEnoughPoints:
            return "not_enough"
        except Exception as exc:
            return f"error: {exc!r}"
        return "replayed" if result.replayed else "ok"

    outcomes = await asyncio.gather(*(one(i) for i in range(count)))
    await Tortoise.close_connections()
    summary = {
        "ok": outcomes.count("ok"),
        "replayed": outcomes.count("replayed"),
        "not_enough": outcomes.count("not_enough"),
        "errors": [o for o in outcomes if o.startswith("error")],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    url, account, count, amount, prefix = sys.argv[1:6]
    asyncio.run(main(url, int(account), int(count), int(amount), prefix))
