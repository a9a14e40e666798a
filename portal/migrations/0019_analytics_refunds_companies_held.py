"""Analytics: refunds apart from other points received, companies' own points accounts,
the points held in open bids (a per-outlet count the fold keeps, read by the page
instead of the accounts), and indexes that make a scope's months and days one range.

The rollups are derived data: folded before this, refunds sat in ``received_other`` and
company accounts were left out. They are emptied here, cursors included, so the fold job
counts everything again from the first row (visits, a source, stay).
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

ROLLUPS = ("analytics_cursor", "analytics_day", "analytics_month", "analytics_player_month",
           "analytics_question_month", "analytics_question_slot")


def _id() -> fields.BigIntField:
    return fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)


def _points() -> fields.BigIntField:
    return fields.BigIntField(default=0)


def _options(table: str, description: str, **extra: object) -> dict[str, object]:
    return {"table": table, "app": "portal", "pk_attr": "id",
            "table_description": description, **extra}


async def _fold_again(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    for table in ROLLUPS:
        await schema_editor.client.execute_script(f"DELETE FROM {table}")  # noqa: S608


async def _nothing(apps: Any, schema_editor: BaseSchemaEditor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [('portal', '0016_score_counts')]

    initial = False

    operations = [
        ops.AddField(model_name='MonthOutlet', name='refunded', field=_points()),
        ops.CreateModel(
            name='CompanyMonth',
            fields=[
                ('id', _id()),
                ('month', fields.CharField(max_length=7)),
                ('company_id', fields.IntField()),
                ('credited', _points()),
                ('shared', _points()),
                ('refunded', _points()),
                ('received_other', _points()),
                ('spent', _points()),
                ('removed', _points()),
            ],
            options=_options('analytics_company_month', "A company's own points in a month",
                             unique_together=(('month', 'company_id'),)),
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HeldNow',
            fields=[
                ('id', _id()),
                ('outlet_id', fields.IntField(unique=True)),
                ('company_id', fields.IntField()),
                ('region_id', fields.IntField()),
                ('held', _points()),
            ],
            options=_options('analytics_held', 'Points held in open bids, per outlet'),
            bases=['Model'],
        ),
        # A scope's months and days are one index range each (the network's row is
        # outlet -1): without these, a view read every outlet's rows of the month.
        *(ops.AddIndex(model_name='DayOutlet', index=Index(fields=[column, 'day']))
          for column in ('outlet_id', 'company_id', 'region_id')),
        ops.AddIndex(model_name='MonthOutlet', index=Index(fields=['outlet_id', 'month'])),
        ops.RunPython(_fold_again, _nothing),
    ]
