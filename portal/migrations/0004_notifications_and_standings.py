from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from portal.notifications.models import EmailStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('portal', '0003_pack_uploads')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Email',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=200)),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', null=True, db_constraint=True, to_field='id', related_name='emails', on_delete=OnDelete.SET_NULL)),
                ('to', fields.CharField(max_length=254)),
                ('subject', fields.CharField(max_length=300)),
                ('text', fields.TextField(unique=False)),
                ('html', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=EmailStatus.PENDING, description='PENDING: pending\nSENT: sent\nFAILED: failed', enum_type=EmailStatus, max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email', 'app': 'portal', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'An e-mail waiting to be sent, or sent: requests and jobs only add rows here, and'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(unique=True, max_length=200)),
                ('kind', fields.CharField(max_length=40)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'portal', 'indexes': [Index(fields=['person_id', 'read_at'])], 'pk_attr': 'id', 'table_description': "A message in the person's notification centre. ``kind`` names the template and"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SeasonFreeze',
            fields=[
                ('season', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=7)),
                ('frozen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'season_freeze', 'app': 'portal', 'pk_attr': 'season', 'table_description': 'Claimed once per season by whoever freezes its standings first.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SeasonStanding',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('season', fields.CharField(max_length=7)),
                ('account', fields.ForeignKeyField('portal.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='standings', on_delete=OnDelete.RESTRICT)),
                ('rank', fields.IntField()),
                ('earned', fields.BigIntField()),
            ],
            options={'table': 'season_standing', 'app': 'portal', 'unique_together': (('season', 'account'),), 'indexes': [Index(fields=['season', 'rank'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['kind', 'earned_total', 'last_earned_at']),
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['kind', 'last_earned_at']),
        ),
        ops.AlterField(
            model_name='Game',
            name='finished_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Person',
            name='email_burn_warnings',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='Person',
            name='email_news',
            field=fields.BooleanField(default=True, db_default=True),
        ),
    ]
