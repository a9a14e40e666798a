from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('portal', '0002_content_and_games')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PackUpload',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token', fields.CharField(unique=True, max_length=32)),
                ('filename', fields.CharField(max_length=200)),
                ('data', fields.BinaryField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('portal.Person', source_field='created_by_id', db_constraint=True, to_field='id', related_name='pack_uploads', on_delete=OnDelete.RESTRICT)),
                ('pack_slug', fields.CharField(default='', max_length=60)),
                ('problems', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'pack_upload', 'app': 'portal', 'pk_attr': 'id', 'table_description': 'A pack uploaded as a zip in the marketing workspace, kept until it is published.'},
            bases=['Model'],
        ),
    ]
