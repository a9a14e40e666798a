"""A person's and a company's time zone (both optional: a person without one reads times
in their company's zone, a company without one in the portal's PORTAL_TIME_ZONE)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('portal', '0012_auctions')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Person',
            name='time_zone',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Company',
            name='time_zone',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
