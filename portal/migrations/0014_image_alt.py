"""Question and lesson images carry their text alternative (what the image shows, per
language), required by the pack format whenever there is an image."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('portal', '0013_time_zones')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Question',
            name='image_alt',
            field=fields.JSONField(null=True),
        ),
        ops.AddField(
            model_name='Lesson',
            name='image_alt',
            field=fields.JSONField(null=True),
        ),
    ]
