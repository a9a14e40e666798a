"""Published content: packs and their quizzes, questions, courses and lessons.

Texts are stored per language as JSON objects ({"en": "...", "ru": "..."}); the pack's
default language fills in a missing translation when shown.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from portal.accounts.models import Person


class Pack(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=60, unique=True)
    title: dict[str, str] = fields.JSONField()
    default_language = fields.CharField(max_length=8)
    live_from = fields.DatetimeField()
    live_until = fields.DatetimeField()
    checksum = fields.CharField(max_length=64)
    published_at = fields.DatetimeField()

    class Meta:
        table = "pack"
        ordering = ["-live_from"]


class Course(Model):
    id = fields.IntField(primary_key=True)
    pack: fields.ForeignKeyRelation[Pack] = fields.ForeignKeyField(
        "portal.Pack", related_name="courses", on_delete=fields.RESTRICT
    )
    pack_id: int
    slug = fields.CharField(max_length=60)
    position = fields.IntField()
    title: dict[str, str] = fields.JSONField()
    description: dict[str, str] = fields.JSONField(null=True)
    mandatory = fields.BooleanField(default=False)
    points = fields.IntField()
    checksum = fields.CharField(max_length=64)

    class Meta:
        table = "course"
        unique_together = (("pack", "slug"),)
        ordering = ["position"]


class Lesson(Model):
    id = fields.IntField(primary_key=True)
    course: fields.ForeignKeyRelation[Course] = fields.ForeignKeyField(
        "portal.Course", related_name="lessons", on_delete=fields.CASCADE
    )
    course_id: int
    slug = fields.CharField(max_length=60)
    position = fields.IntField()
    title: dict[str, str] = fields.JSONField()
    body_html: dict[str, str] = fields.JSONField()  # sanitised HTML per language
    image = fields.CharField(max_length=200, null=True)
    image_alt: dict[str, str] | None = fields.JSONField(null=True)  # what the image shows
    video = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "lesson"
        ordering = ["position"]


class Quiz(Model):
    """A timed quiz: on its own, or the final quiz of a course."""

    id = fields.IntField(primary_key=True)
    pack: fields.ForeignKeyRelation[Pack] = fields.ForeignKeyField(
        "portal.Pack", related_name="quizzes", on_delete=fields.RESTRICT
    )
    pack_id: int
    course: fields.OneToOneNullableRelation[Course] = fields.OneToOneField(
        "portal.Course", related_name="final_quiz", null=True, on_delete=fields.CASCADE
    )
    course_id: int | None
    slug = fields.CharField(max_length=60)
    position = fields.IntField()
    title: dict[str, str] = fields.JSONField()
    description: dict[str, str] = fields.JSONField(null=True)
    time_limit = fields.IntField()  # seconds per question
    # Per correct answer; a survey's points for finishing it.
    base_points = fields.IntField()
    scoring = fields.CharField(max_length=10)  # speed, accuracy or survey
    attempts = fields.IntField()
    shuffle = fields.BooleanField()
    pass_mark = fields.IntField(null=True)  # percent, final quizzes only
    checksum = fields.CharField(max_length=64)

    questions: fields.ReverseRelation[Question]

    class Meta:
        table = "quiz"
        unique_together = (("pack", "slug"),)
        ordering = ["position"]


class Question(Model):
    id = fields.IntField(primary_key=True)
    quiz: fields.ForeignKeyRelation[Quiz] = fields.ForeignKeyField(
        "portal.Quiz", related_name="questions", on_delete=fields.CASCADE
    )
    quiz_id: int
    slug = fields.CharField(max_length=60)
    position = fields.IntField()
    type = fields.CharField(max_length=12)  # single, multiple, true_false
    text: dict[str, str] = fields.JSONField()
    image = fields.CharField(max_length=200, null=True)  # a file name under the media folder
    image_alt: dict[str, str] | None = fields.JSONField(null=True)  # what the image shows
    # [{"text": {"en": ...}, "correct": true}, ...]; never sent before the answer is in.
    choices: list[dict[str, Any]] = fields.JSONField()
    explanation: dict[str, str] = fields.JSONField(null=True)

    class Meta:
        table = "question"
        unique_together = (("quiz", "slug"),)
        ordering = ["position"]


class PackUpload(Model):
    """A pack uploaded as a zip in the marketing workspace, kept until it is published.

    The zip itself is stored, so any web instance can validate, preview and publish it.
    """

    id = fields.IntField(primary_key=True)
    token = fields.CharField(max_length=32, unique=True)
    filename = fields.CharField(max_length=200)
    data = fields.BinaryField()
    created_at = fields.DatetimeField()
    created_by: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="pack_uploads", on_delete=fields.RESTRICT
    )
    created_by_id: int
    pack_slug = fields.CharField(max_length=60, default="")
    # schema.Problem.stored() of each problem (older reports: English text).
    problems: list[dict[str, Any] | str] = fields.JSONField(default=list)
    published_at = fields.DatetimeField(null=True)

    class Meta:
        table = "pack_upload"
        ordering = ["-created_at"]
