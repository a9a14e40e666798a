"""Charity: causes (each with its own ledger account) and the donations made to them."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('portal', '0008_catalog')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Cause',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=120)),
                ('summary', fields.CharField(default='', max_length=300)),
                ('description', fields.TextField(default='', unique=False)),
                ('picture', fields.CharField(null=True, max_length=200)),
                ('goal', fields.BigIntField()),
                ('points_per_unit', fields.IntField(default=100)),
                ('currency', fields.CharField(default='EUR', max_length=3)),
                ('match_percent', fields.IntField(default=0)),
                ('min_donation', fields.IntField(null=True)),
                ('is_open', fields.BooleanField(default=True)),
                ('position', fields.IntField(default=0)),
                ('account', fields.OneToOneField('portal.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='cause', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('portal.Person', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='causes_created', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'cause', 'app': 'portal', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Donation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cause', fields.ForeignKeyField('portal.Cause', source_field='cause_id', db_constraint=True, to_field='id', related_name='donations', on_delete=OnDelete.RESTRICT)),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='donations', on_delete=OnDelete.RESTRICT)),
                ('outlet', fields.ForeignKeyField('portal.Outlet', source_field='outlet_id', null=True, db_constraint=True, to_field='id', related_name='donations', on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('transfer', fields.OneToOneField('portal.Transfer', source_field='transfer_id', db_constraint=True, to_field='id', related_name='donation', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'donation', 'app': 'portal', 'indexes': [Index(fields=['cause_id', 'id']), Index(fields=['cause_id', 'person_id']), Index(fields=['outlet_id', 'amount'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
