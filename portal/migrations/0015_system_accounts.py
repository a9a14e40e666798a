"""The ledger's standing system accounts (issuance, burns, catalog) exist from the start.

Until now the first award ever created the issuance account inside the game's own
transaction, so two players finishing the very first games at once collided on its unique
code and one of them lost their last answer. Made here, every transaction finds them.
"""

from datetime import UTC, datetime
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

# code, name: as portal.ledger.service names them (ISSUANCE, BURNS, CATALOG).
STANDING = [("issuance", "Points issued"), ("burns", "Points burned"), ("catalog", "Catalog")]


async def _open_standing_accounts(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    postgres = conn.capabilities.dialect == "postgres"
    p = [f"${n}" for n in range(1, 5)] if postgres else ["?"] * 4
    for code, name in STANDING:
        await conn.execute_query(
            "INSERT INTO account (kind, code, name, balance, held, earned_total, created_at) "  # noqa: S608 - placeholders only
            f"VALUES ({p[0]}, {p[1]}, {p[2]}, 0, 0, 0, {p[3]}) "
            "ON CONFLICT (code) DO NOTHING",
            ["system", code, name, datetime.now(UTC)])


async def _nothing(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [('portal', '0014_image_alt')]

    initial = False

    operations = [ops.RunPython(_open_standing_accounts, _nothing)]
