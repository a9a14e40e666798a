"""Games being played and finished, their answers, and course progress."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from portal.accounts.models import Person
from portal.content.models import Course, Question, Quiz


class GameStatus(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"
    ABANDONED = "abandoned"


class Game(Model):
    """One attempt at a quiz. The server keeps its clock: ``sent_at`` is when the current
    question was first shown; its deadline is ``sent_at`` plus the quiz's time limit."""

    id = fields.IntField(primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="games", on_delete=fields.RESTRICT
    )
    person_id: int
    quiz: fields.ForeignKeyRelation[Quiz] = fields.ForeignKeyField(
        "portal.Quiz", related_name="games", on_delete=fields.RESTRICT
    )
    quiz_id: int
    attempt = fields.IntField()
    status = fields.CharEnumField(GameStatus, max_length=10, default=GameStatus.ACTIVE)
    # Question ids in the order this player gets them, and for each question the
    # authored choice indexes in the order shown: {"12": [2, 0, 1]}.
    question_order: list[int] = fields.JSONField()
    choice_order: dict[str, list[int]] = fields.JSONField()
    current = fields.IntField(default=0)  # index into question_order
    sent_at = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField()
    deadline = fields.DatetimeField(db_index=True)  # past it, an unfinished game is abandoned
    finished_at = fields.DatetimeField(null=True, db_index=True)
    correct = fields.IntField(default=0)
    points = fields.IntField(default=0)  # provisional until the game is finished

    class Meta:
        table = "game"
        unique_together = (("person", "quiz", "attempt"),)
        indexes = (("person_id", "status"),)


class Answer(Model):
    id = fields.BigIntField(primary_key=True)
    game: fields.ForeignKeyRelation[Game] = fields.ForeignKeyField(
        "portal.Game", related_name="answers", on_delete=fields.CASCADE
    )
    game_id: int
    question: fields.ForeignKeyRelation[Question] = fields.ForeignKeyField(
        "portal.Question", related_name="answers", on_delete=fields.RESTRICT
    )
    question_id: int
    chosen: list[int] = fields.JSONField()  # choice indexes as authored; [] when time ran out
    answered_at = fields.DatetimeField()
    elapsed_ms = fields.IntField()
    correct = fields.BooleanField()
    points = fields.IntField()

    class Meta:
        table = "answer"
        unique_together = (("game", "question"),)


class CourseProgress(Model):
    id = fields.IntField(primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="course_progress", on_delete=fields.RESTRICT
    )
    person_id: int
    course: fields.ForeignKeyRelation[Course] = fields.ForeignKeyField(
        "portal.Course", related_name="progress", on_delete=fields.RESTRICT
    )
    course_id: int
    lessons_done: list[str] = fields.JSONField(default=list)  # lesson ids
    started_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)
    certificate_code = fields.CharField(max_length=16, unique=True, null=True)

    class Meta:
        table = "course_progress"
        unique_together = (("person", "course"),)
