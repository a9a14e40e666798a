"""What a person has completed: the quizzes they finished a game of and the courses they
passed. Other capabilities ask here (a catalog item hidden until a survey is done)."""

from __future__ import annotations

from dataclasses import dataclass

from portal.play.models import CourseProgress, Game, GameStatus


@dataclass(frozen=True)
class Completed:
    quizzes: frozenset[int]
    courses: frozenset[int]

    def has(self, *, quiz_id: int | None = None, course_id: int | None = None) -> bool:
        """True when every one given is completed (nothing given: True)."""
        return ((quiz_id is None or quiz_id in self.quizzes)
                and (course_id is None or course_id in self.courses))


async def completed(person_id: int) -> Completed:
    quizzes = await Game.filter(person_id=person_id, status=GameStatus.FINISHED
                                ).distinct().values("quiz_id")
    courses = await CourseProgress.filter(person_id=person_id, completed_at__isnull=False
                                          ).values("course_id")
    return Completed(frozenset(int(row["quiz_id"]) for row in quizzes),
                     frozenset(int(row["course_id"]) for row in courses))


async def has_completed(person_id: int, *, quiz_id: int | None = None,
                        course_id: int | None = None) -> bool:
    return (await completed(person_id)).has(quiz_id=quiz_id, course_id=course_id)
