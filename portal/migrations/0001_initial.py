from tortoise import migrations
from tortoise.migrations import operations as ops
from portal.ledger.models import AccountKind, HoldStatus, TransferKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Company',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=200)),
                ('kind', fields.CharField(default='dealer', max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'company', 'app': 'portal', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JobRun',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('job', fields.CharField(max_length=60)),
                ('period', fields.CharField(max_length=40)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('result', fields.CharField(default='', max_length=500)),
                ('error', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'job_run', 'app': 'portal', 'unique_together': (('job', 'period'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Region',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
            ],
            options={'table': 'region', 'app': 'portal', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Outlet',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('portal.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='outlets', on_delete=OnDelete.RESTRICT)),
                ('region', fields.ForeignKeyField('portal.Region', source_field='region_id', db_constraint=True, to_field='id', related_name='outlets', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
            ],
            options={'table': 'outlet', 'app': 'portal', 'unique_together': (('company', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Person',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('password_hash', fields.CharField(max_length=200)),
                ('full_name', fields.CharField(max_length=200)),
                ('display_name', fields.CharField(max_length=60)),
                ('language', fields.CharField(default='en', max_length=8)),
                ('outlet', fields.ForeignKeyField('portal.Outlet', source_field='outlet_id', null=True, db_constraint=True, to_field='id', related_name='people', on_delete=OnDelete.RESTRICT)),
                ('roles', fields.CharField(default='player', max_length=100)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'person', 'app': 'portal', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='PERSON: person\nCOMPANY: company\nSYSTEM: system', enum_type=AccountKind, max_length=10)),
                ('code', fields.CharField(null=True, unique=True, max_length=100)),
                ('name', fields.CharField(max_length=200)),
                ('person', fields.OneToOneField('portal.Person', source_field='person_id', null=True, db_constraint=True, to_field='id', related_name='account', on_delete=OnDelete.RESTRICT)),
                ('company', fields.OneToOneField('portal.Company', source_field='company_id', null=True, db_constraint=True, to_field='id', related_name='account', on_delete=OnDelete.RESTRICT)),
                ('balance', fields.BigIntField(default=0)),
                ('held', fields.BigIntField(default=0)),
                ('earned_total', fields.BigIntField(default=0)),
                ('last_earned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'account', 'app': 'portal', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Invite',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('email', fields.CharField(max_length=254)),
                ('outlet', fields.ForeignKeyField('portal.Outlet', source_field='outlet_id', db_constraint=True, to_field='id', related_name='invites', on_delete=OnDelete.CASCADE)),
                ('invited_by', fields.ForeignKeyField('portal.Person', source_field='invited_by_id', db_constraint=True, to_field='id', related_name='invites_sent', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'invite', 'app': 'portal', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SeasonScore',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('portal.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='season_scores', on_delete=OnDelete.RESTRICT)),
                ('season', fields.CharField(max_length=7)),
                ('earned', fields.BigIntField(default=0)),
                ('reached_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'season_score', 'app': 'portal', 'unique_together': (('account', 'season'),), 'indexes': [Index(fields=['season', 'earned', 'reached_at'])], 'pk_attr': 'id', 'table_description': 'Points an account earned in one season (a calendar month).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id_hash', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(default='web', max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'session', 'app': 'portal', 'pk_attr': 'id_hash', 'table_description': 'A signed-in browser or API client. The cookie or bearer token holds only its id.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Transfer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=200)),
                ('kind', fields.CharEnumField(description='EARN: earn\nBURN: burn\nSPEND: spend\nCAPTURE: capture\nDONATE: donate\nADJUST: adjust', enum_type=TransferKind, max_length=10)),
                ('source', fields.ForeignKeyField('portal.Account', source_field='source_id', db_constraint=True, to_field='id', related_name='debits', on_delete=OnDelete.RESTRICT)),
                ('target', fields.ForeignKeyField('portal.Account', source_field='target_id', db_constraint=True, to_field='id', related_name='credits', on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('reason', fields.CharField(max_length=500)),
                ('reference', fields.CharField(default='', max_length=200)),
                ('season', fields.CharField(max_length=7)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('portal.Person', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='transfers_made', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'transfer', 'app': 'portal', 'indexes': [Index(fields=['source_id', 'id']), Index(fields=['target_id', 'id']), Index(fields=['kind', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Hold',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=200)),
                ('account', fields.ForeignKeyField('portal.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='holds', on_delete=OnDelete.RESTRICT)),
                ('target', fields.ForeignKeyField('portal.Account', source_field='target_id', db_constraint=True, to_field='id', related_name='incoming_holds', on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('reason', fields.CharField(max_length=500)),
                ('reference', fields.CharField(default='', max_length=200)),
                ('status', fields.CharEnumField(default=HoldStatus.OPEN, description='OPEN: open\nCAPTURED: captured\nRELEASED: released', enum_type=HoldStatus, max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('capture', fields.ForeignKeyField('portal.Transfer', source_field='capture_id', null=True, db_constraint=True, to_field='id', related_name='captured_hold', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'hold', 'app': 'portal', 'indexes': [Index(fields=['account_id', 'status'])], 'pk_attr': 'id', 'table_description': 'Points reserved for a pending transfer (an auction bid), resolved exactly once.'},
            bases=['Model'],
        ),
    ]
