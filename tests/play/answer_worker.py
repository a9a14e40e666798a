"""Shows and answers one player's current question in its own process, for the
cross-process races of the game's hot path.

    python -m tests.play.answer_worker DB_URL PERSON_ID GAME_ID SHOW_ISO ANSWER_ISO COUNT

The worker connects, prints "ready", waits for a line on standard input so that every
process starts at the same moment, then COUNT times at once shows the current question at
SHOW_ISO (starting its clock unless it has started) and answers the game's first question
with its right choices at ANSWER_ISO, and prints one JSON line: each reply's question,
outcome and points, and any error (there must be none: a lost race answers as the winner
did).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from tortoise import Tortoise

from portal.accounts.models import Person
from portal.content.models import Question
from portal.db import tortoise_config
from portal.play import games as play
from portal.play.models import Game

RULES = play.Rules(grace_seconds=2, extra_minutes=15, welcome_bonus=100)


async def main(db_url: str, person_id: int, game_id: int, show: datetime, answer: datetime,
               count: int) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    person = await Person.get(id=person_id)
    game = await Game.get(id=game_id)
    question = await Question.get(id=game.question_order[0])
    order = game.choice_order[str(question.id)]
    right = [p for p, authored in enumerate(order) if question.choices[authored]["correct"]]
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)

    async def one() -> dict[str, object] | str:
        try:
            view = await play.current_question(person, game_id, now=show, rules=RULES)
            # The first question, or the second when another answered the first already.
            assert view is not None, "the game ended"
            result = await play.answer(person, game_id, question.id, right, now=answer,
                                       rules=RULES)
        except Exception as exc:
            return f"error: {exc!r}"
        return {"question": result.question_id, "outcome": result.outcome.value,
                "points": result.points}

    outcomes = await asyncio.gather(*(one() for _ in range(count)))
    await Tortoise.close_connections()
    print(json.dumps({"replies": [o for o in outcomes if isinstance(o, dict)],
                      "errors": [o for o in outcomes if isinstance(o, str)]}))


if __name__ == "__main__":
    url, person, game, shown, answered, count = sys.argv[1:7]
    asyncio.run(main(url, int(person), int(game), datetime.fromisoformat(shown),
                     datetime.fromisoformat(answered), int(count)))
