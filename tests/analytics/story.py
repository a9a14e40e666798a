"""A small fixed month for the figures tests: the personas play, spend, donate, bid and
burn, each at a known moment, so every figure can be worked out by hand.

December 2025: Erin joins, earns 300 and visits once.
January 2026 (the example pack is live): Alice and Bob join; Alice plays the basics quiz
all right in 2 s an answer (3 x 95 = 285 points), Bob all wrong in 5 s an answer, always
the first wrong choice as written; Erin answers one question right in 4 s (90 points) and
leaves, so the 90 burn with the abandoned game. Alice spends 100 in the catalog, donates
50, wins an auction for 60; Erin loses 120 to an inactivity burn; Dave adds 40 to Bob,
who bids 30 (still open). Visits: Alice on the 10th and 11th, Bob and Carol on the 10th.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from portal.accounts.models import Person
from portal.analytics.rollups import VisitBook
from portal.content.models import Question, Quiz
from portal.ledger import service as ledger
from portal.play import games
from portal.play.models import Game
from tests.factories import People, personas
from tests.play.playing import RULES, publish_example

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
AFTER = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Story:
    people: People
    quiz: Quiz
    erin_question: int  # the question Erin answered before leaving


def at(day: int, seconds: float = 0, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC) + timedelta(seconds=seconds)


async def _play(person: Person, quiz: Quiz, *, start: datetime, each: float, right: bool,
                stop_after: int | None = None) -> Game:
    game = await games.start(person, quiz.id, now=start, rules=RULES)
    clock, answered = start, 0
    while stop_after is None or answered < stop_after:
        view = await games.current_question(person, game.id, now=clock, rules=RULES)
        if view is None:
            break
        fresh = await Game.get(id=game.id)
        question = await Question.get(id=view.question_id)
        order = fresh.choice_order[str(question.id)]
        if right:
            positions = [p for p, a in enumerate(order) if question.choices[a]["correct"]]
        else:
            first_wrong = next(i for i, c in enumerate(question.choices) if not c["correct"])
            positions = [order.index(first_wrong)]
        clock += timedelta(seconds=each)
        await games.answer(person, game.id, view.question_id, positions, now=clock,
                           rules=RULES)
        answered += 1
    return game


async def tell(media_dir: Path) -> Story:
    people = await personas()
    alice, bob, carol, erin = people.alice, people.bob, people.carol, people.erin
    await Person.filter(id=erin.id).update(created_at=at(1, month=12, year=2025))
    await Person.filter(id__in=[alice.id, bob.id]).update(created_at=at(5))
    await Person.filter(id__in=[carol.id, people.dave.id]).update(created_at=at(1))
    erin_account = await ledger.account_of_person(erin.id)
    await ledger.earn(erin_account, amount=300, reason="Welcome", reference="story",
                      key="story:erin", now=at(15, month=12, year=2025))
    book = VisitBook()
    await book.record(erin.id, now=at(15, month=12, year=2025))

    await publish_example(media_dir)
    quiz = await Quiz.get(slug="basics")
    await _play(alice, quiz, start=T0, each=2, right=True)
    await _play(bob, quiz, start=T0, each=5, right=False)
    erin_game = await _play(erin, quiz, start=T0, each=4, right=True, stop_after=1)
    await games.leave(erin, erin_game.id, now=T0 + timedelta(seconds=30))
    erin_question = (await Game.get(id=erin_game.id)).question_order[0]

    alice_account = await ledger.account_of_person(alice.id)
    await ledger.spend(alice_account, amount=100, reason="Gift card", reference="story",
                       key="story:spend", now=at(11))
    cause = await ledger.system_account("cause:story", name="Clean water")
    await ledger.donate(alice_account, cause=cause, amount=50, reason="Clean water",
                        reference="story", key="story:donate", now=at(12))
    lot = await ledger.system_account("auction:story", name="Lot")
    won = await ledger.hold(alice_account, target=lot, amount=60, reason="Bid",
                            reference="story", key="story:bid", now=at(13))
    await ledger.capture(won.id, now=at(14))
    await ledger.burn(erin_account, amount=120, reason="Idle", reference="inactivity",
                      key="story:burn", now=at(20))
    bob_account = await ledger.account_of_person(bob.id)
    await ledger.adjust(bob_account, amount=40, reason="Fix", by_person_id=people.dave.id,
                        key="story:adjust", now=at(21))
    await ledger.hold(bob_account, target=lot, amount=30, reason="Bid", reference="story",
                      key="story:open-bid", now=at(22))
    for person, day in ((alice, 10), (alice, 11), (bob, 10), (carol, 10), (alice, 11)):
        await book.record(person.id, now=at(day, seconds=3600))
    return Story(people, quiz, erin_question)
