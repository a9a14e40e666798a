"""A game: starting or resuming a quiz, its timed questions, answers, leaving and results.

The server keeps the clock. A question's clock starts when it is first sent and is kept in
the game row, so a refresh, a second tab or a lost connection resumes the same question
with the time that remains. Nothing sent before an answer says which choice is correct.
A game's points are credited through the ledger when its last question is answered, in
the same transaction, once per quiz and person whatever is retried.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from portal.accounts.models import Person
from portal.content.models import Question, Quiz
from portal.content.service import is_live, localized
from portal.db import write_transaction
from portal.i18n import N_
from portal.ledger import service as ledger
from portal.ledger.models import Account
from portal.play import courses, gamesql
from portal.play.awards import award_key, credit, quiz_reason, survey_reason
from portal.play.errors import NotFound, PlayError
from portal.play.models import Game, GameStatus
from portal.play.scoring import answer_grace_ms, answer_points, in_time, is_survey
from portal.settings import Settings

# A choice as the player was shown it: packs give a question at most eight.
ChoicePosition = Annotated[int, Field(ge=0, le=7)]


@dataclass(frozen=True)
class Rules:
    grace_seconds: int  # the most network grace a question gets (scoring.answer_grace_ms)
    extra_minutes: int
    welcome_bonus: int
    company_share_percent: int = 0  # of each award, to the player's company

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        return cls(grace_seconds=settings.answer_grace_seconds,
                   extra_minutes=settings.game_extra_minutes,
                   welcome_bonus=settings.welcome_bonus,
                   company_share_percent=settings.company_share_percent)

    def grace_ms(self, time_limit: int) -> int:
        return answer_grace_ms(time_limit, at_most_seconds=self.grace_seconds)


class AnswerOutcome(StrEnum):
    """What became of an answer. Only CORRECT is counted and earns points."""

    CORRECT = "correct"
    WRONG = "wrong"
    TIMED_OUT = "timed_out"  # no choice: the time ran out, or the player gave up
    TOO_LATE = "too_late"  # a choice that arrived after the limit plus the grace
    ACCEPTED = "accepted"  # a survey's answer: recorded, neither right nor wrong


@dataclass(frozen=True)
class ChoiceView:
    position: int  # what the browser sends back; maps to an authored choice per game
    text: str


@dataclass(frozen=True)
class QuestionView:
    game_id: int
    quiz_title: str
    number: int  # 1-based
    total: int
    question_id: int
    type: str
    text: str
    image: str | None
    image_alt: str  # what the image shows, in the player's language
    choices: list[ChoiceView]
    time_limit: int
    remaining: float  # seconds, by the server's clock
    points_so_far: int


@dataclass(frozen=True)
class AnswerResult:
    game_id: int
    question_id: int
    correct: bool
    timed_out: bool
    outcome: AnswerOutcome
    points: int
    correct_positions: list[int]  # revealed only now, as the player saw them
    chosen_positions: list[int]
    explanation: str
    finished: bool
    question: QuestionView  # as it was shown, for a page that shows it with its answer


@dataclass(frozen=True)
class GameSummary:
    game_id: int
    quiz_id: int
    quiz_title: str
    status: GameStatus
    total: int
    correct: int
    points: int  # speed points of this game
    credited: int  # what the ledger credited for it (0 for a later attempt)
    passed: bool | None  # course final quizzes only
    course_id: int | None
    survey: bool  # no right answers: every answer accepted, finishing earns the points


# -- starting and resuming ----------------------------------------------------------------


async def start(person: Person, quiz_id: int, *, now: datetime, rules: Rules) -> Game:
    """The person's game on this quiz: the unfinished one if any, else a new attempt."""
    quiz = await Quiz.get_or_none(id=quiz_id).select_related("pack")
    if quiz is None:
        raise NotFound()
    if not is_live(quiz.pack, now=now):
        raise PlayError(N_("This quiz is not open now."))
    await expire_games(now, person_id=person.id)
    # Counted before looking for the open game: a racing start whose game this count sees
    # is then found open below, never taken for "already played" or for an earlier attempt.
    played = await Game.filter(person_id=person.id, quiz_id=quiz.id).count()
    active = await Game.get_or_none(person_id=person.id, quiz_id=quiz.id,
                                    status=GameStatus.ACTIVE)
    if active is not None:
        return active
    if quiz.course_id is not None:
        await courses.check_final_quiz(person, quiz.course_id)
    if played >= quiz.attempts:
        raise PlayError(N_("You have already played this quiz."))
    try:
        async with write_transaction() as conn:
            # The quiz row is locked while the game is made from its questions, so a
            # republish cannot swap the questions in between (publishing locks it too).
            await Quiz.filter(id=quiz.id).using_db(conn).select_for_update().first()
            questions = await Question.filter(quiz_id=quiz.id).using_db(conn).order_by(
                "position")
            return await Game.create(using_db=conn, **_new_game(
                person, quiz, questions, attempt=played + 1, now=now, rules=rules))
    except IntegrityError:
        # A second tab started the same attempt at the same moment: use that game.
        return await Game.get(person_id=person.id, quiz_id=quiz.id, attempt=played + 1)


def _new_game(person: Person, quiz: Quiz, questions: list[Question], *, attempt: int,
              now: datetime, rules: Rules) -> dict[str, object]:
    rng = random.Random(secrets.randbits(64))
    order = [q.id for q in questions]
    choice_order = {str(q.id): list(range(len(q.choices))) for q in questions}
    if quiz.shuffle:
        rng.shuffle(order)
        for question in questions:
            if question.type != "true_false":
                rng.shuffle(choice_order[str(question.id)])
    window = len(order) * (quiz.time_limit * 1000 + rules.grace_ms(quiz.time_limit))
    return {"person_id": person.id, "quiz_id": quiz.id, "attempt": attempt,
            "question_order": order, "choice_order": choice_order, "started_at": now,
            "deadline": now + timedelta(milliseconds=window, minutes=rules.extra_minutes)}


def _elapsed_ms(sent_at: datetime, now: datetime) -> int:
    """Whole milliseconds (rounded down) since a question was sent: what is stored, and
    what every "in time?" decision reads."""
    return (now - sent_at) // timedelta(milliseconds=1)


async def _owned_game(person: Person, game_id: int) -> Game:
    game = await Game.get_or_none(id=game_id, person_id=person.id)  # scoped to its owner
    if game is None:
        raise NotFound()
    return game


async def _read(person: Person, game_id: int, question_id: int | None = None
                ) -> gamesql.Found:
    """The person's game, its quiz and a question (the current one when None), in one
    statement (``gamesql``): another person's game is NotFound."""
    found = await gamesql.read(person.id, game_id, question_id)
    if found is None:
        raise NotFound()
    return found


async def current_question(person: Person, game_id: int, *, now: datetime,
                           rules: Rules, found: gamesql.Found | None = None
                           ) -> QuestionView | None:
    """The question the player is on, starting its clock the first time it is shown.

    None when the game is over. A question whose time ran out while the player was away
    is recorded as unanswered (0 points) and the next one is shown. ``found``: the game
    already read with the session (``gamesql.with_session``), for the current question.
    """
    found = found or await _read(person, game_id)
    while True:
        game, quiz, question = found.game, found.quiz, found.question
        if await _expire_if_late(game, now) or question is None:
            return None
        sent_at = game.sent_at
        if sent_at is None:
            # The first view starts the clock; a second tab at the same moment keeps it.
            if not await gamesql.show(game, now):
                found = await _read(person, game_id)
                continue
            sent_at = now
        # The same test answer() makes: a question still shown can still be answered.
        if in_time(_elapsed_ms(sent_at, now), time_limit=quiz.time_limit,
                   grace_ms=rules.grace_ms(quiz.time_limit)):
            remaining = quiz.time_limit - (now - sent_at).total_seconds()
            return _shown(person, game, quiz, question, remaining=remaining)
        await answer(person, game.id, question.id, [], now=now, rules=rules)
        found = await _read(person, game_id)


def _shown(person: Person, game: gamesql.GameRow, quiz: gamesql.QuizRow,
           question: gamesql.QuestionRow, *, remaining: float) -> QuestionView:
    """A question of the game as the player sees it: their language, the game's order of
    choices, and nothing that says which is correct."""
    language, default = person.language, quiz.default_language
    order = question.order
    return QuestionView(
        game_id=game.id,
        quiz_title=localized(quiz.title, language, default),
        number=game.question_order.index(question.id) + 1,
        total=len(game.question_order),
        question_id=question.id,
        type=question.type,
        text=localized(question.text, language, default),
        image=question.image,
        image_alt=localized(question.image_alt, language, default),
        choices=[ChoiceView(position,
                            localized(question.choices[authored]["text"], language, default))
                 for position, authored in enumerate(order)],
        time_limit=quiz.time_limit,
        remaining=max(0.0, remaining),
        points_so_far=game.points,
    )


# -- answering ----------------------------------------------------------------------------


async def answer(person: Person, game_id: int, question_id: int, positions: list[int], *,
                 now: datetime, rules: Rules, found: gamesql.Found | None = None
                 ) -> AnswerResult:
    """Records the answer to the current question (once: a repeat returns the first).

    One read (the game, its quiz, the question and any answer already given to it) and
    one transaction: the guarded step of the game and the answer's row, with the game's
    end and its award on the last question. ``found``: that read, already made with the
    session (``gamesql.with_session``, for ``question_id``).
    """
    found = found or await _read(person, game_id, question_id)
    game, quiz, question = found.game, found.quiz, found.question
    if found.answer is not None and question is not None:
        return _result_of(person, game, quiz, question, found.answer, rules)
    if game.status != GameStatus.ACTIVE:
        raise PlayError(N_("This game is over."))
    if question is None or game.current >= len(game.question_order) or (
            game.question_order[game.current] != question_id):
        raise PlayError(N_("This is not the question you are on. Reload the page."))
    if game.sent_at is None:
        raise PlayError(N_("This question has not been shown yet."))
    order = question.order
    if any(p not in range(len(order)) for p in positions) or len(set(positions)) != len(
            positions):
        raise PlayError(N_("Choose one of the offered answers."))
    if question.type != "multiple" and len(positions) > 1:
        raise PlayError(N_("Choose one answer."))
    chosen = sorted(order[p] for p in positions)
    right = sorted(i for i, choice in enumerate(question.choices) if choice["correct"])
    elapsed_ms = _elapsed_ms(game.sent_at, now)
    grace_ms = rules.grace_ms(quiz.time_limit)
    # Too late is not correct: it earns nothing, is not counted and passes no course. A
    # survey has no right answer: whatever is chosen is accepted, and none is "correct".
    correct = not is_survey(quiz.scoring) and bool(chosen) and chosen == right and in_time(
        elapsed_ms, time_limit=quiz.time_limit, grace_ms=grace_ms)
    points = answer_points(correct=correct, elapsed_ms=elapsed_ms, time_limit=quiz.time_limit,
                           base_points=quiz.base_points, grace_ms=grace_ms,
                           scoring=quiz.scoring)
    stored = gamesql.AnswerRow(question_id=question.id, chosen=chosen, elapsed_ms=elapsed_ms,
                               correct=correct, points=points)
    moved = replace(game, current=game.current + 1, sent_at=None,
                    correct=game.correct + int(correct), points=game.points + points)
    try:
        if moved.current < len(game.question_order):
            # Claim the step (only one request moves the game past this question) and
            # store the answer: one durable commit in one round trip.
            if not await gamesql.record(game, stored, now=now):
                raise _Lost()
        else:
            async with write_transaction() as conn:
                if not await gamesql.step(conn, game, correct=correct, points=points,
                                          now=now):
                    raise _Lost()
                await gamesql.insert_answer(conn, game.id, stored, now=now)
                moved = await _finish(conn, person, moved, now, rules)
    except (_Lost, IntegrityError):
        # A double tap or a second tab answered first: answer as that one did. If nobody
        # did, the game ended meanwhile (its deadline, the expiry job, or leaving).
        again = await _read(person, game_id, question_id)
        if again.answer is None:
            await _expire_if_late(again.game, now)
            raise PlayError(N_("This game is over.")) from None
        return _result_of(person, again.game, quiz, question, again.answer, rules)
    return _result_of(person, moved, quiz, question, stored, rules)


class _Lost(Exception):
    """Another request already moved the game on."""


def _result_of(person: Person, game: gamesql.GameRow, quiz: gamesql.QuizRow,
               question: gamesql.QuestionRow, stored: gamesql.AnswerRow, rules: Rules
               ) -> AnswerResult:
    """The reply to an answer, the first time and on every replay alike.

    ``game`` is the game as the answer left it (or as read together with the answer: the
    answer and the game's end commit together, so they are read together too).
    """
    order = question.order
    survey = is_survey(quiz.scoring)
    if not stored.chosen:
        outcome = AnswerOutcome.TIMED_OUT
    elif survey:
        outcome = AnswerOutcome.ACCEPTED
    elif stored.correct:
        outcome = AnswerOutcome.CORRECT
    elif in_time(stored.elapsed_ms, time_limit=quiz.time_limit,
                 grace_ms=rules.grace_ms(quiz.time_limit)):
        outcome = AnswerOutcome.WRONG
    else:
        outcome = AnswerOutcome.TOO_LATE
    return AnswerResult(
        game_id=game.id,
        question_id=question.id,
        correct=stored.correct,
        timed_out=outcome == AnswerOutcome.TIMED_OUT,
        outcome=outcome,
        points=stored.points,
        correct_positions=[] if survey else [p for p, authored in enumerate(order)
                                             if question.choices[authored]["correct"]],
        chosen_positions=[p for p, authored in enumerate(order) if authored in stored.chosen],
        explanation=localized(question.explanation, person.language, quiz.default_language),
        finished=game.status != GameStatus.ACTIVE,
        question=_shown(person, game, quiz, question, remaining=0.0),
    )


def _reference(game_id: int) -> str:
    """What a quiz's award names as its cause: the game that earned it."""
    return f"game:{game_id}"


def _passed(game: Game | gamesql.GameRow, quiz: Quiz) -> bool | None:
    """Whether the game's correct answers reach the quiz's pass mark (course final
    quizzes); None for a quiz without one."""
    if quiz.pass_mark is None:
        return None
    return game.correct * 100 >= quiz.pass_mark * len(game.question_order)


async def _finish(conn: BaseDBAsyncClient, person: Person, game: gamesql.GameRow,
                  now: datetime, rules: Rules) -> gamesql.GameRow:
    """Ends the game with its last answer, in that answer's transaction, and credits what
    it earned; ``game`` is the game as that answer left it. Returns the game as it ends."""
    quiz = await Quiz.filter(id=game.quiz_id).using_db(conn).select_related("pack").get()
    # Only the first game started on a quiz earns points, finished or not: a player who
    # saw answers and left cannot replay for more. The key also says: once per quiz.
    first = game.attempt == 1
    survey = is_survey(quiz.scoring)
    if survey and first and quiz.base_points > 0:
        # Finishing a survey earns its fixed points, once per survey and person; the game
        # shows them as its points.
        game = replace(game, points=quiz.base_points)
    game = replace(game, status=GameStatus.FINISHED)
    await Game.filter(id=game.id).using_db(conn).update(status=game.status, finished_at=now,
                                                        points=game.points)
    await ledger.mark_active(conn, person.id, now=now)
    account = await Account.filter(person_id=person.id).using_db(conn).get()
    if first and game.points > 0:
        reason = (survey_reason(quiz, default_language=quiz.pack.default_language) if survey
                  else quiz_reason(quiz, default_language=quiz.pack.default_language,
                                   correct=game.correct, total=len(game.question_order)))
        await credit(conn, person, account, amount=game.points,
                     key=award_key(person.id, quiz), reason=reason,
                     reference=_reference(game.id), now=now,
                     share_percent=rules.company_share_percent)
    if quiz.course_id is not None and _passed(game, quiz):
        await courses.complete(person, quiz.course_id, account=account, now=now,
                               welcome_bonus=rules.welcome_bonus, conn=conn,
                               share_percent=rules.company_share_percent)
    return game


# -- leaving, expiry and results ----------------------------------------------------------


async def leave(person: Person, game_id: int, *, now: datetime) -> GameSummary:
    """The player chose to stop: the game is abandoned and its points burn."""
    game = await _owned_game(person, game_id)
    await Game.filter(id=game.id, status=GameStatus.ACTIVE).update(
        status=GameStatus.ABANDONED, finished_at=now)
    return await summary(person, game_id)


async def _expire_if_late(game: Game | gamesql.GameRow, now: datetime) -> bool:
    if game.status == GameStatus.ACTIVE and game.deadline <= now:
        await Game.filter(id=game.id, status=GameStatus.ACTIVE).update(
            status=GameStatus.ABANDONED, finished_at=game.deadline)
        return True
    return game.status != GameStatus.ACTIVE


async def expire_games(now: datetime, *, person_id: int | None = None) -> int:
    """Abandons every unfinished game past its deadline (its provisional points burn:
    nothing is credited). Safe to run twice or concurrently: one conditional update."""
    query = Game.filter(status=GameStatus.ACTIVE, deadline__lte=now)
    if person_id is not None:
        query = query.filter(person_id=person_id)
    return await query.update(status=GameStatus.ABANDONED, finished_at=now)


async def summary(person: Person, game_id: int) -> GameSummary:
    """The game's result (or its state while it runs), with what the ledger credited."""
    game = await _owned_game(person, game_id)
    quiz = await Quiz.get(id=game.quiz_id).select_related("pack")
    credit = await ledger.transfer_by_key(award_key(person.id, quiz))
    # The quiz's award is this game's only if it names this game (a later attempt earns none).
    earned = credit is not None and credit.reference == _reference(game.id)
    return _summary_of(person, game, quiz, credited=credit.amount if credit and earned else 0)


def _summary_of(person: Person, game: Game, quiz: Quiz, *, credited: int) -> GameSummary:
    return GameSummary(
        game_id=game.id, quiz_id=quiz.id,
        quiz_title=localized(quiz.title, person.language, quiz.pack.default_language),
        status=GameStatus(game.status), total=len(game.question_order), correct=game.correct,
        points=game.points, credited=credited,
        passed=_passed(game, quiz) if game.status == GameStatus.FINISHED else None,
        course_id=quiz.course_id, survey=is_survey(quiz.scoring),
    )


async def unfinished_games(person: Person) -> list[GameSummary]:
    """Abandoned games, newest first: their points burned, and the history says so."""
    games = await Game.filter(person_id=person.id, status=GameStatus.ABANDONED).order_by(
        "-finished_at").limit(20).select_related("quiz__pack")
    # Nothing was credited for any: a game's points are credited only as it finishes.
    return [_summary_of(person, game, game.quiz, credited=0) for game in games]
