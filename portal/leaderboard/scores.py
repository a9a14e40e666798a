"""A board's scores as queries: which table they are read from, and in what order.

Every player board reads one score table along its board index (migration 0005): this
month's ``season_score`` (season, earned DESC, reached_at, account_id), all time
``account`` (kind, earned_total DESC, last_earned_at, id), or a frozen month's
``season_standing`` (season, rank). The top and the neighbours are each a range of that
index; names are joined only for the rows shown. A rank does not count the rows above:
it sums the players per higher score (``score_count``, kept by triggers) and counts only
the rows of the viewer's own score reached first, so it costs the same at #1 and at
#500,000; a frozen month keeps its ranks.

Queries are built from parts (pypika, Tortoise's own query builder) and rendered in the
connection's dialect. Values from outside are always parameters. The constants of a
query's shape (the board's floor, LIMIT and OFFSET, all ints or fixed words the code
chooses) are written into the SQL, as the plans were measured with them: once PostgreSQL
plans a prepared "LIMIT $1" generically, it plans it as if it read a tenth of the board.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import reduce
from operator import and_
from typing import Any

from pypika_tortoise import Order, Query, Table
from pypika_tortoise.enums import Arithmetic
from pypika_tortoise.functions import Coalesce, Count, Sum
from pypika_tortoise.queries import QueryBuilder
from pypika_tortoise.terms import ArithmeticExpression, Criterion, Field, Term, ValueWrapper
from tortoise.backends.base.client import BaseDBAsyncClient

from portal.leaderboard.models import ALL_TIME

Position = tuple[Any, ...]  # a row's values of its board's order columns, as read


@dataclass(frozen=True)
class Scores:
    table: Table
    account: Field  # the account id
    points: Field
    order: tuple[tuple[Field, Order], ...]  # best first: the board index's columns
    rows: Criterion  # which rows make up this board
    # "score > 0", left out of a range that bounds the score itself: SQLite builds its
    # index range from the first bound it meets, and "> 0" would make it walk every row.
    floor: Criterion | None = None
    people: QueryBuilder | None = None  # the account ids a filter keeps
    counted: str | None = None  # its board in score_count, if the whole board is counted
    ranked: bool = False  # its first order column is the rank itself (a frozen month)


def _constant(value: int | str) -> ValueWrapper:
    return ValueWrapper(value, allow_parametrize=False)


def season(name: str) -> Scores:
    """A month computed from ``season_score``: this one, or a past one not frozen yet."""
    s = Table("season_score", alias="s")
    return Scores(s, s.account_id, s.earned,
                  ((s.earned, Order.desc), (s.reached_at, Order.asc), (s.account_id, Order.asc)),
                  s.season == name, floor=s.earned > _constant(0), counted=name)


def all_time() -> Scores:
    t = Table("account", alias="t")
    return Scores(t, t.id, t.earned_total,
                  ((t.earned_total, Order.desc), (t.last_earned_at, Order.asc), (t.id, Order.asc)),
                  t.kind == _constant("person"), floor=t.earned_total > _constant(0),
                  counted=ALL_TIME)


def final_standings(name: str) -> Scores:
    """A finished month as the season-end job froze it, from ``season_standing``."""
    f = Table("season_standing", alias="f")
    return Scores(f, f.account_id, f.earned, ((f.rank, Order.asc),), f.season == name,
                  ranked=True)


def within(scores: Scores, *, region_id: int | None, outlet_id: int | None) -> Scores:
    """The board narrowed to the people of a region or an outlet (where they work now)."""
    if region_id is None and outlet_id is None:
        return scores
    account, person, outlet = (Table("account", alias="acc"), Table("person", alias="pp"),
                               Table("outlet", alias="oo"))
    people = (Query.from_(account).join(person).on(person.id == account.person_id)
              .join(outlet).on(outlet.id == person.outlet_id).select(account.id))
    if region_id is not None:
        people = people.where(outlet.region_id == region_id)
    if outlet_id is not None:
        people = people.where(outlet.id == outlet_id)
    # The counts and the frozen ranks are the whole board's: a part of it is counted.
    return replace(scores, people=people, counted=None, ranked=False)


def top(scores: Scores, *, limit: int, offset: int | None = None) -> QueryBuilder:
    """The board from its best row (or from ``offset``), names joined."""
    return _listing(scores, _scan(scores), limit=limit, offset=offset)


def own(scores: Scores, account_id: int) -> QueryBuilder:
    """The account's row on the board, if it has one."""
    return _listing(scores, _scan(scores).where(scores.account == account_id), ordered=False)


def stored_rank(scores: Scores, at: Position) -> int | None:
    """The rank of the row ``at`` when the board keeps it (a frozen month, unfiltered)."""
    return int(at[0]) if scores.ranked else None


def ahead(scores: Scores, at: Position) -> QueryBuilder:
    """How many rows rank above the one ``at`` ("n"): one statement adding a count per
    index stretch. On a counted board the first stretch (every higher score) is a sum
    over score_count instead."""
    counts = [_scan(scores, floor=floor).where(stretch).select(Count("*"))
              for stretch, floor in _stretches(scores, at, ahead=True)]
    if scores.counted is not None:
        c = Table("score_count", alias="c")
        counts[0] = (Query.from_(c).where(c.board == scores.counted)
                     .where(c.points > at[0]).select(Coalesce(Sum(c.players), _constant(0))))
    added: Term = counts[0]
    for count in counts[1:]:
        added = ArithmeticExpression(Arithmetic.add, added, count)
    return Query.select(added.as_("n"))


def nearest(scores: Scores, at: Position, *, ahead: bool, limit: int) -> list[QueryBuilder]:
    """Up to ``limit`` rows just above (``ahead``) or below the one ``at``, per index
    stretch, nearest first within each; the stretches come nearest first too, so their
    rows in that order are the board's rows from the given one outwards."""
    return [_listing(scores, _scan(scores, floor=floor).where(stretch), limit=limit,
                     reverse=ahead)
            for stretch, floor in reversed(_stretches(scores, at, ahead=ahead))]


def sql(query: QueryBuilder, conn: BaseDBAsyncClient) -> tuple[str, list[Any]]:
    """The query in the connection's dialect ("?" or "$1"), and its parameters."""
    return query.get_parameterized_sql(conn.query_class.SQL_CONTEXT)


def _scan(scores: Scores, *, floor: bool = True) -> QueryBuilder:
    """The board's rows, conditions in the order the plans were measured with."""
    query = Query.from_(scores.table).where(scores.rows)
    if floor and scores.floor is not None:
        query = query.where(scores.floor)
    if scores.people is not None:
        query = query.where(scores.account.isin(scores.people))
    return query


def _stretches(scores: Scores, at: Position, *, ahead: bool) -> list[tuple[Criterion, bool]]:
    """The rows ranked above (``ahead``) or below the one ``at``, as one condition per
    contiguous stretch of the board index (the n-th: the first n order columns equal, the
    next one better or worse), farthest first, each with whether the floor still applies.
    One OR across them would make the database walk far more of the index."""
    stretches = []
    for n, (column, order) in enumerate(scores.order):
        same = [equal == value for (equal, _), value in zip(scores.order[:n], at, strict=False)]
        greater = (order == Order.desc) == ahead  # does this side hold the greater values?
        bound = column > at[n] if greater else column < at[n]
        # Only "score below mine" has no lower bound of its own: it keeps the floor.
        stretches.append((reduce(and_, [*same, bound]), n == 0 and not greater))
    return stretches


def position(scores: Scores, row: dict[str, Any]) -> Position:
    """Where a row read by ``top``, ``own`` or ``nearest`` stands on its board."""
    names = _names(scores)
    return tuple(row[names[column.name]] for column, _ in scores.order)


def _names(scores: Scores) -> dict[str, str]:
    """The name each column read is selected under, each column once: PostgreSQL then
    knows the rows come out of the index already in the board's order."""
    names = {scores.account.name: "account_id", scores.points.name: "points"}
    for column, _ in scores.order:
        names.setdefault(column.name, column.name)
    return names


def _listing(scores: Scores, scan: QueryBuilder, *, limit: int | None = None,
             offset: int | None = None, reverse: bool = False, ordered: bool = True
             ) -> QueryBuilder:
    """SELECT the shown columns: the scores read alone along the index first, then the
    names joined to the few rows kept."""
    names = _names(scores)
    inner = scan.select(*(scores.table.field(column).as_(name) for column, name in names.items()))
    flip = {Order.asc: Order.desc, Order.desc: Order.asc}
    orders = [(column, flip[order] if reverse else order) for column, order in scores.order]
    if ordered:
        for column, order in orders:
            inner = inner.orderby(column, order=order)
    if limit is not None:
        inner = inner.limit(_constant(limit))  # type: ignore[arg-type]  # a literal, see above
    if offset is not None:
        inner = inner.offset(_constant(offset))  # type: ignore[arg-type]
    r = inner.as_("r")
    account, person, outlet = (Table("account", alias="a"), Table("person", alias="p"),
                               Table("outlet", alias="o"))
    query = (Query.from_(r).join(account).on(account.id == r.account_id)
             .join(person).on(person.id == account.person_id)
             .left_join(outlet).on(outlet.id == person.outlet_id)
             .select(*(r.field(name) for name in names.values()),
                     person.display_name.as_("name"), outlet.name.as_("outlet")))
    if ordered:
        for column, order in orders:
            query = query.orderby(r.field(names[column.name]), order=order)
    return query
