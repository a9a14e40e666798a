from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from portal.play.models import GameStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('portal', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Pack',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=60)),
                ('title', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('default_language', fields.CharField(max_length=8)),
                ('live_from', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('live_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('checksum', fields.CharField(max_length=64)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'pack', 'app': 'portal', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Course',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('pack', fields.ForeignKeyField('portal.Pack', source_field='pack_id', db_constraint=True, to_field='id', related_name='courses', on_delete=OnDelete.RESTRICT)),
                ('slug', fields.CharField(max_length=60)),
                ('position', fields.IntField()),
                ('title', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('description', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('mandatory', fields.BooleanField(default=False)),
                ('points', fields.IntField()),
                ('checksum', fields.CharField(max_length=64)),
            ],
            options={'table': 'course', 'app': 'portal', 'unique_together': (('pack', 'slug'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CourseProgress',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='course_progress', on_delete=OnDelete.RESTRICT)),
                ('course', fields.ForeignKeyField('portal.Course', source_field='course_id', db_constraint=True, to_field='id', related_name='progress', on_delete=OnDelete.RESTRICT)),
                ('lessons_done', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('certificate_code', fields.CharField(null=True, unique=True, max_length=16)),
            ],
            options={'table': 'course_progress', 'app': 'portal', 'unique_together': (('person', 'course'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Lesson',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('course', fields.ForeignKeyField('portal.Course', source_field='course_id', db_constraint=True, to_field='id', related_name='lessons', on_delete=OnDelete.CASCADE)),
                ('slug', fields.CharField(max_length=60)),
                ('position', fields.IntField()),
                ('title', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('body_html', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('image', fields.CharField(null=True, max_length=200)),
                ('video', fields.CharField(null=True, max_length=500)),
            ],
            options={'table': 'lesson', 'app': 'portal', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Quiz',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('pack', fields.ForeignKeyField('portal.Pack', source_field='pack_id', db_constraint=True, to_field='id', related_name='quizzes', on_delete=OnDelete.RESTRICT)),
                ('course', fields.OneToOneField('portal.Course', source_field='course_id', null=True, db_constraint=True, to_field='id', related_name='final_quiz', on_delete=OnDelete.CASCADE)),
                ('slug', fields.CharField(max_length=60)),
                ('position', fields.IntField()),
                ('title', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('description', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('time_limit', fields.IntField()),
                ('base_points', fields.IntField()),
                ('scoring', fields.CharField(max_length=10)),
                ('attempts', fields.IntField()),
                ('shuffle', fields.BooleanField()),
                ('pass_mark', fields.IntField(null=True)),
                ('checksum', fields.CharField(max_length=64)),
            ],
            options={'table': 'quiz', 'app': 'portal', 'unique_together': (('pack', 'slug'),), 'pk_attr': 'id', 'table_description': 'A timed quiz: on its own, or the final quiz of a course.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Game',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('person', fields.ForeignKeyField('portal.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='games', on_delete=OnDelete.RESTRICT)),
                ('quiz', fields.ForeignKeyField('portal.Quiz', source_field='quiz_id', db_constraint=True, to_field='id', related_name='games', on_delete=OnDelete.RESTRICT)),
                ('attempt', fields.IntField()),
                ('status', fields.CharEnumField(default=GameStatus.ACTIVE, description='ACTIVE: active\nFINISHED: finished\nABANDONED: abandoned', enum_type=GameStatus, max_length=10)),
                ('question_order', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('choice_order', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('current', fields.IntField(default=0)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('deadline', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('correct', fields.IntField(default=0)),
                ('points', fields.IntField(default=0)),
            ],
            options={'table': 'game', 'app': 'portal', 'unique_together': (('person', 'quiz', 'attempt'),), 'indexes': [Index(fields=['person_id', 'status'])], 'pk_attr': 'id', 'table_description': 'One attempt at a quiz. The server keeps its clock: ``sent_at`` is when the current'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Question',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('quiz', fields.ForeignKeyField('portal.Quiz', source_field='quiz_id', db_constraint=True, to_field='id', related_name='questions', on_delete=OnDelete.CASCADE)),
                ('slug', fields.CharField(max_length=60)),
                ('position', fields.IntField()),
                ('type', fields.CharField(max_length=12)),
                ('text', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('image', fields.CharField(null=True, max_length=200)),
                ('choices', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('explanation', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'question', 'app': 'portal', 'unique_together': (('quiz', 'slug'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Answer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('game', fields.ForeignKeyField('portal.Game', source_field='game_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('question', fields.ForeignKeyField('portal.Question', source_field='question_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.RESTRICT)),
                ('chosen', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('answered_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('elapsed_ms', fields.IntField()),
                ('correct', fields.BooleanField()),
                ('points', fields.IntField()),
            ],
            options={'table': 'answer', 'app': 'portal', 'unique_together': (('game', 'question'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
