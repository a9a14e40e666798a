"""The game: starting and resuming quizzes, timed questions, answers, results, courses.

The server keeps the clock. A question's clock starts when it is first sent and is kept in
the game row, so a refresh, a second tab or a lost connection resumes the same question
with the time that remains. Nothing sent before an answer says which choice is correct.
A game's points are credited through the ledger when its last question is answered, in
the same transaction, once per quiz and person whatever is retried.
"""

from __future__ import annotations

import contextlib
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Count

from portal.accounts.models import Person
from portal.content.models import Course, Lesson, Pack, Question, Quiz
from portal.content.service import live_packs, localized
from portal.db import write_transaction
from portal.i18n import N_, Refusal
from portal.ledger import service as ledger
from portal.ledger.models import Account
from portal.play.models import Answer, CourseProgress, Game, GameStatus
from portal.play.scoring import answer_grace_ms, answer_points, in_time


class PlayError(Refusal):
    """A game action was refused; the message says why."""


class NotFound(PlayError):
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("This game or quiz does not exist."))


@dataclass(frozen=True)
class Rules:
    grace_seconds: int  # the most network grace a question gets (scoring.answer_grace_ms)
    extra_minutes: int
    welcome_bonus: int

    def grace_ms(self, time_limit: int) -> int:
        return answer_grace_ms(time_limit, at_most_seconds=self.grace_seconds)


class AnswerOutcome(StrEnum):
    """What became of an answer. Only CORRECT is counted and earns points."""

    CORRECT = "correct"
    WRONG = "wrong"
    TIMED_OUT = "timed_out"  # no choice: the time ran out, or the player gave up
    TOO_LATE = "too_late"  # a choice that arrived after the limit plus the grace


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
    mandatory: bool = False


def _language(person: Person, pack: Pack) -> tuple[str, str]:
    return person.language, pack.default_language


# -- what is live -------------------------------------------------------------------------


async def this_month(person: Person, *, now: datetime) -> list[Card]:
    """The live quizzes and courses with this person's state in each."""
    packs = await live_packs(now)
    cards: list[Card] = []
    for pack in packs:
        lang = _language(person, pack)
        quizzes = await Quiz.filter(pack_id=pack.id, course_id=None).annotate(
            question_count=Count("questions"))
        for quiz in quizzes:
            cards.append(await _quiz_card(person, quiz, lang, now))
        for course in await Course.filter(pack_id=pack.id):
            cards.append(await _course_card(person, course, lang))
    return cards


async def _quiz_card(person: Person, quiz: Quiz, lang: tuple[str, str], now: datetime) -> Card:
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
        kind="quiz", id=quiz.id, title=localized(quiz.title, *lang),
        description=localized(quiz.description, *lang), state=state, questions=total,
        points_at_stake=total * quiz.base_points,
        score=best.points if best else None, correct=best.correct if best else None,
        game_id=active.id if active else (best.id if best else None),
    )


async def _course_card(person: Person, course: Course, lang: tuple[str, str]) -> Card:
    progress = await CourseProgress.get_or_none(person_id=person.id, course_id=course.id)
    lessons = await Lesson.filter(course_id=course.id).count()
    state = "new"
    if progress and progress.completed_at:
        state = "done"
    elif progress:
        state = "in_progress"
    return Card(
        kind="course", id=course.id, title=localized(course.title, *lang),
        description=localized(course.description, *lang), state=state, questions=lessons,
        points_at_stake=course.points, score=None, correct=None, game_id=None,
        mandatory=course.mandatory,
    )


async def live_quiz(quiz_id: int, *, now: datetime) -> Quiz:
    quiz = await Quiz.get_or_none(id=quiz_id).select_related("pack")
    if quiz is None:
        raise NotFound()
    if not quiz.pack.live_from <= now < quiz.pack.live_until:
        raise PlayError(N_("This quiz is not open now."))
    return quiz


# -- starting and resuming ----------------------------------------------------------------


async def start(person: Person, quiz_id: int, *, now: datetime, rules: Rules) -> Game:
    """The person's game on this quiz: the unfinished one if any, else a new attempt."""
    quiz = await live_quiz(quiz_id, now=now)
    await expire_games(now, person_id=person.id)
    active = await Game.get_or_none(person_id=person.id, quiz_id=quiz.id,
                                    status=GameStatus.ACTIVE)
    if active is not None:
        return active
    if quiz.course_id is not None:
        progress = await CourseProgress.get_or_none(person_id=person.id,
                                                    course_id=quiz.course_id)
        lessons = set(await Lesson.filter(course_id=quiz.course_id).values_list(
            "slug", flat=True))
        if progress is None or not lessons <= set(progress.lessons_done):
            raise PlayError(N_("Read every lesson of the course before its final quiz."))
        if progress.completed_at is not None:
            raise PlayError(N_("You have already completed this course."))
    played = await Game.filter(person_id=person.id, quiz_id=quiz.id).count()
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


async def current_question(person: Person, game_id: int, *, now: datetime,
                           rules: Rules) -> QuestionView | None:
    """The question the player is on, starting its clock the first time it is shown.

    None when the game is over. A question whose time ran out while the player was away
    is recorded as unanswered (0 points) and the next one is shown.
    """
    game = await _owned_game(person, game_id)
    if await _expire_if_late(game, now):
        return None
    quiz = await Quiz.get(id=game.quiz_id).select_related("pack")
    while game.status == GameStatus.ACTIVE:
        if game.sent_at is None:
            # The first view starts the clock; a second tab at the same moment keeps it.
            await Game.filter(id=game.id, current=game.current, sent_at__isnull=True).update(
                sent_at=now)
            game = await Game.get(id=game.id)
        assert game.sent_at is not None
        # The same test answer() makes: a question still shown can still be answered.
        if in_time(_elapsed_ms(game.sent_at, now), time_limit=quiz.time_limit,
                   grace_ms=rules.grace_ms(quiz.time_limit)):
            return await _question_view(person, game, quiz, now)
        await answer(person, game.id, game.question_order[game.current], [], now=now,
                     rules=rules)
        game = await Game.get(id=game.id)
    return None


async def _question_view(person: Person, game: Game, quiz: Quiz, now: datetime
                         ) -> QuestionView:
    question = await Question.get(id=game.question_order[game.current])
    lang = _language(person, quiz.pack)
    order = game.choice_order[str(question.id)]
    assert game.sent_at is not None
    remaining = quiz.time_limit - (now - game.sent_at).total_seconds()
    return QuestionView(
        game_id=game.id,
        quiz_title=localized(quiz.title, *lang),
        number=game.current + 1,
        total=len(game.question_order),
        question_id=question.id,
        type=question.type,
        text=localized(question.text, *lang),
        image=question.image,
        choices=[ChoiceView(position, localized(question.choices[authored]["text"], *lang))
                 for position, authored in enumerate(order)],
        time_limit=quiz.time_limit,
        remaining=max(0.0, remaining),
        points_so_far=game.points,
    )


# -- answering ----------------------------------------------------------------------------


async def answer(person: Person, game_id: int, question_id: int, positions: list[int], *,
                 now: datetime, rules: Rules) -> AnswerResult:
    """Records the answer to the current question (once: a repeat returns the first)."""
    game = await _owned_game(person, game_id)
    previous = await Answer.get_or_none(game_id=game.id, question_id=question_id)
    if previous is not None:
        return await _result_of(person, game.id, previous, rules)
    if game.status != GameStatus.ACTIVE:
        raise PlayError(N_("This game is over."))
    if game.current >= len(game.question_order) or (
            game.question_order[game.current] != question_id):
        raise PlayError(N_("This is not the question you are on. Reload the page."))
    if game.sent_at is None:
        raise PlayError(N_("This question has not been shown yet."))
    quiz = await Quiz.get(id=game.quiz_id).select_related("pack")
    question = await Question.get(id=question_id)
    order = game.choice_order[str(question.id)]
    if any(p not in range(len(order)) for p in positions) or len(set(positions)) != len(
            positions):
        raise PlayError(N_("Choose one of the offered answers."))
    if question.type != "multiple" and len(positions) > 1:
        raise PlayError(N_("Choose one answer."))
    chosen = sorted(order[p] for p in positions)
    right = sorted(i for i, choice in enumerate(question.choices) if choice["correct"])
    elapsed_ms = _elapsed_ms(game.sent_at, now)
    grace_ms = rules.grace_ms(quiz.time_limit)
    # Too late is not correct: it earns nothing, is not counted and passes no course.
    correct = bool(chosen) and chosen == right and in_time(
        elapsed_ms, time_limit=quiz.time_limit, grace_ms=grace_ms)
    points = answer_points(correct=correct, elapsed_ms=elapsed_ms, time_limit=quiz.time_limit,
                           base_points=quiz.base_points, grace_ms=grace_ms,
                           scoring=quiz.scoring)
    last = game.current + 1 == len(game.question_order)
    try:
        async with write_transaction() as conn:
            # Claim the step: only one request moves the game past this question.
            moved = await Game.filter(id=game.id, current=game.current,
                                      status=GameStatus.ACTIVE,
                                      deadline__gt=now).using_db(conn).update(
                current=game.current + 1, sent_at=None, correct=F("correct") + int(correct),
                points=F("points") + points)
            if moved != 1:
                raise _Lost()
            stored = await Answer.create(
                game_id=game.id, question_id=question.id, chosen=chosen, answered_at=now,
                elapsed_ms=elapsed_ms, correct=correct, points=points, using_db=conn)
            if last:
                await _finish(conn, person, game.id, quiz, now, rules)
    except (_Lost, IntegrityError):
        # A double tap or a second tab answered first: answer as that one did. If nobody
        # did, the game ended meanwhile (its deadline, the expiry job, or leaving).
        found = await Answer.get_or_none(game_id=game.id, question_id=question_id)
        if found is None:
            await _expire_if_late(await Game.get(id=game.id), now)
            raise PlayError(N_("This game is over.")) from None
        stored = found
    return await _result_of(person, game.id, stored, rules)


class _Lost(Exception):
    """Another request already moved the game on."""


async def _result_of(person: Person, game_id: int, stored: Answer, rules: Rules
                     ) -> AnswerResult:
    """The reply to an answer, the first time and on every replay alike.

    The game is read after the answer: the answer and the game's end commit together, so
    a game read before could still look unfinished when its last answer is already in.
    """
    game = await Game.get(id=game_id)
    question = await Question.get(id=stored.question_id)
    quiz = await Quiz.get(id=game.quiz_id).select_related("pack")
    order = game.choice_order[str(question.id)]
    if not stored.chosen:
        outcome = AnswerOutcome.TIMED_OUT
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
        correct_positions=[p for p, authored in enumerate(order)
                           if question.choices[authored]["correct"]],
        chosen_positions=[p for p, authored in enumerate(order) if authored in stored.chosen],
        explanation=localized(question.explanation, *_language(person, quiz.pack)),
        finished=game.status != GameStatus.ACTIVE,
    )


async def _finish(conn: BaseDBAsyncClient, person: Person, game_id: int, quiz: Quiz,
                  now: datetime, rules: Rules) -> None:
    await Game.filter(id=game_id).using_db(conn).update(status=GameStatus.FINISHED,
                                                        finished_at=now)
    await ledger.mark_active(conn, person.id, now=now)
    game = await Game.filter(id=game_id).using_db(conn).get()
    account = await Account.filter(person_id=person.id).using_db(conn).get()
    title = localized(quiz.title, "en", quiz.pack.default_language)
    # Only the first game started on a quiz earns points, finished or not: a player who
    # saw answers and left cannot replay for more. The key also says: once per quiz.
    first = game.attempt == 1
    if first and game.points > 0:
        await ledger.earn(
            account, amount=game.points, key=f"quiz:{quiz.id}:person:{person.id}",
            reason=f"Quiz: {title} ({game.correct} of {len(game.question_order)} correct)",
            reference=f"game:{game.id}", now=now, conn=conn)
    if (quiz.course_id is not None and quiz.pass_mark is not None
            and game.correct * 100 >= quiz.pass_mark * len(game.question_order)):
        await _complete_course(conn, person, account, quiz.course_id, now, rules)


async def _complete_course(conn: BaseDBAsyncClient, person: Person, account: Account,
                           course_id: int, now: datetime, rules: Rules) -> None:
    completed = await CourseProgress.filter(
        person_id=person.id, course_id=course_id, completed_at__isnull=True
    ).using_db(conn).update(completed_at=now, certificate_code=secrets.token_hex(5).upper())
    if completed != 1:
        return
    course = await Course.filter(id=course_id).using_db(conn).select_related("pack").get()
    title = localized(course.title, "en", course.pack.default_language)
    if course.points > 0:
        await ledger.earn(account, amount=course.points,
                          key=f"course:{course.id}:person:{person.id}",
                          reason=f"Course completed: {title}", reference=f"course:{course.id}",
                          now=now, conn=conn)
    if course.mandatory and rules.welcome_bonus > 0:
        # The onboarding path: the mandatory courses open now (closed ones can no longer
        # be taken, so they cannot hold a newcomer's bonus back).
        open_now = set(await Course.filter(
            mandatory=True, pack__live_from__lte=now, pack__live_until__gt=now
        ).using_db(conn).values_list("id", flat=True))
        done = set(await CourseProgress.filter(
            person_id=person.id, course__mandatory=True, completed_at__isnull=False
        ).using_db(conn).values_list("course_id", flat=True))
        if open_now <= done:
            await ledger.earn(account, amount=rules.welcome_bonus,
                              key=f"welcome:person:{person.id}",
                              reason="Welcome bonus: onboarding courses completed",
                              reference="onboarding", now=now, conn=conn)


# -- leaving, expiry and results ----------------------------------------------------------


async def leave(person: Person, game_id: int, *, now: datetime) -> GameSummary:
    """The player chose to stop: the game is abandoned and its points burn."""
    game = await _owned_game(person, game_id)
    await Game.filter(id=game.id, status=GameStatus.ACTIVE).update(
        status=GameStatus.ABANDONED, finished_at=now)
    return await summary(person, game_id)


async def _expire_if_late(game: Game, now: datetime) -> bool:
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
    game = await _owned_game(person, game_id)
    quiz = await Quiz.get(id=game.quiz_id).select_related("pack")
    transfer_amount = 0
    from portal.ledger.models import Transfer

    credit = await Transfer.get_or_none(key=f"quiz:{quiz.id}:person:{person.id}")
    if credit is not None and credit.reference == f"game:{game.id}":
        transfer_amount = credit.amount
    passed = None
    if quiz.pass_mark is not None and game.status == GameStatus.FINISHED:
        passed = game.correct * 100 >= quiz.pass_mark * len(game.question_order)
    return GameSummary(
        game_id=game.id, quiz_id=quiz.id,
        quiz_title=localized(quiz.title, *_language(person, quiz.pack)),
        status=GameStatus(game.status), total=len(game.question_order), correct=game.correct,
        points=game.points, credited=transfer_amount, passed=passed, course_id=quiz.course_id,
    )


async def unfinished_games(person: Person) -> list[GameSummary]:
    """Abandoned games, newest first: their points burned, and the history says so."""
    games = await Game.filter(person_id=person.id, status=GameStatus.ABANDONED).order_by(
        "-finished_at").limit(20)
    return [await summary(person, game.id) for game in games]


# -- courses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LessonView:
    id: int
    slug: str
    number: int
    title: str
    body_html: str
    image: str | None
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


async def course_view(person: Person, course_id: int, *, now: datetime) -> CourseView:
    course = await Course.get_or_none(id=course_id).select_related("pack")
    if course is None:
        raise NotFound()
    if not course.pack.live_from <= now < course.pack.live_until:
        progress_exists = await CourseProgress.exists(person_id=person.id, course_id=course.id)
        if not progress_exists:
            raise PlayError(N_("This course is not open now."))
    lang = _language(person, course.pack)
    progress = await CourseProgress.get_or_none(person_id=person.id, course_id=course.id)
    done = set(progress.lessons_done) if progress else set()
    lessons = await Lesson.filter(course_id=course.id).order_by("position")
    final = await Quiz.get(course_id=course.id)
    views = [LessonView(id=lesson.id, slug=lesson.slug, number=i + 1,
                        title=localized(lesson.title, *lang),
                        body_html=localized(lesson.body_html, *lang), image=lesson.image,
                        video=lesson.video, done=lesson.slug in done)
             for i, lesson in enumerate(lessons)]
    return CourseView(
        id=course.id, title=localized(course.title, *lang),
        description=localized(course.description, *lang), points=course.points,
        mandatory=course.mandatory, lessons=views, final_quiz_id=final.id,
        completed_at=progress.completed_at if progress else None,
        certificate_code=progress.certificate_code if progress else None,
        all_read=all(view.done for view in views),
    )


async def mark_lesson_read(person: Person, course_id: int, lesson_id: int, *,
                           now: datetime) -> CourseView:
    view = await course_view(person, course_id, now=now)
    lesson = next((item for item in view.lessons if item.id == lesson_id), None)
    if lesson is None:
        raise NotFound()
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


@dataclass(frozen=True)
class Certificate:
    person_name: str
    course_title: str
    completed_at: datetime
    code: str


async def certificate(person: Person, course_id: int) -> Certificate:
    progress = await CourseProgress.get_or_none(
        person_id=person.id, course_id=course_id, completed_at__isnull=False
    ).select_related("course__pack")
    if progress is None or progress.completed_at is None or not progress.certificate_code:
        raise NotFound()
    course = progress.course
    return Certificate(person_name=person.full_name,
                       course_title=localized(course.title, *_language(person, course.pack)),
                       completed_at=progress.completed_at, code=progress.certificate_code)


async def question_by_id(person: Person, game_id: int, question_id: int) -> QuestionView:
    """A question of this game as it was shown, for the page that shows its result."""
    game = await _owned_game(person, game_id)
    if question_id not in game.question_order:
        raise NotFound()
    quiz = await Quiz.get(id=game.quiz_id).select_related("pack")
    question = await Question.get(id=question_id)
    lang = _language(person, quiz.pack)
    order = game.choice_order[str(question.id)]
    return QuestionView(
        game_id=game.id, quiz_title=localized(quiz.title, *lang),
        number=game.question_order.index(question_id) + 1, total=len(game.question_order),
        question_id=question.id, type=question.type, text=localized(question.text, *lang),
        image=question.image,
        choices=[ChoiceView(position, localized(question.choices[authored]["text"], *lang))
                 for position, authored in enumerate(order)],
        time_limit=quiz.time_limit, remaining=0.0, points_so_far=game.points,
    )
