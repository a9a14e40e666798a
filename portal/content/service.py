"""Publishing content packs, and reading what is live.

Publishing validates the whole pack first (``schema.read_pack``), then writes it in one
transaction. Republishing the same pack is safe: unchanged items stay as they are, and an
item people have already played can be neither changed nor removed (its points and
answers refer to it): give the changed version a new id instead.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import nh3
from markdown_it import MarkdownIt
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from portal.content import schema
from portal.content.models import Course, Lesson, Pack, Question, Quiz
from portal.db import write_transaction

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


@dataclass
class PublishReport:
    pack: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    questions: int = 0
    dry_run: bool = False


def localized(texts: dict[str, str] | None, language: str, default: str = "en") -> str:
    """The text in ``language``, else in the pack's default language."""
    if not texts:
        return ""
    return texts.get(language) or texts.get(default) or next(iter(texts.values()))


def render_markdown(text: str) -> str:
    """Lesson Markdown as HTML that is safe to show (no scripts, no htmx attributes)."""
    return nh3.clean(_markdown.render(text), link_rel="noopener noreferrer nofollow")


def texts(value: dict[str, str] | None, default: str) -> dict[str, str] | None:
    if value is None:
        return None
    return {(code or default): text for code, text in value.items()}


def _digest(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else json.dumps(
            part, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def media_name(path: Path) -> str:
    data = path.read_bytes()
    return f"{hashlib.sha256(data).hexdigest()[:32]}{path.suffix.lower()}"


def store_media(pack: schema.Pack, media_dir: Path) -> dict[str, str]:
    """Copies the pack's images into the media folder under content-derived names."""
    media_dir.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for written, path in pack.images.items():
        name = media_name(path)
        if not (media_dir / name).exists():
            shutil.copyfile(path, media_dir / name)
        names[written] = name
    return names


async def publish(pack: schema.Pack, *, media_dir: Path, now: datetime,
                  dry_run: bool = False) -> PublishReport:
    """Writes a validated pack in one transaction; PackInvalid if it would change or
    remove something already played. ``dry_run`` checks all of that and writes nothing."""
    media = {written: media_name(path) for written, path in pack.images.items()}
    report = PublishReport(pack=pack.meta.id, dry_run=dry_run)

    class _Rollback(Exception):
        pass

    try:
        async with write_transaction() as conn:
            await _write(conn, pack, media, now, report)
            if dry_run:
                raise _Rollback()
    except _Rollback:
        return report
    store_media(pack, media_dir)
    return report


async def _write(conn: BaseDBAsyncClient, pack: schema.Pack, media: dict[str, str],
                 now: datetime, report: PublishReport) -> None:
    meta = pack.meta
    default = meta.default_language
    row = await Pack.filter(slug=meta.id).using_db(conn).first()
    values = {
        "title": texts(meta.title, default),
        "default_language": default,
        "live_from": meta.live_from,
        "live_until": meta.live_until,
        "checksum": _digest(meta.model_dump(), [q.model_dump() for q in pack.quizzes],
                            [c.model_dump() for c in pack.courses]),
        "published_at": now,
    }
    if row is None:
        row = await Pack.create(slug=meta.id, using_db=conn, **values)
    else:
        await Pack.filter(id=row.id).using_db(conn).update(**values)

    problems: list[schema.Problem] = []
    for position, quiz in enumerate(pack.quizzes):
        await _publish_quiz(conn, row, quiz, position, None, media, default, report, problems)
    for position, course in enumerate(pack.courses):
        await _publish_course(conn, row, pack, course, position, media, default, report,
                              problems)
    await _remove_missing(conn, row, pack, report, problems)
    if problems:
        raise schema.PackInvalid(problems)


async def _played(conn: BaseDBAsyncClient, quiz: Quiz) -> int:
    """How many games were played on the quiz, through the ``games`` relation play's
    models declare on it (content reads it without importing play, which sits above)."""
    counted = await Quiz.filter(id=quiz.id).using_db(conn).annotate(
        played=Count("games")).get()
    return int(counted.played)  # type: ignore[attr-defined]  # annotated above


async def _publish_quiz(conn: BaseDBAsyncClient, pack_row: Pack,
                        quiz: schema.QuizIn | schema.FinalQuizIn, position: int,
                        course: Course | None, media: dict[str, str], default: str,
                        report: PublishReport, problems: list[schema.Problem]) -> None:
    slug = quiz.id if isinstance(quiz, schema.QuizIn) else f"{course.slug}-final"  # type: ignore[union-attr]
    label = f"quiz {slug}"
    used = {q.image for q in quiz.questions if q.image}
    checksum = _digest(quiz.model_dump(), {k: media[k] for k in sorted(used)})
    # Locked like a game start locks it: a game is never made from half-replaced questions.
    existing = await Quiz.filter(pack_id=pack_row.id, slug=slug).using_db(
        conn).select_for_update().first()
    report.questions += len(quiz.questions)
    if existing is not None and existing.checksum == checksum:
        report.unchanged.append(label)
        return
    if existing is not None and (played := await _played(conn, existing)):
        problems.append(schema.Problem(
            slug, None, "", f"{played} game(s) were already played on this quiz, so it cannot "
            "change: give the changed quiz a new id"))
        return
    values = {
        "course_id": course.id if course else None,
        "position": position,
        "title": texts(quiz.title, default) if isinstance(quiz, schema.QuizIn)
        else (course.title if course else {}),
        "description": texts(quiz.description, default) if isinstance(quiz, schema.QuizIn)
        else None,
        "time_limit": quiz.time_limit,
        # A survey keeps its points for finishing here (scoring "survey").
        "base_points": quiz.points_per_answer if isinstance(quiz, schema.QuizIn)
        else quiz.base_points,
        "scoring": quiz.scoring,
        "attempts": quiz.attempts,
        "shuffle": quiz.shuffle,
        "pass_mark": getattr(quiz, "pass_mark", None),
        "checksum": checksum,
    }
    if existing is None:
        row = await Quiz.create(pack_id=pack_row.id, slug=slug, using_db=conn, **values)
        report.created.append(label)
    else:
        await Quiz.filter(id=existing.id).using_db(conn).update(**values)
        await Question.filter(quiz_id=existing.id).using_db(conn).delete()
        row = existing
        report.updated.append(label)
    await Question.bulk_create([
        Question(
            quiz_id=row.id,
            slug=question.id,
            position=index,
            type=question.type,
            text=texts(question.text, default),
            image=media.get(question.image) if question.image else None,
            image_alt=texts(question.image_alt, default),
            choices=choices_of(question, default),
            explanation=texts(question.explanation, default),
        )
        for index, question in enumerate(quiz.questions)
    ], using_db=conn)


def choices_of(question: schema.QuestionIn, default: str) -> list[dict[str, Any]]:
    if question.type == "true_false":
        return [
            {"text": {"en": "True", "ru": "Верно"}, "correct": question.answer is True},
            {"text": {"en": "False", "ru": "Неверно"}, "correct": question.answer is False},
        ]
    return [{"text": texts(choice.text, default), "correct": choice.correct}
            for choice in question.choices or []]


async def _publish_course(conn: BaseDBAsyncClient, pack_row: Pack, pack: schema.Pack,
                          course: schema.CourseIn, position: int, media: dict[str, str],
                          default: str, report: PublishReport,
                          problems: list[schema.Problem]) -> None:
    bodies = {lesson.id: pack.bodies[(course.id, lesson.id)].by_language
              for lesson in course.lessons}
    values = {
        "position": position,
        "title": texts(course.title, default),
        "description": texts(course.description, default),
        "mandatory": course.mandatory,
        "points": course.points,
        "checksum": _digest(course.model_dump(exclude={"final_quiz"}), bodies,
                            {k: media[k] for k in sorted({lesson.image for lesson in
                                                          course.lessons if lesson.image})}),
    }
    existing = await Course.filter(pack_id=pack_row.id, slug=course.id).using_db(conn).first()
    label = f"course {course.id}"
    if existing is None:
        row = await Course.create(pack_id=pack_row.id, slug=course.id, using_db=conn, **values)
        report.created.append(label)
    elif existing.checksum != values["checksum"]:
        # Lessons are plain pages: progress refers to them by id, so they can be replaced.
        await Course.filter(id=existing.id).using_db(conn).update(**values)
        await Lesson.filter(course_id=existing.id).using_db(conn).delete()
        row = existing
        report.updated.append(label)
    else:
        row = existing
        report.unchanged.append(label)
    if existing is None or label in report.updated:
        for index, lesson in enumerate(course.lessons):
            await Lesson.create(
                course_id=row.id,
                slug=lesson.id,
                position=index,
                title=texts(lesson.title, default),
                body_html={(code or default): render_markdown(text)
                           for code, text in bodies[lesson.id].items()},
                image=media.get(lesson.image) if lesson.image else None,
                image_alt=texts(lesson.image_alt, default),
                video=lesson.video,
                using_db=conn,
            )
    await _publish_quiz(conn, pack_row, course.final_quiz, position, row, media, default,
                        report, problems)


async def _remove_missing(conn: BaseDBAsyncClient, pack_row: Pack, pack: schema.Pack,
                          report: PublishReport, problems: list[schema.Problem]) -> None:
    # Games on a quiz and people's progress through a course are play's ``games`` and
    # ``progress`` relations on them.
    quiz_slugs = {q.id for q in pack.quizzes} | {f"{c.id}-final" for c in pack.courses}
    for quiz in await Quiz.filter(pack_id=pack_row.id).using_db(conn).annotate(
            played=Count("games")):
        if quiz.slug not in quiz_slugs:
            played = quiz.played  # type: ignore[attr-defined]  # annotated above
            await _remove(conn, quiz, Question.filter(quiz_id=quiz.id), report, problems,
                          used=f"{played} game(s) were already played on this quiz"
                          if played else "")
    course_slugs = {c.id for c in pack.courses}
    for course in await Course.filter(pack_id=pack_row.id).using_db(conn).annotate(
            started=Count("progress")):
        # A course stays while its final quiz does (kept because it was played).
        if course.slug not in course_slugs and not await Quiz.filter(
                course_id=course.id).using_db(conn).exists():
            started = course.started  # type: ignore[attr-defined]  # annotated above
            await _remove(conn, course, Lesson.filter(course_id=course.id), report, problems,
                          used=f"{started} person(s) have started this course"
                          if started else "")


async def _remove(conn: BaseDBAsyncClient, row: Quiz | Course, parts: QuerySet[Any],
                  report: PublishReport, problems: list[schema.Problem], *, used: str) -> None:
    """Deletes an item the pack no longer has, with its parts, unless people have used
    it (``used`` says how): then it stays and the problem says why."""
    if used:
        problems.append(schema.Problem(
            row.slug, None, "", f"{used}, so it cannot be removed from the pack"))
        return
    await parts.using_db(conn).delete()
    await type(row).filter(id=row.id).using_db(conn).delete()
    report.removed.append(f"{'quiz' if isinstance(row, Quiz) else 'course'} {row.slug}")


# -- reading what is live -----------------------------------------------------------------


def is_live(pack: Pack, *, now: datetime) -> bool:
    """Whether ``now`` is inside the pack's window: the server's clock decides, no job
    needed."""
    return pack.live_from <= now < pack.live_until


async def live_packs(now: datetime) -> list[Pack]:
    """Packs whose window contains ``now`` (``is_live``, as a query)."""
    return await Pack.filter(live_from__lte=now, live_until__gt=now).order_by("live_from")


class PackState(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    CLOSED = "closed"


@dataclass(frozen=True)
class PublishedPack:
    pack: Pack
    state: PackState
    quizzes: int


def state_of(pack: Pack, *, now: datetime) -> PackState:
    if is_live(pack, now=now):
        return PackState.LIVE
    return PackState.SCHEDULED if now < pack.live_from else PackState.CLOSED


async def published_packs(*, now: datetime) -> list[PublishedPack]:
    """Every published pack, latest window first, with its state at ``now`` and how many
    quizzes it holds: one query for them all."""
    packs = await Pack.all().annotate(quiz_count=Count("quizzes")).order_by("-live_from")
    return [PublishedPack(pack, state_of(pack, now=now),
                          pack.quiz_count)  # type: ignore[attr-defined]  # annotated above
            for pack in packs]
