"""This month: the live quizzes and courses as a player sees them, with their state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count

from portal.accounts.models import Person
from portal.content.models import Course, Lesson, Quiz
from portal.content.service import live_packs, localized
from portal.play.games import GameSummary, unfinished_games
from portal.play.models import CourseProgress, Game, GameStatus
from portal.play.scoring import is_survey


@dataclass(frozen=True)
class Card:
    """One quiz or course on the "This month" page, with its state for this person."""

    kind: str  # quiz or course
    id: int
    title: str
    description: str
    state: str  # new, in_progress, done, closed
    questions: int
    points_at_stake: int
    score: int | None
    correct: int | None
    game_id: int | None
    closes_at: datetime  # when its pack stops being live
    mandatory: bool = False
    survey: bool = False  # a quiz without right answers, earning its points for finishing

    @property
    def open(self) -> bool:
        """Still to play or finish: new or started."""
        return self.state in {"new", "in_progress"}


@dataclass(frozen=True)
class Month:
    cards: list[Card]
    unfinished: list[GameSummary]  # games abandoned, their points burned

    @property
    def still_to_earn(self) -> int:
        """The most the cards not done yet can still earn this month."""
        return sum(card.points_at_stake for card in self.cards if card.open)


async def this_month(person: Person, *, now: datetime) -> Month:
    """What the player's month holds: the live items, and the games they did not finish."""
    return Month(cards=await cards(person, now=now), unfinished=await unfinished_games(person))


async def cards(person: Person, *, now: datetime) -> list[Card]:
    """The live quizzes and courses with this person's state in each."""
    found: list[Card] = []
    for pack in await live_packs(now):
        language = (person.language, pack.default_language)
        quizzes = await Quiz.filter(pack_id=pack.id, course_id=None).annotate(
            question_count=Count("questions"))
        for quiz in quizzes:
            found.append(await _quiz_card(person, quiz, language, now, pack.live_until))
        for course in await Course.filter(pack_id=pack.id):
            found.append(await _course_card(person, course, language, pack.live_until))
    return found


async def _quiz_card(person: Person, quiz: Quiz, language: tuple[str, str], now: datetime,
                     closes_at: datetime) -> Card:
    games = await Game.filter(person_id=person.id, quiz_id=quiz.id).order_by("attempt")
    total = quiz.question_count  # type: ignore[attr-defined]  # annotated by the caller
    active = next((g for g in games if g.status == GameStatus.ACTIVE and g.deadline > now), None)
    finished = [g for g in games if g.status == GameStatus.FINISHED]
    best = max(finished, key=lambda g: g.points) if finished else None
    if active:
        state = "in_progress"
    elif best or len(games) >= quiz.attempts:
        state = "done"
    else:
        state = "new"
    return Card(
        kind="quiz", id=quiz.id, title=localized(quiz.title, *language),
        description=localized(quiz.description, *language), state=state, questions=total,
        # A survey's base_points are its points for finishing, not per answer.
        points_at_stake=quiz.base_points if is_survey(quiz.scoring) else total * quiz.base_points,
        score=best.points if best else None, correct=best.correct if best else None,
        game_id=active.id if active else (best.id if best else None), closes_at=closes_at,
        survey=is_survey(quiz.scoring),
    )


async def _course_card(person: Person, course: Course, language: tuple[str, str],
                       closes_at: datetime) -> Card:
    progress = await CourseProgress.get_or_none(person_id=person.id, course_id=course.id)
    lessons = await Lesson.filter(course_id=course.id).count()
    state = "new"
    if progress and progress.completed_at:
        state = "done"
    elif progress:
        state = "in_progress"
    return Card(
        kind="course", id=course.id, title=localized(course.title, *language),
        description=localized(course.description, *language), state=state, questions=lessons,
        points_at_stake=course.points, score=None, correct=None, game_id=None,
        closes_at=closes_at, mandatory=course.mandatory,
    )
