"""Courses: lessons to read, the final quiz they open, the certificate and the points.

A course's final quiz opens once every lesson is read. Passing it completes the course
once: the certificate, the course's points and, when it completes the mandatory courses
open now, the welcome bonus, each credited once whatever is retried.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from portal.accounts.models import Person
from portal.content.models import Course, Lesson, Quiz
from portal.content.service import is_live, localized
from portal.db import write_transaction
from portal.i18n import N_
from portal.ledger.models import Account
from portal.play.awards import WELCOME, WELCOME_REASON, award_key, course_reason, credit
from portal.play.errors import NotFound, PlayError
from portal.play.models import CourseProgress


@dataclass(frozen=True)
class LessonView:
    id: int
    slug: str
    number: int
    title: str
    body_html: str
    image: str | None
    image_alt: str  # what the image shows, in the reader's language
    video: str | None
    done: bool


@dataclass(frozen=True)
class CourseView:
    id: int
    title: str
    description: str
    points: int
    mandatory: bool
    lessons: list[LessonView]
    final_quiz_id: int
    completed_at: datetime | None
    certificate_code: str | None
    all_read: bool
    next_unread: LessonView | None  # the first lesson not read yet


@dataclass(frozen=True)
class LessonPage:
    course: CourseView
    lesson: LessonView
    following: LessonView | None


@dataclass(frozen=True)
class Certificate:
    person_name: str
    course_title: str
    completed_at: datetime
    code: str


async def course_view(person: Person, course_id: int, *, now: datetime) -> CourseView:
    """The course with this person's progress: open while its pack is live, and later to
    whoever started it."""
    course = await Course.get_or_none(id=course_id).select_related("pack")
    if course is None:
        raise NotFound()
    if not is_live(course.pack, now=now):
        progress_exists = await CourseProgress.exists(person_id=person.id, course_id=course.id)
        if not progress_exists:
            raise PlayError(N_("This course is not open now."))
    language, default = person.language, course.pack.default_language
    progress = await CourseProgress.get_or_none(person_id=person.id, course_id=course.id)
    done = set(progress.lessons_done) if progress else set()
    lessons = await Lesson.filter(course_id=course.id).order_by("position")
    final = await Quiz.get(course_id=course.id)
    views = [LessonView(id=lesson.id, slug=lesson.slug, number=i + 1,
                        title=localized(lesson.title, language, default),
                        body_html=localized(lesson.body_html, language, default),
                        image=lesson.image,
                        image_alt=localized(lesson.image_alt, language, default),
                        video=lesson.video, done=lesson.slug in done)
             for i, lesson in enumerate(lessons)]
    return CourseView(
        id=course.id, title=localized(course.title, language, default),
        description=localized(course.description, language, default), points=course.points,
        mandatory=course.mandatory, lessons=views, final_quiz_id=final.id,
        completed_at=progress.completed_at if progress else None,
        certificate_code=progress.certificate_code if progress else None,
        all_read=all(view.done for view in views),
        next_unread=next((view for view in views if not view.done), None),
    )


def _lesson(view: CourseView, lesson_id: int) -> LessonView:
    found = next((item for item in view.lessons if item.id == lesson_id), None)
    if found is None:
        raise NotFound()
    return found


async def lesson_page(person: Person, course_id: int, lesson_id: int, *,
                      now: datetime) -> LessonPage:
    """A lesson of the course, and the one after it."""
    view = await course_view(person, course_id, now=now)
    lesson = _lesson(view, lesson_id)
    following = next((item for item in view.lessons if item.number == lesson.number + 1),
                     None)
    return LessonPage(course=view, lesson=lesson, following=following)


async def mark_lesson_read(person: Person, course_id: int, lesson_id: int, *,
                           now: datetime) -> CourseView:
    lesson = _lesson(await course_view(person, course_id, now=now), lesson_id)
    with contextlib.suppress(IntegrityError):  # already started
        await CourseProgress.create(person_id=person.id, course_id=course_id,
                                    lessons_done=[], started_at=now)
    async with write_transaction() as conn:
        progress = await CourseProgress.filter(person_id=person.id,
                                               course_id=course_id).using_db(conn).get()
        if lesson.slug not in progress.lessons_done:
            await CourseProgress.filter(id=progress.id).using_db(conn).update(
                lessons_done=[*progress.lessons_done, lesson.slug])
    return await course_view(person, course_id, now=now)


async def certificate(person: Person, course_id: int) -> Certificate:
    progress = await CourseProgress.get_or_none(
        person_id=person.id, course_id=course_id, completed_at__isnull=False
    ).select_related("course__pack")
    if progress is None or progress.completed_at is None or not progress.certificate_code:
        raise NotFound()
    course = progress.course
    return Certificate(person_name=person.full_name,
                       course_title=localized(course.title, person.language,
                                              course.pack.default_language),
                       completed_at=progress.completed_at, code=progress.certificate_code)


async def check_final_quiz(person: Person, course_id: int) -> None:
    """Refuses a new game on the course's final quiz before every lesson is read, and
    after the course is completed."""
    progress = await CourseProgress.get_or_none(person_id=person.id, course_id=course_id)
    lessons = set(await Lesson.filter(course_id=course_id).values_list("slug", flat=True))
    if progress is None or not lessons <= set(progress.lessons_done):
        raise PlayError(N_("Read every lesson of the course before its final quiz."))
    if progress.completed_at is not None:
        raise PlayError(N_("You have already completed this course."))


async def complete(person: Person, course_id: int, *, account: Account, now: datetime,
                   welcome_bonus: int, conn: BaseDBAsyncClient, share_percent: int = 0
                   ) -> None:
    """Completes the course once (its final quiz was passed), in the caller's transaction:
    the certificate, the course's points and, maybe, the welcome bonus."""
    completed = await CourseProgress.filter(
        person_id=person.id, course_id=course_id, completed_at__isnull=True
    ).using_db(conn).update(completed_at=now, certificate_code=secrets.token_hex(5).upper())
    if completed != 1:
        return
    course = await Course.filter(id=course_id).using_db(conn).select_related("pack").get()
    if course.points > 0:
        await credit(conn, person, account, amount=course.points,
                     key=award_key(person.id, course),
                     reason=course_reason(course, default_language=course.pack.default_language),
                     reference=f"course:{course.id}", now=now, share_percent=share_percent)
    if course.mandatory and welcome_bonus > 0:
        # The onboarding path: the mandatory courses open now (closed ones can no longer
        # be taken, so they cannot hold a newcomer's bonus back).
        open_now = set(await Course.filter(
            mandatory=True, pack__live_from__lte=now, pack__live_until__gt=now
        ).using_db(conn).values_list("id", flat=True))
        done = set(await CourseProgress.filter(
            person_id=person.id, course__mandatory=True, completed_at__isnull=False
        ).using_db(conn).values_list("course_id", flat=True))
        if open_now <= done:
            await credit(conn, person, account, amount=welcome_bonus,
                         key=award_key(person.id, WELCOME), reason=WELCOME_REASON,
                         reference="onboarding", now=now, share_percent=share_percent)
