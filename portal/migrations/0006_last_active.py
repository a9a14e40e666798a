"""A finished game or course counts as activity even when it earns nothing."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('portal', '0005_board_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Account',
            name='last_active_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # Until now the last earning was the last activity.
        ops.RunSQL("UPDATE account SET last_active_at = last_earned_at",
                   reverse_sql="SELECT 1"),
    ]
