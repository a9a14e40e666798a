"""Auctions and raffles (issue 11): lots and their bids, raffles, their tickets and
winners. Lots and raffles name catalog items as prizes, hence 0008_catalog.

Hand-checked: Tortoise also proposed option changes on other capabilities' tables and an
AlterField on ``transfer.kind``; they are left out (not ours, and on SQLite the latter
would rebuild the transfer table).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from portal.auctions.models import LotStatus, RaffleStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('portal', '0011_reason_messages')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Lot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('picture', fields.CharField(default='', max_length=200)),
                ('prize_item', fields.ForeignKeyField('portal.Item', source_field='prize_item_id', null=True, db_constraint=True, to_field='id', related_name='lots', on_delete=OnDelete.RESTRICT)),
                ('prize_text', fields.CharField(default='', max_length=500)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('starting_bid', fields.IntField()),
                ('increment', fields.IntField()),
                ('soft_close_minutes', fields.IntField(default=2)),
                ('status', fields.CharEnumField(default=LotStatus.OPEN, description='OPEN: open\nCLOSED: closed\nCANCELLED: cancelled', enum_type=LotStatus, max_length=10)),
                ('high_bid', fields.BigIntField(default=0)),
                ('leader', fields.ForeignKeyField('portal.Person', source_field='leader_id', null=True, db_constraint=True, to_field='id', related_name='lots_leading', on_delete=OnDelete.RESTRICT)),
                ('bids_count', fields.IntField(default=0)),
                ('bidders', fields.IntField(default=0)),
                ('account', fields.OneToOneField('portal.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='lot', on_delete=OnDelete.RESTRICT)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('order', fields.ForeignKeyField('portal.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='lots', on_delete=OnDelete.RESTRICT)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivery_problem', fields.CharField(default='', max_length=500)),
                ('told_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('portal.Person', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='lots_created', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'auction_lot', 'app': 'portal', 'indexes': [Index(fields=['status', 'ends_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Bid',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=200)),
                ('lot', fields.ForeignKeyField('portal.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='bids', on_delete=OnDelete.RESTRICT)),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='bids', on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('hold_id', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'auction_bid', 'app': 'portal', 'indexes': [Index(fields=['lot_id', 'id']), Index(fields=['lot_id', 'person_id'])], 'pk_attr': 'id', 'table_description': "One accepted bid, with the hold of the bidder's whole amount on the lot."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Raffle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('picture', fields.CharField(default='', max_length=200)),
                ('prize_item', fields.ForeignKeyField('portal.Item', source_field='prize_item_id', null=True, db_constraint=True, to_field='id', related_name='raffles', on_delete=OnDelete.RESTRICT)),
                ('prize_text', fields.CharField(default='', max_length=500)),
                ('winners', fields.IntField()),
                ('ticket_price', fields.IntField()),
                ('per_person_limit', fields.IntField()),
                ('draw_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=RaffleStatus.OPEN, description='OPEN: open\nDRAWN: drawn', enum_type=RaffleStatus, max_length=10)),
                ('sold', fields.IntField(default=0)),
                ('seed', fields.CharField(default='', max_length=64)),
                ('drawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('told_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('account', fields.OneToOneField('portal.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='raffle', on_delete=OnDelete.RESTRICT)),
                ('created_by', fields.ForeignKeyField('portal.Person', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='raffles_created', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'raffle', 'app': 'portal', 'indexes': [Index(fields=['status', 'draw_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RaffleWinner',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('raffle', fields.ForeignKeyField('portal.Raffle', source_field='raffle_id', db_constraint=True, to_field='id', related_name='drawn', on_delete=OnDelete.RESTRICT)),
                ('place', fields.IntField()),
                ('ticket_number', fields.IntField()),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='raffle_wins', on_delete=OnDelete.RESTRICT)),
                ('order', fields.ForeignKeyField('portal.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='raffle_wins', on_delete=OnDelete.RESTRICT)),
                ('delivery_problem', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'raffle_winner', 'app': 'portal', 'unique_together': (('raffle', 'place'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('raffle', fields.ForeignKeyField('portal.Raffle', source_field='raffle_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.RESTRICT)),
                ('number', fields.IntField()),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.RESTRICT)),
                ('key', fields.CharField(max_length=200)),
                ('transfer_id', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'raffle_ticket', 'app': 'portal', 'unique_together': (('raffle', 'number'),), 'indexes': [Index(fields=['raffle_id', 'person_id']), Index(fields=['key'])], 'pk_attr': 'id', 'table_description': 'Tickets bought together share a purchase ``key`` (one spend) and get consecutive'},
            bases=['Model'],
        ),
    ]
