"""Who has been playing, as parts other capabilities put into their own queries.

Team boards count "active staff" (people who finished a game in the season) and a manager's
staff list counts each person's finished games, each in one statement of their own. What
"finished a game" means is play's to say: these subqueries are the one place that says it,
so nothing outside play reads the ``game`` table.
"""

from __future__ import annotations

from datetime import datetime

from pypika_tortoise import Query, Table
from pypika_tortoise.functions import Count
from pypika_tortoise.queries import QueryBuilder
from pypika_tortoise.terms import Term

from portal.play.models import Game, GameStatus


def _finished_between(start: datetime, end: datetime) -> tuple[Table, QueryBuilder]:
    game = Table(Game._meta.db_table, alias="g")
    query = (Query.from_(game).where(game.status == GameStatus.FINISHED)
             .where(game.finished_at >= start).where(game.finished_at < end))
    return game, query


def players_between(*, start: datetime, end: datetime) -> QueryBuilder:
    """The ids of the people who finished at least one game in [start, end): a subquery
    for ``person.id IN (...)``."""
    game, query = _finished_between(start, end)
    return query.select(game.person_id).distinct()


def games_finished(person_id: Term, *, start: datetime, end: datetime) -> QueryBuilder:
    """How many games the person ``person_id`` (a column of the enclosing query) finished
    in [start, end): a subquery for a SELECT list."""
    game, query = _finished_between(start, end)
    return query.where(game.person_id == person_id).select(Count("*"))
