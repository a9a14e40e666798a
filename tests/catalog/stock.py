"""Catalog fixtures for the tests: categories, items, pools of codes, players with points."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from portal.accounts.models import Person
from portal.catalog import service as catalog
from portal.catalog.models import Category, Item, ItemKind
from portal.ledger import service as ledger
from portal.settings import Settings

_counter = itertools.count(1)
SETTINGS = Settings(secret_key="test-secret-key-not-for-production", redemption_threshold=0)


async def category(name: str | None = None) -> Category:
    return await catalog.save_category(name or f"Category {next(_counter)}")


async def item(*, kind: ItemKind = ItemKind.CERTIFICATE, price: int = 100,
               codes: int = 0, stock: int | None = None, title: str | None = None,
               for_companies: bool = False, settings: Settings = SETTINGS,
               **extra: Any) -> Item:
    cat = await category()
    made = await catalog.save_item(catalog.ItemFields(
        category_id=cat.id, kind=kind, title=title or f"Reward {next(_counter)}", price=price,
        stock=stock, for_companies=for_companies, **extra))
    if codes:
        await catalog.import_codes(made.id, code_file(codes, prefix=f"I{made.id}-"),
                                   settings=settings)
    return made


def code_file(count: int, *, prefix: str = "CODE-", value: str = "50 EUR",
              expiry: str = "2099-12-31") -> bytes:
    lines = ["code,value,expiry"] + [f"{prefix}{i:06d}-SECRET,{value},{expiry}"
                                     for i in range(count)]
    return ("\n".join(lines) + "\n").encode()


async def give(person: Person, points: int) -> None:
    account = await ledger.account_of_person(person.id)
    await ledger.earn(account, amount=points, reason="Quiz", reference="quiz:seed",
                      key=f"seed:{person.id}:{next(_counter)}:{datetime.now(UTC).timestamp()}")


async def finish_quiz(person: Person | None, quiz_id: int | None = None) -> int:
    """A quiz (made when ``quiz_id`` is None) and, for ``person``, a finished game of it."""
    from portal.content.models import Pack, Quiz
    from portal.play.models import Game, GameStatus

    now = datetime.now(UTC)
    if quiz_id is None:
        pack = await Pack.create(slug=f"survey-pack-{next(_counter)}", title={"en": "Pack"},
                                 default_language="en", live_from=now, live_until=now,
                                 checksum="x", published_at=now)
        quiz = await Quiz.create(pack=pack, slug="survey", position=1, title={"en": "Survey"},
                                 time_limit=20, base_points=0, scoring="accuracy", attempts=1,
                                 shuffle=False, checksum="x")
        quiz_id = quiz.id
    if person is not None:
        await Game.create(person_id=person.id, quiz_id=quiz_id, attempt=1,
                          status=GameStatus.FINISHED, question_order=[], choice_order={},
                          started_at=now, deadline=now, finished_at=now)
    return quiz_id
