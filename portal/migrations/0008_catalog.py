"""The rewards catalog (issue 10): categories, items, sealed code pools, orders, code
reveals and goals; and the sealed part of an e-mail (a code sent to its owner).

Hand-checked: Tortoise also proposes an AlterField on ``transfer.kind`` when a kind is
added (only its description changes); it is left out, since on SQLite it would rebuild
the transfer table.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from portal.catalog.models import CodeStatus, ItemKind, OrderStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('portal', '0007_repair_schema')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Category',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'catalog_category', 'app': 'portal', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Item',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('category', fields.ForeignKeyField('portal.Category', source_field='category_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='CERTIFICATE: certificate\nGIFT: gift', enum_type=ItemKind, max_length=12)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('how_to_use', fields.TextField(default='', unique=False)),
                ('picture', fields.CharField(default='', max_length=200)),
                ('price', fields.IntField()),
                ('for_companies', fields.BooleanField(default=False)),
                ('active', fields.BooleanField(default=True)),
                ('stock', fields.IntField(null=True)),
                ('monthly_limit', fields.IntField(null=True)),
                ('low_stock_at', fields.IntField(null=True)),
                ('low_told', fields.BooleanField(default=False)),
                ('low_crossings', fields.IntField(default=0)),
                ('unlock_quiz_id', fields.IntField(null=True)),
                ('unlock_course_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalog_item', 'app': 'portal', 'indexes': [Index(fields=['active', 'for_companies', 'category_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Code',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('item', fields.ForeignKeyField('portal.Item', source_field='item_id', db_constraint=True, to_field='id', related_name='codes', on_delete=OnDelete.RESTRICT)),
                ('sealed', fields.TextField(unique=False)),
                ('fingerprint', fields.CharField(unique=True, max_length=64)),
                ('last4', fields.CharField(max_length=4)),
                ('value', fields.CharField(default='', max_length=100)),
                ('expires_on', fields.DateField(null=True)),
                ('status', fields.CharEnumField(default=CodeStatus.AVAILABLE, description='AVAILABLE: available\nISSUED: issued\nVOID: void', enum_type=CodeStatus, max_length=10)),
                ('uploaded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalog_code', 'app': 'portal', 'indexes': [Index(fields=['item_id', 'status', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Goal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('person', fields.OneToOneField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='catalog_goal', on_delete=OnDelete.CASCADE)),
                ('item', fields.ForeignKeyField('portal.Item', source_field='item_id', db_constraint=True, to_field='id', related_name='goals', on_delete=OnDelete.CASCADE)),
                ('pinned_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalog_goal', 'app': 'portal', 'pk_attr': 'id', 'table_description': 'The one item a player pinned as what they save for.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Order',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=200)),
                ('item', fields.ForeignKeyField('portal.Item', source_field='item_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT)),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='catalog_orders', on_delete=OnDelete.RESTRICT)),
                ('company', fields.ForeignKeyField('portal.Company', source_field='company_id', null=True, db_constraint=True, to_field='id', related_name='catalog_orders', on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('portal.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='catalog_orders', on_delete=OnDelete.RESTRICT)),
                ('price', fields.IntField()),
                ('month', fields.CharField(max_length=7)),
                ('status', fields.CharEnumField(description='ISSUED: issued\nAWAITING: awaiting\nSHIPPED: shipped\nDELIVERED: delivered\nCANCELLED: cancelled', enum_type=OrderStatus, max_length=10)),
                ('code', fields.OneToOneField('portal.Code', source_field='code_id', null=True, db_constraint=True, to_field='id', related_name='order', on_delete=OnDelete.RESTRICT)),
                ('transfer_id', fields.BigIntField(null=True)),
                ('refund_transfer_id', fields.BigIntField(null=True)),
                ('address', fields.TextField(default='', unique=False)),
                ('cancel_reason', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalog_order', 'app': 'portal', 'indexes': [Index(fields=['account_id', 'item_id', 'month']), Index(fields=['status', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Reveal',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('portal.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='reveals', on_delete=OnDelete.RESTRICT)),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='code_reveals', on_delete=OnDelete.RESTRICT)),
                ('via', fields.CharField(max_length=10)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalog_reveal', 'app': 'portal', 'pk_attr': 'id', 'table_description': 'Each time a code was shown or sent to its owner: the audit trail.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Email',
            name='sealed',
            field=fields.TextField(null=True, unique=False),
        ),
    ]
