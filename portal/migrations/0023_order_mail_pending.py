"""An e-certificate order is its code e-mail's outbox.

A redemption used to write the code's e-mail (both bodies, about 1.5 KB) and its reveal
in its own transaction: in a rush on one pool those two rows were a third of each win's
write-ahead log and of PostgreSQL's work. Now the order says the e-mail is still to be
queued (``mail_pending``), in the same insert, and the mail job queues it: the same
guarantee (nothing is lost once the order is committed), off the hot path.

Every order made before this had its e-mail queued with it: none is pending.
"""

from tortoise import fields, migrations
from tortoise.indexes import PartialIndex
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('portal', '0022_score_moment_counts')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Order',
            name='mail_pending',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(
            model_name='Order',
            index=PartialIndex(fields=["id"], name="catalog_order_mail_pending",
                               condition={"mail_pending": True}),
        ),
    ]
