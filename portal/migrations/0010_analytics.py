"""Analytics rollups: visits, the fold's cursors, and the per day, month, person and
question tables the programme page reads (see portal/analytics/models.py)."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


def _id() -> fields.BigIntField:
    return fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)


def _count() -> fields.IntField:
    return fields.IntField(default=0)


def _points() -> fields.BigIntField:
    return fields.BigIntField(default=0)


def _options(table: str, description: str, **extra: object) -> dict[str, object]:
    return {"table": table, "app": "portal", "pk_attr": "id",
            "table_description": description, **extra}


class Migration(migrations.Migration):
    dependencies = [('portal', '0009_charity')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Visit',
            fields=[
                ('id', _id()),
                ('person_id', fields.IntField()),
                ('day', fields.CharField(max_length=10)),
            ],
            options=_options('analytics_visit', 'A day a person was seen in the portal',
                             unique_together=(('person_id', 'day'),)),
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FoldCursor',
            fields=[
                ('source', fields.CharField(primary_key=True, unique=True, db_index=True,
                                            max_length=20)),
                ('done_through', fields.BigIntField(default=0)),
                ('safe_through', fields.BigIntField(default=0)),
                ('seen_max', fields.BigIntField(default=0)),
                ('seen_at', fields.DatetimeField(null=True, auto_now=False,
                                                 auto_now_add=False)),
            ],
            options={**_options('analytics_cursor', 'How far the fold has read a source'),
                     'pk_attr': 'source'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DayOutlet',
            fields=[
                ('id', _id()),
                ('day', fields.CharField(max_length=10)),
                ('outlet_id', fields.IntField()),
                ('company_id', fields.IntField()),
                ('region_id', fields.IntField()),
                ('visits', _count()),
                ('games_finished', _count()),
                ('earned', _points()),
                ('spent', _points()),
                ('donated', _points()),
                ('captured', _points()),
                ('burned', _points()),
            ],
            options=_options('analytics_day', "One outlet's day",
                             unique_together=(('day', 'outlet_id'),)),
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MonthOutlet',
            fields=[
                ('id', _id()),
                ('month', fields.CharField(max_length=7)),
                ('outlet_id', fields.IntField()),
                ('company_id', fields.IntField()),
                ('region_id', fields.IntField()),
                ('new_players', _count()),
                ('active_players', _count()),
                ('players_with_game', _count()),
                ('players_with_five', _count()),
                ('visits', _count()),
                ('games_finished', _count()),
                ('games_abandoned', _count()),
                ('answers', _count()),
                ('earned', _points()),
                ('adjusted_in', _points()),
                ('received_other', _points()),
                ('spent', _points()),
                ('donated', _points()),
                ('captured', _points()),
                ('burned_inactivity', _points()),
                ('burned_other', _points()),
                ('adjusted_out', _points()),
                ('sent_other', _points()),
                ('burned_games', _points()),
            ],
            options=_options('analytics_month', "One outlet's month",
                             unique_together=(('month', 'outlet_id'),),
                             indexes=[Index(fields=['company_id', 'month']),
                                      Index(fields=['region_id', 'month'])]),
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PlayerMonth',
            fields=[
                ('id', _id()),
                ('month', fields.CharField(max_length=7)),
                ('person_id', fields.IntField()),
                ('visit_days', _count()),
                ('games', _count()),
                ('earned', _points()),
            ],
            options=_options('analytics_player_month', "One person's month",
                             unique_together=(('month', 'person_id'),)),
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QuestionMonth',
            fields=[
                ('id', _id()),
                ('month', fields.CharField(max_length=7)),
                ('question_id', fields.IntField()),
                ('quiz_id', fields.IntField()),
                ('pack_id', fields.IntField()),
                ('answered', _count()),
                ('correct', _count()),
                ('wrong', _count()),
                ('timed_out', _count()),
            ],
            options=_options('analytics_question_month', 'How a question was answered',
                             unique_together=(('month', 'question_id'),)),
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QuestionSlot',
            fields=[
                ('id', _id()),
                ('month', fields.CharField(max_length=7)),
                ('question_id', fields.IntField()),
                ('kind', fields.CharField(max_length=6)),
                ('slot', fields.IntField()),
                ('count', _count()),
            ],
            options=_options('analytics_question_slot', "Counts behind a question's month",
                             unique_together=(('month', 'question_id', 'kind', 'slot'),)),
            bases=['Model'],
        ),
    ]
