"""A board's scores as queries: which table they are read from, and in what order.

Every player board reads one score table along its board index (migration 0005): this
month's ``season_score`` (season, earned DESC, reached_at, account_id), all time
``account`` (kind, earned_total DESC, last_earned_at, id), or a frozen month's
``season_standing`` (season, rank). The top and the neighbours are each a range of that
index; names are joined only for the rows shown. A rank does not count the rows above:
it sums the players per higher score (``score_count``, kept by triggers), then on a
season's board the players of the viewer's own score per earlier hour
(``score_hour_count``, the same), and counts only the rows of the viewer's own score and
hour reached first: a few hundred counts, whatever the rank. The all-time board breaks
its ties on ``account.last_earned_at``, which no trigger follows (migration 0020), so its
rank still grows with the viewer's tie group; a frozen month keeps its ranks. The
viewer's place (their row, rank and neighbours) is one statement, ``place``.

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
from pypika_tortoise.analytics import RowNumber
from pypika_tortoise.context import SqlContext
from pypika_tortoise.enums import Arithmetic, Dialects
from pypika_tortoise.functions import Cast, Coalesce, Count, Sum
from pypika_tortoise.queries import QueryBuilder, Selectable
from pypika_tortoise.terms import (
    ArithmeticExpression,
    Criterion,
    Field,
    NullValue,
    Term,
    Tuple,
    ValueWrapper,
)
from pypika_tortoise.utils import format_alias_sql
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
    hours: str | None = None  # its season in score_hour_count, likewise
    ranked: bool = False  # its first order column is the rank itself (a frozen month)


def _constant(value: int | str) -> ValueWrapper:
    return ValueWrapper(value, allow_parametrize=False)


def season(name: str) -> Scores:
    """A month computed from ``season_score``: this one, or a past one not frozen yet."""
    s = Table("season_score", alias="s")
    return Scores(s, s.account_id, s.earned,
                  ((s.earned, Order.desc), (s.reached_at, Order.asc), (s.account_id, Order.asc)),
                  s.season == name, floor=s.earned > _constant(0), counted=name, hours=name)


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
    return replace(scores, people=people, counted=None, hours=None, ranked=False)


def top(scores: Scores, *, limit: int, offset: int | None = None) -> QueryBuilder:
    """The board from its best row (or from ``offset``), names joined."""
    return _listing(scores, _scan(scores), limit=limit, offset=offset)


MINE, ABOVE, BELOW = 0, -1, 1  # the "side" of a row read by ``place``


def place(scores: Scores, account_id: int, *, above: int, below: int,
          gained: int | None = None) -> QueryBuilder:
    """The account's place on the board in one statement: its own row (``side`` MINE)
    with how many rows rank above it (``ahead``), and up to ``above`` rows just above it
    (side ABOVE) and ``below`` just below it (side BELOW), each numbered by how far from
    it (``away``: 1 is next to it); names joined. No row at all when the account is not on
    the board. ``gained``: also ``ahead_before``, the rows above the same row had it
    ``gained`` points fewer (its other order columns as they are).

    The row is read once (the CTE ``me``); every bound below is a scalar subquery on it,
    which both databases evaluate once and then use as an index bound, as if it were a
    value: each side is the nearest few of each index stretch (``_stretches``), and the
    rank sums the counts per higher score (or counts the stretches of a filtered board).
    """
    me = Table("me")
    names = _names(scores)
    found = (_scan(scores).where(scores.account == account_id)
             .select(*(scores.table.field(column).as_(name) for column, name in names.items())))
    at = tuple(Query.from_(me).select(me.field(names[column.name])) for column, _ in scores.order)
    extra = {"ahead": _ahead(scores, at)}
    if gained is not None:
        assert not scores.ranked and scores.order[0][0].name == scores.points.name
        before = ArithmeticExpression(Arithmetic.sub, at[0], ValueWrapper(gained))
        extra["ahead_before"] = _ahead(scores, (before, *at[1:]))
    parts = [Query.from_(me).select(
        _constant(MINE).as_("side"), _constant(0).as_("away"),
        *(me.field(name) for name in names.values()),
        *(term.as_(name) for name, term in extra.items()))]
    for side, limit in ((ABOVE, above), (BELOW, below)):
        if limit > 0:
            parts.append(_side(scores, at, side=side, limit=limit, extra=list(extra)))
    r = _UnionAll(parts, "r")
    account, person, outlet = (Table("account", alias="a"), Table("person", alias="p"),
                               Table("outlet", alias="o"))
    return (Query.with_(found, "me").from_(r)
            .join(account).on(account.id == r.account_id)
            .join(person).on(person.id == account.person_id)
            .left_join(outlet).on(outlet.id == person.outlet_id)
            .select(r.side, r.away, *(r.field(name) for name in names.values()),
                    *(r.field(name) for name in extra),
                    person.display_name.as_("name"), outlet.name.as_("outlet")))


def _ahead(scores: Scores, at: Position) -> Term:
    """How many rows rank above the one ``at``: a count per index stretch, added up. On a
    counted board the first stretch (every higher score) is a sum over score_count
    instead, and the second (the same score, reached earlier) mostly one over
    score_hour_count; a frozen month's row keeps its rank."""
    if scores.ranked:
        return ArithmeticExpression(Arithmetic.sub, at[0], _constant(1))
    stretches = _stretches(scores, at, ahead=True)
    counts: list[Term] = [_scan(scores, floor=floor).where(stretch).select(Count("*"))
                         for stretch, floor in stretches]
    if scores.counted is not None:
        c = Table("score_count", alias="c")
        counts[0] = (Query.from_(c).where(c.board == scores.counted)
                     .where(c.points > at[0]).select(Coalesce(Sum(c.players), _constant(0))))
    if scores.hours is not None:
        counts[1] = _reached_first(scores, at, stretches[1][0])
    added: Term = counts[0]
    for count in counts[1:]:
        added = ArithmeticExpression(Arithmetic.add, added, count)
    return added


def _reached_first(scores: Scores, at: Position, first: Criterion) -> Term:
    """How many rows hold the score ``at`` and rank above it (``first``: its stretch): the
    players of the score's earlier hours, summed, and a count of its own hour's rows."""
    h = Table("score_hour_count", alias="h")
    earlier = (Query.from_(h).where(h.season == scores.hours).where(h.points == at[0])
               .where(h.hour < _Hour(at[1])).select(Coalesce(Sum(h.players), _constant(0))))
    reached = scores.order[1][0]
    same_hour = (_scan(scores, floor=False).where(first)
                 .where(reached >= _Hour(at[1], start=True)).select(Count("*")))
    return ArithmeticExpression(Arithmetic.add, earlier, same_hour)


class _Hour(Term):
    """The hour a reached_at ``moment`` is counted in (score_hour_count.hour, as migration
    0020's triggers compute it), or with ``start``, the hour's first moment as reached_at
    compares with it: on SQLite the stored text's first 13 characters, "YYYY-MM-DD HH"."""

    def __init__(self, moment: Term, *, start: bool = False) -> None:
        super().__init__()
        self.moment, self.start = moment, start

    def get_sql(self, ctx: SqlContext) -> str:
        moment = self.moment.get_sql(ctx.copy(subquery=True, with_alias=False))
        if ctx.dialect == Dialects.POSTGRESQL:
            utc = f"{moment} AT TIME ZONE 'UTC'"
            if self.start:
                return f"date_trunc('hour', {utc}) AT TIME ZONE 'UTC'"
            return f"CAST(to_char({utc}, 'YYYYMMDDHH24') AS BIGINT)"
        if self.start:
            return f"substr({moment}, 1, 13)"
        return f"CAST(strftime('%Y%m%d%H', substr({moment}, 1, 13) || ':00') AS INTEGER)"


def _side(scores: Scores, at: Position, *, side: int, limit: int, extra: list[str]
          ) -> QueryBuilder:
    """Up to ``limit`` rows just above (ABOVE) or below (BELOW) the one ``at``, numbered
    outwards: the nearest ``limit`` of each index stretch (an index range each, read
    nearest first), the nearest ``limit`` of those."""
    names = _names(scores)
    flip = {Order.asc: Order.desc, Order.desc: Order.asc}
    near = [(column, flip[order] if side == ABOVE else order) for column, order in scores.order]
    stretches = []
    for stretch, floor in reversed(_stretches(scores, at, ahead=side == ABOVE)):
        scan = (_scan(scores, floor=floor).where(stretch)
                .select(*(scores.table.field(column).as_(name)
                          for column, name in names.items())))
        for column, order in near:
            scan = scan.orderby(column, order=order)
        stretches.append(scan.limit(_constant(limit)))  # type: ignore[arg-type]
    x = _UnionAll(stretches if len(stretches) == 1
                  else [_whole(part, list(names.values())) for part in stretches], "x")
    away = RowNumber()
    for column, order in near:
        away = away.orderby(x.field(names[column.name]), order=order)
    query = Query.from_(x).select(_constant(side).as_("side"), away.as_("away"),
                                  *(x.field(name) for name in names.values()),
                                  # Typed: PostgreSQL reads an untyped NULL as text.
                                  *(Cast(NullValue(), "BIGINT").as_(name) for name in extra))
    for column, order in near:
        query = query.orderby(x.field(names[column.name]), order=order)
    return _whole(query.limit(_constant(limit)),  # type: ignore[arg-type]
                  ["side", "away", *names.values(), *extra])


class _UnionAll(Selectable):
    """Queries joined by UNION ALL, as a subquery named ``alias``. pypika's own set
    operation renders its parts in the generic dialect (PostgreSQL would get "?" for its
    parameters) and puts each part in parentheses, which SQLite refuses."""

    def __init__(self, parts: list[QueryBuilder], alias: str) -> None:
        super().__init__(alias)
        self.parts = parts

    def get_sql(self, ctx: SqlContext) -> str:
        part = ctx.copy(subquery=False, with_alias=False)
        joined = " UNION ALL ".join(query.get_sql(part) for query in self.parts)
        return format_alias_sql(f"({joined})", self.alias, ctx)


def _whole(query: QueryBuilder, columns: list[str]) -> QueryBuilder:
    """The query as a part of a UNION ALL of several: SQLite allows no ORDER BY or LIMIT
    on such a part itself, so the part reads the query whole."""
    inner = query.as_("w")
    return Query.from_(inner).select(*(inner.field(column) for column in columns))


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
    One OR across them would make the database walk far more of the index. The last two
    columns, sorted the same way (the moment and the account), are one stretch: a row
    value compared, "(reached_at, account_id) < (...)", which both databases read as one
    range of the index, a subquery fewer per side and for the rank."""
    stretches: list[tuple[Criterion, bool]] = []
    columns = [column for column, _ in scores.order]
    for n, (column, order) in enumerate(scores.order):
        same = [equal == value for equal, value in zip(columns[:n], at, strict=False)]
        greater = (order == Order.desc) == ahead  # does this side hold the greater values?
        pair = n == len(columns) - 2 and scores.order[-1][1] == order
        left, right = ((Tuple(column, columns[-1]), Tuple(at[n], at[-1])) if pair
                       else (column, at[n]))
        bound = left > right if greater else left < right
        # Only "score below mine" has no lower bound of its own: it keeps the floor.
        stretches.append((reduce(and_, [*same, bound]), n == 0 and not greater))
        if pair:
            break
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
