"""What players answered in the surveys, for marketing: each question's choices with how
often they were picked, and every answer as an export row. Nothing here writes."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

from portal.content.models import Question, Quiz
from portal.content.service import localized
from portal.play.errors import NotFound
from portal.play.models import Answer, Game, GameStatus
from portal.play.scoring import SURVEY


@dataclass(frozen=True)
class SurveyLine:
    id: int
    title: str
    pack: str
    completed: int  # people who finished it


async def surveys(language: str) -> list[SurveyLine]:
    """Every published survey, newest pack first, with how many finished it."""
    found = await Quiz.filter(scoring=SURVEY).select_related("pack").order_by(
        "-pack__live_from", "position")
    lines = []
    for quiz in found:
        done = await Game.filter(quiz_id=quiz.id, status=GameStatus.FINISHED
                                 ).distinct().values_list("person_id", flat=True)
        lines.append(SurveyLine(quiz.id, localized(quiz.title, language,
                                                   quiz.pack.default_language),
                                localized(quiz.pack.title, language,
                                          quiz.pack.default_language), len(done)))
    return lines


@dataclass(frozen=True)
class ChoiceCount:
    text: str
    picked: int
    percent: int  # of the people who answered the question


@dataclass(frozen=True)
class QuestionCounts:
    text: str
    multiple: bool
    answered: int
    choices: list[ChoiceCount]


@dataclass(frozen=True)
class SurveyResults:
    id: int
    title: str
    completed: int
    questions: list[QuestionCounts]


async def _survey(quiz_id: int) -> Quiz:
    quiz = await Quiz.get_or_none(id=quiz_id, scoring=SURVEY).select_related("pack")
    if quiz is None:
        raise NotFound()
    return quiz


async def results(quiz_id: int, language: str) -> SurveyResults:
    """How often each choice was picked, counting the answers of finished surveys only (a
    survey left halfway is not a response)."""
    quiz = await _survey(quiz_id)
    default = quiz.pack.default_language
    games = await Game.filter(quiz_id=quiz.id, status=GameStatus.FINISHED).values_list(
        "id", flat=True)
    answers = await Answer.filter(game_id__in=list(games)).values("question_id", "chosen")
    picked: dict[int, Counter[int]] = {}
    answered: Counter[int] = Counter()
    for row in answers:
        if row["chosen"]:
            answered[row["question_id"]] += 1
            picked.setdefault(row["question_id"], Counter()).update(row["chosen"])
    questions = []
    for question in await Question.filter(quiz_id=quiz.id).order_by("position"):
        counts = picked.get(question.id, Counter())
        total = answered[question.id]
        questions.append(QuestionCounts(
            text=localized(question.text, language, default),
            multiple=question.type == "multiple", answered=total,
            choices=[ChoiceCount(localized(choice["text"], language, default), counts[i],
                                 counts[i] * 100 // total if total else 0)
                     for i, choice in enumerate(question.choices)]))
    return SurveyResults(quiz.id, localized(quiz.title, language, default), len(games),
                         questions)


EXPORT_HEADER = ("answered_at", "person", "outlet", "question", "choices")


async def export_rows(quiz_id: int, *, batch: int = 1000
                      ) -> AsyncIterator[tuple[str, ...]]:
    """Every answer of a finished survey, in the pack's language: who (display name), from
    which outlet, the question and the choices picked ("; " between several)."""
    quiz = await _survey(quiz_id)
    default = quiz.pack.default_language
    questions = {q.id: q for q in await Question.filter(quiz_id=quiz.id)}
    after = 0
    while True:
        rows = await (Answer.filter(game__quiz_id=quiz.id, game__status=GameStatus.FINISHED,
                                    id__gt=after)
                      .select_related("game__person__outlet").order_by("id").limit(batch))
        if not rows:
            return
        for answer in rows:
            question = questions[answer.question_id]
            person = answer.game.person
            yield (answer.answered_at.isoformat(), person.display_name,
                   person.outlet.name if person.outlet else "",
                   localized(question.text, default, default),
                   "; ".join(localized(question.choices[i]["text"], default, default)
                             for i in answer.chosen if i < len(question.choices)))
        after = rows[-1].id
