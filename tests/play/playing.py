"""Playing with a settable clock, for the service tests: the example pack published at
T0, and a player who taps the right (or a wrong) choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from portal.accounts.models import Person
from portal.content import schema, service
from portal.content.models import Question
from portal.ledger import service as ledger
from portal.play import games
from portal.play.models import Game
from portal.settings import PROJECT_ROOT

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
RULES = games.Rules(grace_seconds=2, extra_minutes=15, welcome_bonus=100)


async def publish_example(media_dir: Path) -> None:
    """The example pack, live from 2026-01-01 to 2026-02-01: a quiz and a course."""
    await service.publish(schema.read_pack(PROJECT_ROOT / "quizzes" / "example"),
                          media_dir=media_dir, now=T0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def right_positions(game: Game, question_id: int) -> list[int]:
    question = await Question.get(id=question_id)
    order = game.choice_order[str(question_id)]
    return [p for p, authored in enumerate(order) if question.choices[authored]["correct"]]


async def wrong_positions(game: Game, question_id: int) -> list[int]:
    question = await Question.get(id=question_id)
    order = game.choice_order[str(question_id)]
    return [next(p for p, authored in enumerate(order)
                 if not question.choices[authored]["correct"])]


async def play_through(alice: Person, game: Game, *, start: float = 0, each: float = 2,
                       right: bool = True, rules: games.Rules = RULES) -> datetime:
    clock = start
    while True:
        view = await games.current_question(alice, game.id, now=at(clock), rules=rules)
        if view is None:
            return at(clock)
        fresh = await Game.get(id=game.id)
        positions = await (right_positions if right else wrong_positions)(
            fresh, view.question_id)
        clock += each
        await games.answer(alice, game.id, view.question_id, positions, now=at(clock),
                           rules=rules)


async def balance(person: Person) -> int:
    return (await ledger.account_of_person(person.id)).balance
