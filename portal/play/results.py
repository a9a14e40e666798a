"""A game's result as the player reads it when it ends: every point it really credited
(the quiz's, and the course's and the welcome bonus when it completed a course), and the
questions missed, with the right answer and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.accounts.models import Person
from portal.content.models import Course, Question, Quiz
from portal.content.service import localized
from portal.ledger.reads import TransferResult, transfer_by_key
from portal.play.awards import WELCOME, award_key
from portal.play.games import GameSummary, summary
from portal.play.models import Answer, Game, GameStatus


@dataclass(frozen=True)
class Credited:
    """What the ledger credited for this game, by what for."""

    quiz: int = 0
    course: int = 0
    welcome: int = 0

    @property
    def total(self) -> int:
        return self.quiz + self.course + self.welcome


@dataclass(frozen=True)
class Missed:
    """A question answered wrongly or too late: what was right, what the player chose,
    and why."""

    number: int  # 1-based, in the order the player got the questions
    question: str
    right: list[str]
    chosen: list[str]  # empty: no answer in time
    explanation: str


@dataclass(frozen=True)
class GameResult:
    summary: GameSummary
    credited: Credited
    finished_at: datetime | None
    missed: list[Missed]  # empty while the game runs: its answers are shown one by one


async def game_result(person: Person, game_id: int) -> GameResult:
    found = await summary(person, game_id)  # owned by the person, or NotFound
    game = await Game.get(id=game_id)
    credited = Credited(quiz=found.credited)
    if found.passed and found.course_id is not None and game.finished_at is not None:
        course = await Course.get(id=found.course_id)
        # The course and the welcome bonus are credited as the passing game finishes, in
        # its transaction and at its moment: a bonus of another moment came from another
        # course.
        course_credit = await transfer_by_key(award_key(person.id, course))
        welcome = await transfer_by_key(award_key(person.id, WELCOME))
        credited = Credited(quiz=found.credited,
                            course=_at(course_credit, game.finished_at),
                            welcome=_at(welcome, game.finished_at))
    # A survey has nothing to miss: no answer is right or wrong.
    missed = [] if game.status == GameStatus.ACTIVE or found.survey else await _missed(
        person, game)
    return GameResult(summary=found, credited=credited, finished_at=game.finished_at,
                      missed=missed)


def _at(credit: TransferResult | None, moment: datetime) -> int:
    return credit.amount if credit is not None and credit.created_at == moment else 0


async def _missed(person: Person, game: Game) -> list[Missed]:
    quiz = await Quiz.get(id=game.quiz_id).select_related("pack")
    language, default = person.language, quiz.pack.default_language
    answers = {a.question_id: a for a in await Answer.filter(game_id=game.id)}
    questions = {q.id: q for q in await Question.filter(id__in=game.question_order)}
    missed = []
    for number, question_id in enumerate(game.question_order, start=1):
        answer = answers.get(question_id)
        question = questions.get(question_id)
        # A question never answered (the game was left) keeps its answer: it is shown
        # only for what the player already saw revealed, one answer at a time.
        if question is None or answer is None or answer.correct:
            continue
        chosen = answer.chosen
        missed.append(Missed(
            number=number, question=localized(question.text, language, default),
            right=[localized(c["text"], language, default) for c in question.choices
                   if c["correct"]],
            chosen=[localized(question.choices[i]["text"], language, default)
                    for i in chosen if i < len(question.choices)],
            explanation=localized(question.explanation, language, default)))
    return missed
