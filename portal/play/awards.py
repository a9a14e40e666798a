"""The ledger keys and reasons of play's awards: once per item and person, whatever is
retried, and said in the reader's language.

A key names what the points are for (a quiz, a course, the welcome bonus) and whom, so a
replayed finish pays nothing more. It is built here only: by the games and courses that
credit, and by a game's result, which asks the ledger what was credited under it.
"""

from __future__ import annotations

from typing import Final, Literal

from portal.content.models import Course, Quiz
from portal.i18n import N_
from portal.ledger.reasons import Reason

WELCOME: Final = "welcome"  # the onboarding bonus: once per person, ever


def award_key(person_id: int, item: Quiz | Course | Literal["welcome"]) -> str:
    if isinstance(item, Quiz):
        return f"quiz:{item.id}:person:{person_id}"
    if isinstance(item, Course):
        return f"course:{item.id}:person:{person_id}"
    return f"{WELCOME}:person:{person_id}"


def _titles(texts: dict[str, str], default: str) -> dict[str, str]:
    """A content title in every language it has, the pack's default language first (the
    one shown to a reader whose language the title lacks, English aside)."""
    return dict(sorted(texts.items(), key=lambda item: item[0] != default))


def quiz_reason(quiz: Quiz, *, default_language: str, correct: int, total: int) -> Reason:
    return Reason(N_("Quiz: %(title)s (%(correct)s of %(total)s correct)"),
                  title=_titles(quiz.title, default_language), correct=correct, total=total)


def survey_reason(quiz: Quiz, *, default_language: str) -> Reason:
    return Reason(N_("Survey completed: %(title)s"),
                  title=_titles(quiz.title, default_language))


def course_reason(course: Course, *, default_language: str) -> Reason:
    return Reason(N_("Course completed: %(title)s"),
                  title=_titles(course.title, default_language))


WELCOME_REASON: Final = Reason(N_("Welcome bonus: onboarding courses completed"))
