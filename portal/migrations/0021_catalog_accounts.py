"""The catalog's income accounts (``ledger.CATALOG_SHARDS``, 32: ``catalog``, made by 0015,
and ``catalog:1`` to ``catalog:31``) exist from the start.

A redemption credits the catalog account of its payer (``ledger.catalog_code``). Made
lazily, each one's first redemptions all took the slow way at once (a failed read, a
race to create the account, a second read under the lock): in the catalog bench's race
that was a tenth of the workers' time. The lazy way stays for accounts this migration
does not know of (a later, larger number).
"""

from datetime import UTC, datetime
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

SHARDS = 32  # ledger.CATALOG_SHARDS when this was written; written out, as history


async def _open_catalog_accounts(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    postgres = conn.capabilities.dialect == "postgres"
    p = [f"${n}" for n in range(1, 5)] if postgres else ["?"] * 4
    for shard in range(1, SHARDS):
        await conn.execute_query(
            "INSERT INTO account (kind, code, name, balance, held, earned_total, created_at) "  # noqa: S608 - placeholders only
            f"VALUES ({p[0]}, {p[1]}, {p[2]}, 0, 0, 0, {p[3]}) "
            "ON CONFLICT (code) DO NOTHING",
            ["system", f"catalog:{shard}", "Catalog", datetime.now(UTC)])


async def _nothing(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [('portal', '0020_score_hour_counts')]

    initial = False

    operations = [ops.RunPython(_open_catalog_accounts, _nothing)]
