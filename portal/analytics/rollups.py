"""Keeping the rollups: visits as they happen, everything else folded in by a job.

A page view records at most one visit per person and day (one ``INSERT ... ON CONFLICT DO
NOTHING``, and only when this process has not seen the person today). The fold job reads
new rows of four source tables in id order, people, visits, ledger transfers and
games (with their answers), and adds what they say to the rollup tables, one batch per
transaction together with the source's cursor: a run stopped midway resumes after the
last committed batch, and a row is never counted twice.

Two things make "new rows in id order" safe:
- On PostgreSQL an id is handed out when a row is inserted, not when it commits, so a row
  with a lower id can appear after a higher one was read. The fold reads only ids that
  already existed ``SETTLE`` ago (a transaction is never open that long). On SQLite write
  transactions are serialised and every committed id is final at once.
- A game changes after it is inserted. The fold reads a game only once it is over
  (finished or abandoned: then no answer can change it, as answering requires an active
  game), and stops at the first game still running, which the ``expire-games`` job ends
  within a minute of its deadline; a game's answers are read with it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from portal.analytics.models import FoldCursor, Visit
from portal.db import is_postgres, placeholders, write_transaction

SETTLE = timedelta(seconds=90)
BATCH = 2000
SLOWEST_SECOND = 120  # answers slower than this share the last time slot
SOURCES = ("person", "visit", "transfer", "game")
TABLES = {"person": "person", "visit": "analytics_visit", "transfer": "transfer", "game": "game"}
SURVEY = "survey"  # a quiz's scoring when it is a survey (see portal.play.scoring)
INACTIVITY = "inactivity"  # the reference of an inactivity burn (see portal.burns)

# Where each ledger kind lands, out of a person's account and into one.
OUT_OF = {"spend": "spent", "donate": "donated", "capture": "captured", "adjust": "adjusted_out"}
INTO = {"earn": "earned", "adjust": "adjusted_in", "refund": "refunded"}
# ...and out of a company's account and into one (``CompanyMonth``).
COMPANY_OUT_OF = {"spend": "spent", "donate": "spent", "capture": "spent"}
COMPANY_INTO = {"adjust": "credited", "share": "shared", "refund": "refunded"}
COMPANY_COLUMNS = ("credited", "shared", "refunded", "received_other", "spent", "removed")
DAY_FLOWS = {"earned", "spent", "donated", "captured"}
MONTH_COLUMNS = (
    "new_players", "active_players", "players_with_game", "players_with_five", "visits",
    "games_finished", "games_abandoned", "answers", "earned", "adjusted_in", "received_other",
    "refunded", "spent", "donated", "captured", "burned_inactivity", "burned_other", "adjusted_out",
    "sent_other", "burned_games",
)


# -- visits -------------------------------------------------------------------------------


class VisitBook:
    """Who this process already recorded today, so a page view writes at most once per
    person and day (the unique key makes another process's second write a no-op)."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self._seen: dict[int, str] = {}

    async def record(self, person_id: int, *, now: datetime) -> bool:
        """Records the person's visit today; True when this call wrote it."""
        day = now.astimezone(UTC).date().isoformat()
        if self._seen.get(person_id) == day:
            return False
        if len(self._seen) >= self.LIMIT:
            self._seen.clear()
        await Visit.bulk_create([Visit(person_id=person_id, day=day)], ignore_conflicts=True)
        self._seen[person_id] = day
        return True


# -- the fold -----------------------------------------------------------------------------


@dataclass
class Where:
    """A person's place, read at fold time: outlet, company, region (0: none)."""

    outlet: int
    company: int
    region: int
    player: bool

    @classmethod
    def of(cls, outlet: int | None, company: int | None, region: int | None,
           roles: str | None) -> Where:
        return cls(outlet or 0, company or 0, region or 0,
                   "player" in (roles or "").split(","))


# Every day and month also has one row for the whole network (outlet, company and region
# NETWORK_ROW, which no scope names), so the network's page reads a row per day or month
# instead of summing every outlet's.
NETWORK_ROW = -1
WHOLE_NETWORK = Where(NETWORK_ROW, NETWORK_ROW, NETWORK_ROW, True)


@dataclass
class Deltas:
    """What one batch adds to the rollups."""

    day: dict[tuple[str, int], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    month: dict[tuple[str, int], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    places: dict[int, Where] = field(default_factory=dict)  # outlet id -> its place
    player: dict[tuple[str, int], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    player_place: dict[tuple[str, int], Where] = field(default_factory=dict)
    question: dict[tuple[str, int], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    question_of: dict[int, tuple[int, int]] = field(default_factory=dict)  # quiz, pack
    slots: dict[tuple[str, int, str, int], int] = field(
        default_factory=lambda: defaultdict(int))
    company: dict[tuple[str, int], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def add_day(self, day: str, where: Where, **values: int) -> None:
        for place in (where, WHOLE_NETWORK):
            self.places[place.outlet] = place
            for name, value in values.items():
                self.day[(day, place.outlet)][name] += value

    def add_month(self, month: str, where: Where, **values: int) -> None:
        for place in (where, WHOLE_NETWORK):
            self.places[place.outlet] = place
            for name, value in values.items():
                self.month[(month, place.outlet)][name] += value

    def add_company(self, month: str, company_id: int, column: str, amount: int) -> None:
        for company in (company_id, NETWORK_ROW):
            self.company[(month, company)][column] += amount

    def add_player(self, month: str, person_id: int, where: Where, **values: int) -> None:
        self.player_place[(month, person_id)] = where
        for name, value in values.items():
            self.player[(month, person_id)][name] += value


async def fold(now: datetime, *, settle: timedelta = SETTLE, batch: int = BATCH) -> int:
    """Folds every new row of every source into the rollups; returns how many were read.

    ``now`` is the wall clock: ids seen ``settle`` before it are safe to read on
    PostgreSQL."""
    total = 0
    for source in SOURCES:
        while read := await fold_batch(source, now=now, settle=settle, batch=batch):
            total += read
    await count_held()
    return total


async def count_held() -> None:
    """Counts again the points people hold in open bids, per outlet, into ``HeldNow`` (in
    one transaction, every row zeroed and the counts written over them): a read of the
    open holds by the job, so that a page view reads a few rows instead of the accounts.
    Two counts at once each write a whole count; the later one stays."""
    async with write_transaction() as conn:
        rows = await conn.execute_query_dict(
            "SELECT p.outlet_id, o.company_id, o.region_id, SUM(h.amount) AS held "
            "FROM hold h JOIN account a ON a.id = h.account_id "
            "JOIN person p ON p.id = a.person_id LEFT JOIN outlet o ON o.id = p.outlet_id "
            "WHERE h.status = 'open' GROUP BY p.outlet_id, o.company_id, o.region_id")
        found = {int(r["outlet_id"] or 0): (int(r["company_id"] or 0), int(r["region_id"] or 0),
                                            int(r["held"] or 0)) for r in rows}
        found[NETWORK_ROW] = (NETWORK_ROW, NETWORK_ROW, sum(h for _, _, h in found.values()))
        await conn.execute_query("UPDATE analytics_held SET held = 0 WHERE held <> 0")
        await conn.execute_many(
            "INSERT INTO analytics_held (outlet_id, company_id, region_id, held) "  # noqa: S608
            f"VALUES ({', '.join(placeholders(conn, 4))}) ON CONFLICT (outlet_id) DO UPDATE "
            "SET company_id = excluded.company_id, region_id = excluded.region_id, "
            "held = excluded.held",
            [[outlet, *values] for outlet, values in found.items()])


async def fold_batch(source: str, *, now: datetime, settle: timedelta = SETTLE,
                     batch: int = BATCH) -> int:
    """One batch of one source, in one transaction with its cursor; returns rows read."""
    async with write_transaction() as conn:
        cursor = await _cursor(conn, source, now=now, settle=settle)
        if cursor.safe_through <= cursor.done_through:
            return 0
        deltas = Deltas()
        reader = _READERS[source]
        read, last = await reader(conn, deltas, cursor.done_through, cursor.safe_through,
                                  batch, now)
        if read == 0:
            if last > cursor.done_through:  # only gaps (rolled-back ids) before the horizon
                await FoldCursor.filter(source=source).using_db(conn).update(
                    done_through=last)
            return 0
        await _apply(conn, deltas)
        await FoldCursor.filter(source=source).using_db(conn).update(done_through=last)
        return read


async def _cursor(conn: BaseDBAsyncClient, source: str, *, now: datetime,
                  settle: timedelta) -> FoldCursor:
    # Two folds may run at once (the fold job and the report's): the cursor's row is
    # locked for the batch (SQLite's write lock is already held), so they take turns.
    await FoldCursor.bulk_create([FoldCursor(source=source)], ignore_conflicts=True,
                                 using_db=conn)
    cursor = await FoldCursor.filter(source=source).using_db(conn).select_for_update().get()
    table = TABLES[source]
    rows = await conn.execute_query_dict(f"SELECT MAX(id) AS top FROM {table}")  # noqa: S608
    top = int(rows[0]["top"] or 0)
    if not is_postgres(conn) or settle <= timedelta(0):
        cursor.safe_through = top
    elif cursor.seen_at is None or cursor.seen_at <= now - settle:
        if cursor.seen_at is not None:
            cursor.safe_through = max(cursor.safe_through, cursor.seen_max)
        cursor.seen_max, cursor.seen_at = top, now
    await cursor.save(using_db=conn)
    return cursor


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def _month_of_day(day: str) -> str:
    return day[:7]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _sql(conn: BaseDBAsyncClient, text: str) -> str:
    """``text`` with ``?`` markers in the connection's dialect."""
    if not is_postgres(conn):
        return text
    parts = text.split("?")
    return "".join(part + (f"${n}" if n < len(parts) else "")
                   for n, part in enumerate(parts, start=1))


async def _people(conn: BaseDBAsyncClient, deltas: Deltas, after: int, through: int,
                  batch: int, now: datetime) -> tuple[int, int]:
    rows = await conn.execute_query_dict(_sql(conn,
        "SELECT p.id, p.roles, p.outlet_id, o.company_id, o.region_id, p.created_at "
        "FROM person p LEFT JOIN outlet o ON o.id = p.outlet_id "
        "WHERE p.id > ? AND p.id <= ? ORDER BY p.id LIMIT ?"), [after, through, batch])
    for row in rows:
        where = Where.of(row["outlet_id"], row["company_id"], row["region_id"], row["roles"])
        if where.player:
            deltas.add_month(_month(_moment(row["created_at"])), where, new_players=1)
    return len(rows), (rows[-1]["id"] if rows else through)


async def _visits(conn: BaseDBAsyncClient, deltas: Deltas, after: int, through: int,
                  batch: int, now: datetime) -> tuple[int, int]:
    rows = await conn.execute_query_dict(_sql(conn,
        "SELECT v.id, v.person_id, v.day, p.roles, p.outlet_id, o.company_id, o.region_id "
        "FROM analytics_visit v JOIN person p ON p.id = v.person_id "
        "LEFT JOIN outlet o ON o.id = p.outlet_id "
        "WHERE v.id > ? AND v.id <= ? ORDER BY v.id LIMIT ?"), [after, through, batch])
    for row in rows:
        where = Where.of(row["outlet_id"], row["company_id"], row["region_id"], row["roles"])
        if not where.player:
            continue
        month = _month_of_day(row["day"])
        deltas.add_day(row["day"], where, visits=1)
        deltas.add_month(month, where, visits=1)
        deltas.add_player(month, row["person_id"], where, visit_days=1)
    return len(rows), (rows[-1]["id"] if rows else through)


async def _transfers(conn: BaseDBAsyncClient, deltas: Deltas, after: int, through: int,
                     batch: int, now: datetime) -> tuple[int, int]:
    side = ("{a}.person_id AS {a}_person, {a}.company_id AS {a}_company_account, "
            "{p}.roles AS {a}_roles, {p}.outlet_id AS {a}_outlet, "
            "{o}.company_id AS {a}_company, {o}.region_id AS {a}_region")
    join = ("JOIN account {a} ON {a}.id = t.{col} LEFT JOIN person {p} ON {p}.id = {a}.person_id "
            "LEFT JOIN outlet {o} ON {o}.id = {p}.outlet_id ")
    rows = await conn.execute_query_dict(_sql(conn,
        "SELECT t.id, t.kind, t.amount, t.reference, t.created_at, "  # noqa: S608
        + side.format(a="src", p="sp", o="so") + ", " + side.format(a="dst", p="dp", o="do_")
        + " FROM transfer t "
        + join.format(a="src", p="sp", o="so", col="source_id")
        + join.format(a="dst", p="dp", o="do_", col="target_id")
        + "WHERE t.id > ? AND t.id <= ? ORDER BY t.id LIMIT ?"), [after, through, batch])
    for row in rows:
        moment, kind, amount = _moment(row["created_at"]), str(row["kind"]), int(row["amount"])
        day, month = _day(moment), _month(moment)
        if row["src_person"] is not None:
            where = Where.of(row["src_outlet"], row["src_company"], row["src_region"],
                             row["src_roles"])
            if kind == "burn":
                column = "burned_inactivity" if row["reference"] == INACTIVITY else "burned_other"
                deltas.add_day(day, where, burned=amount)
            else:
                column = OUT_OF.get(kind, "sent_other")
                if column in DAY_FLOWS:
                    deltas.add_day(day, where, **{column: amount})
            deltas.add_month(month, where, **{column: amount})
        if row["dst_person"] is not None:
            where = Where.of(row["dst_outlet"], row["dst_company"], row["dst_region"],
                             row["dst_roles"])
            column = INTO.get(kind, "received_other")
            deltas.add_month(month, where, **{column: amount})
            if column in DAY_FLOWS:
                deltas.add_day(day, where, **{column: amount})
            if kind == "earn":
                deltas.add_player(month, int(row["dst_person"]), where, earned=amount)
        if row["src_company_account"] is not None:
            deltas.add_company(month, int(row["src_company_account"]),
                               COMPANY_OUT_OF.get(kind, "removed"), amount)
        if row["dst_company_account"] is not None:
            deltas.add_company(month, int(row["dst_company_account"]),
                               COMPANY_INTO.get(kind, "received_other"), amount)
    return len(rows), (rows[-1]["id"] if rows else through)


async def _games(conn: BaseDBAsyncClient, deltas: Deltas, after: int, through: int,
                 batch: int, now: datetime) -> tuple[int, int]:
    rows = await conn.execute_query_dict(_sql(conn,
        "SELECT g.id, g.person_id, g.status, g.attempt, g.points, g.finished_at, g.deadline, "
        "p.roles, p.outlet_id, o.company_id, o.region_id "
        "FROM game g JOIN person p ON p.id = g.person_id "
        "LEFT JOIN outlet o ON o.id = p.outlet_id "
        "WHERE g.id > ? AND g.id <= ? ORDER BY g.id LIMIT ?"), [after, through, batch])
    if not rows:
        return 0, through  # only ids that were never committed
    over: list[dict[str, Any]] = []
    for row in rows:
        if row["status"] == "active":
            break  # still running (or waiting for the expiry job): later games wait for it
        over.append(row)
    if not over:
        return 0, after
    for row in over:
        where = Where.of(row["outlet_id"], row["company_id"], row["region_id"], row["roles"])
        ended = _moment(row["finished_at"] or row["deadline"])
        day, month = _day(ended), _month(ended)
        if row["status"] == "finished":
            deltas.add_day(day, where, games_finished=1)
            deltas.add_month(month, where, games_finished=1)
            deltas.add_player(month, int(row["person_id"]), where, games=1)
        else:
            # Only a quiz's first game is ever credited, so only its points are lost.
            lost = int(row["points"]) if int(row["attempt"]) == 1 else 0
            deltas.add_month(month, where, games_abandoned=1, burned_games=lost)
    await _answers(conn, deltas, over)
    return len(over), int(over[-1]["id"])


async def _answers(conn: BaseDBAsyncClient, deltas: Deltas, games: Sequence[Mapping[str, Any]]
                   ) -> None:
    place = {int(g["id"]): Where.of(g["outlet_id"], g["company_id"], g["region_id"], g["roles"])
             for g in games}
    ids = list(place)
    marks = ", ".join(placeholders(conn, len(ids)))
    answers = await conn.execute_query_dict(
        "SELECT game_id, question_id, chosen, elapsed_ms, correct, answered_at "  # noqa: S608
        f"FROM answer WHERE game_id IN ({marks})", ids)
    if not answers:
        return
    question_ids = sorted({int(a["question_id"]) for a in answers})
    marks = ", ".join(placeholders(conn, len(question_ids)))
    questions = {int(q["id"]): q for q in await conn.execute_query_dict(
        "SELECT q.id, q.quiz_id, z.pack_id, z.scoring, q.choices FROM question q "  # noqa: S608
        f"JOIN quiz z ON z.id = q.quiz_id WHERE q.id IN ({marks})", question_ids)}
    for answer in answers:
        question = questions[int(answer["question_id"])]
        qid = int(question["id"])
        deltas.question_of[qid] = (int(question["quiz_id"]), int(question["pack_id"]))
        month = _month(_moment(answer["answered_at"]))
        chosen = [int(c) for c in _json(answer["chosen"])]
        right = {i for i, c in enumerate(_json(question["choices"])) if c.get("correct")}
        deltas.add_month(month, place[int(answer["game_id"])], answers=1)
        if question["scoring"] == SURVEY:
            continue  # a survey has no right answer: nothing there to know or not know
        counts = deltas.question[(month, qid)]
        counts["answered"] += 1
        if not chosen:
            counts["timed_out"] += 1
            continue
        if answer["correct"]:
            counts["correct"] += 1
        else:
            counts["wrong"] += 1
            for choice in chosen:
                if choice not in right:
                    deltas.slots[(month, qid, "choice", choice)] += 1
        second = min(int(answer["elapsed_ms"]) // 1000, SLOWEST_SECOND)
        deltas.slots[(month, qid, "time", second)] += 1


_READERS = {"person": _people, "visit": _visits, "transfer": _transfers, "game": _games}


# -- writing the deltas -------------------------------------------------------------------


async def _apply(conn: BaseDBAsyncClient, deltas: Deltas) -> None:
    await _crossings(conn, deltas)
    await _add(conn, "analytics_player_month", ("month", "person_id"), {},
               deltas.player, ("visit_days", "games", "earned"))
    await _add(conn, "analytics_day", ("day", "outlet_id"),
               {key: _place(deltas, key[1]) for key in deltas.day}, deltas.day,
               ("visits", "games_finished", "earned", "spent", "donated", "captured", "burned"))
    await _add(conn, "analytics_month", ("month", "outlet_id"),
               {key: _place(deltas, key[1]) for key in deltas.month}, deltas.month,
               MONTH_COLUMNS)
    await _add(conn, "analytics_company_month", ("month", "company_id"), {}, deltas.company,
               COMPANY_COLUMNS)
    await _add(conn, "analytics_question_month", ("month", "question_id"),
               {key: {"quiz_id": deltas.question_of[key[1]][0],
                      "pack_id": deltas.question_of[key[1]][1]} for key in deltas.question},
               deltas.question, ("answered", "correct", "wrong", "timed_out"))
    await _add(conn, "analytics_question_slot", ("month", "question_id", "kind", "slot"), {},
               {key: {"count": count} for key, count in deltas.slots.items()}, ("count",))


def _place(deltas: Deltas, outlet: int) -> dict[str, int]:
    where = deltas.places[outlet]
    return {"company_id": where.company, "region_id": where.region}


async def _crossings(conn: BaseDBAsyncClient, deltas: Deltas) -> None:
    """People whose month crosses a threshold in this batch (first visit, first finished
    game, fifth task) add one to their outlet's distinct counts."""
    by_month: dict[str, list[int]] = defaultdict(list)
    for month, person_id in deltas.player:
        by_month[month].append(person_id)
    for month, people in by_month.items():
        marks = ", ".join(placeholders(conn, len(people), start=2))
        first = placeholders(conn, 1)[0]
        before = {int(r["person_id"]): r for r in await conn.execute_query_dict(
            "SELECT person_id, visit_days, games FROM analytics_player_month "  # noqa: S608
            f"WHERE month = {first} AND person_id IN ({marks})", [month, *people])}
        for person_id in people:
            old = before.get(person_id, {"visit_days": 0, "games": 0})
            added = deltas.player[(month, person_id)]
            where = deltas.player_place[(month, person_id)]
            visits, games = int(old["visit_days"]), int(old["games"])
            crossed = {
                "active_players": visits == 0 < added.get("visit_days", 0),
                "players_with_game": games == 0 < added.get("games", 0),
                "players_with_five": games < 5 <= games + added.get("games", 0),
            }
            ones = {name: 1 for name, yes in crossed.items() if yes}
            if ones:
                deltas.add_month(month, where, **ones)


async def _add(conn: BaseDBAsyncClient, table: str, keys: tuple[str, ...],
               fixed: Mapping[tuple[Any, ...], Mapping[str, int]],
               rows: Mapping[tuple[Any, ...], Mapping[str, int]],
               columns: Iterable[str]) -> None:
    """Adds ``rows`` (key -> column -> amount) to ``table``: one upsert statement, run
    for every row. ``fixed`` values are written when a row is first made."""
    columns = tuple(columns)
    if not rows or not columns:
        return
    first = next(iter(rows))
    extra = tuple(fixed.get(first, {}))
    names = (*keys, *extra, *columns)
    marks = ", ".join(placeholders(conn, len(names)))
    sums = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    sql = (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) "  # noqa: S608
           f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sums}")
    await conn.execute_many(sql, [
        [*key, *(fixed[key][e] for e in extra), *(values.get(c, 0) for c in columns)]
        for key, values in rows.items()])


def month_days(month: str) -> list[str]:
    start = date.fromisoformat(month + "-01")
    days, day = [], start
    while day.strftime("%Y-%m") == month:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days
