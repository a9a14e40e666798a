"""A player's place on a live month's whole board (``season_score``), in one hand-written
statement: the board page, the dashboard and every answered question ask for it.

It reads what ``scores.place`` builds for any board, rows and columns alike (its own row
with ``ahead``, up to ``above`` and ``below`` neighbours numbered by ``away``, names
joined), and the same ranks, counted finer: the players of every higher score
(``score_count``), of the same score in earlier hours (``score_hour_count``), in the
earlier minutes of the viewer's hour and the earlier seconds of its minute
(``score_minute_count``, ``score_second_count``, migration 0022), then a count of the rows
of the same score and second reached first. (``scores.place`` stops at the hour and counts
the rest of it: it ranks no live month's whole board, and the tests read both.) So a rank
costs about the same on any day of the month, when a month's scores are spread over weeks
as in its first hours, when everybody reaches them at once. Written by hand, its SQL is
put together once per shape and dialect (no query builder on every call), in the shape
each database reads fastest:

* SQLite bounds an index range by a row value ``(reached_at, account_id) < (...)`` only
  when the values are bound parameters; read from the viewer's row it walks every row of
  the viewer's moment instead. Its ties are therefore two ranges each, the same moment
  (by account) and the earlier moments; and a side's nearest rows are numbered with a
  window, as ``ORDER BY ... LIMIT`` over the union made SQLite sort each part again.
* PostgreSQL reads the row value as one index range, and plans every call until it
  settles on a generic plan: its sides are LATERAL subqueries of the viewer's row, which
  it plans in less time than a scalar subquery per bound.
"""

from __future__ import annotations

import functools
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from portal.db import is_postgres

_COLUMNS = "account_id, earned AS points, reached_at"
_UP = "points ASC, reached_at DESC, account_id DESC"  # nearest first, above the viewer
_DOWN = "points DESC, reached_at ASC, account_id ASC"  # nearest first, below the viewer
# The second a reached_at is counted in (migration 0022): seconds since 1970, on SQLite
# read off the stored text's first 19 characters, "YYYY-MM-DD HH:MM:SS" in UTC.
_SECOND = {False: "CAST(strftime('%s', substr(reached_at, 1, 19)) AS INTEGER)",
           True: "CAST(floor(extract(epoch FROM reached_at)) AS BIGINT)"}
_NAMES = ("JOIN account a ON a.id = r.account_id JOIN person p ON p.id = a.person_id "
          "LEFT JOIN outlet o ON o.id = p.outlet_id")


def statement(conn: BaseDBAsyncClient, season: str, account_id: int, *, above: int,
              below: int, gained: int | None = None) -> tuple[str, list[Any]]:
    """The SQL and its parameters; ``gained`` as ``scores.place`` takes it."""
    sql = _sql(is_postgres(conn), above, below, gained is not None)
    return sql, [season, account_id] + ([gained] if gained is not None else [])


@functools.lru_cache(maxsize=32)
def _sql(postgres: bool, above: int, below: int, before: bool) -> str:
    # Parameters: 1 the season, 2 the account, 3 the points gained (``before`` only).
    # LIMITs are written in, as in ``scores``: the code chooses them.
    season = "$1" if postgres else "?1"
    account = "$2" if postgres else "?2"
    gained = "$3" if postgres else "?3"
    me = (f"WITH me AS (SELECT {_COLUMNS}, season, {_SECOND[postgres]} AS second "  # noqa: S608
          f"FROM season_score WHERE season = {season} AND earned > 0 "
          f"AND account_id = {account})")
    ahead = _ahead_postgres if postgres else _ahead_sqlite
    counts = [f"{ahead(season, 'me.points')} AS ahead"]
    if before:
        counts.append(f"{ahead(season, f'(me.points - {gained})')} AS ahead_before")
    nulls = "".join(f", CAST(NULL AS BIGINT) AS {name}"
                    for name in ("ahead", "ahead_before")[:len(counts)])
    parts = [f"SELECT 0 AS side, 0 AS away, me.account_id, me.points, me.reached_at, "  # noqa: S608
             f"{', '.join(counts)} FROM me"]
    side = _side_postgres if postgres else _side_sqlite
    if above > 0:
        parts.append(side(season, -1, above, nulls))
    if below > 0:
        parts.append(side(season, 1, below, nulls))
    extra = "".join(f", r.{name}" for name in ("ahead", "ahead_before")[:len(counts)])
    return (f"{me} SELECT r.side, r.away, r.account_id, r.points, r.reached_at{extra}, "  # noqa: S608
            f"p.display_name AS name, o.name AS outlet FROM ({' UNION ALL '.join(parts)}) r "
            f"{_NAMES}")


def _ahead_sqlite(season: str, points: str) -> str:
    hour = "CAST(strftime('%Y%m%d%H', substr(me.reached_at, 1, 13) || ':00') AS INTEGER)"
    return (f"((SELECT COALESCE(SUM(players), 0) FROM score_count WHERE board = {season} "  # noqa: S608
            f"AND points > {points}) "
            f"+ (SELECT COALESCE(SUM(players), 0) FROM score_hour_count WHERE season = {season} "
            f"AND points = {points} AND hour < {hour}) "
            f"{_earlier_minutes_and_seconds(season, points)}"
            f"+ (SELECT COUNT(*) FROM season_score WHERE season = {season} AND earned = {points} "
            f"AND reached_at >= substr(me.reached_at, 1, 19) AND reached_at < me.reached_at) "
            f"+ (SELECT COUNT(*) FROM season_score WHERE season = {season} AND earned = {points} "
            f"AND reached_at = me.reached_at AND account_id < me.account_id))")


def _ahead_postgres(season: str, points: str) -> str:
    utc = "me.reached_at AT TIME ZONE 'UTC'"
    return (f"((SELECT COALESCE(SUM(players), 0) FROM score_count WHERE board = {season} "  # noqa: S608
            f"AND points > {points}) "
            f"+ (SELECT COALESCE(SUM(players), 0) FROM score_hour_count WHERE season = {season} "
            f"AND points = {points} AND hour < CAST(to_char({utc}, 'YYYYMMDDHH24') AS BIGINT)) "
            f"{_earlier_minutes_and_seconds('me.season', points)}"
            f"+ (SELECT COUNT(*) FROM season_score WHERE season = {season} AND earned = {points} "
            f"AND (reached_at, account_id) < (me.reached_at, me.account_id) "
            f"AND reached_at >= date_trunc('second', me.reached_at)))")


def _earlier_minutes_and_seconds(season: str, points: str) -> str:
    """The players of the score reached in the earlier minutes of the viewer's hour and
    the earlier seconds of its minute (``me.second``: seconds since 1970, as migration 0022
    counts them)."""
    return (f"+ (SELECT COALESCE(SUM(players), 0) FROM score_minute_count "  # noqa: S608
            f"WHERE season = {season} AND points = {points} "
            f"AND minute >= me.second / 3600 * 60 AND minute < me.second / 60) "
            f"+ (SELECT COALESCE(SUM(players), 0) FROM score_second_count "
            f"WHERE season = {season} AND points = {points} "
            f"AND second >= me.second / 60 * 60 AND second < me.second) ")


def _stretch(season: str, where: str, order: str, limit: int) -> str:
    return (f"SELECT * FROM (SELECT {_COLUMNS} FROM season_score WHERE season = {season} "  # noqa: S608
            f"AND {where} ORDER BY {order} LIMIT {int(limit)}) t")


def _side_sqlite(season: str, side: int, limit: int, nulls: str) -> str:
    me = "(SELECT {} FROM me)".format
    points, moment, account = me("points"), me("reached_at"), me("account_id")
    if side < 0:
        stretches = [
            _stretch(season, f"earned = {points} AND reached_at = {moment} "
                     f"AND account_id < {account}", "account_id DESC", limit),
            _stretch(season, f"earned = {points} AND reached_at < {moment}",
                     "reached_at DESC, account_id DESC", limit),
            _stretch(season, f"earned > {points}",
                     "earned ASC, reached_at DESC, account_id DESC", limit)]
    else:
        stretches = [
            _stretch(season, f"earned = {points} AND reached_at = {moment} "
                     f"AND account_id > {account}", "account_id ASC", limit),
            _stretch(season, f"earned = {points} AND reached_at > {moment}",
                     "reached_at ASC, account_id ASC", limit),
            # Only "score below mine" has no lower bound of its own: it keeps the floor.
            _stretch(season, f"earned > 0 AND earned < {points}",
                     "earned DESC, reached_at ASC, account_id ASC", limit)]
    near = _UP if side < 0 else _DOWN
    return (f"SELECT * FROM (SELECT {side} AS side, ROW_NUMBER() OVER (ORDER BY {near}) "  # noqa: S608
            f"AS away, account_id, points, reached_at{nulls} "
            f"FROM ({' UNION ALL '.join(stretches)}) x) y WHERE away <= {int(limit)}")


def _side_postgres(season: str, side: int, limit: int, nulls: str) -> str:
    tie, far = ("<", "earned > me.points") if side < 0 else (
        ">", "earned > 0 AND earned < me.points")
    near = _UP if side < 0 else _DOWN
    by_index = near.replace("points", "earned")
    stretches = [
        _stretch(season, f"earned = me.points AND (reached_at, account_id) {tie} "
                 "(me.reached_at, me.account_id)", by_index, limit),
        _stretch(season, far, by_index, limit)]
    outer = ", ".join(f"x.{term}" for term in near.split(", "))
    return (f"SELECT {side} AS side, ROW_NUMBER() OVER (ORDER BY {outer}) AS away, "  # noqa: S608
            f"x.account_id, x.points, x.reached_at{nulls} FROM me, "
            f"LATERAL ({' UNION ALL '.join(stretches)} ORDER BY {near} LIMIT {int(limit)}) x")
