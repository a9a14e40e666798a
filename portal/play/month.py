"""This month: the live quizzes and courses as a player sees them, with their state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections

from portal.accounts.models import Person
from portal.content.models import Pack, Quiz
from portal.content.service import localized
from portal.db import placeholders
from portal.play.games import GameSummary, unfinished_games
from portal.play.models import Game, GameStatus
from portal.play.scoring import is_survey


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
    closes_at: datetime  # when its pack stops being live
    mandatory: bool = False
    survey: bool = False  # a quiz without right answers, earning its points for finishing

    @property
    def open(self) -> bool:
        """Still to play or finish: new or started."""
        return self.state in {"new", "in_progress"}


@dataclass(frozen=True)
class Month:
    cards: list[Card]
    unfinished: list[GameSummary]  # games abandoned, their points burned

    @property
    def still_to_earn(self) -> int:
        """The most the cards not done yet can still earn this month."""
        return sum(card.points_at_stake for card in self.cards if card.open)


async def this_month(person: Person, *, now: datetime) -> Month:
    """What the player's month holds: the live items, and the games they did not finish."""
    return Month(cards=await cards(person, now=now), unfinished=await unfinished_games(person))


async def cards(person: Person, *, now: datetime) -> list[Card]:
    """The live quizzes and courses with this person's state in each.

    Two hand-written statements whatever the month holds (the dashboard asks on every
    view): the live packs' quizzes and courses with their sizes, in the packs' order and
    then by position, quizzes before courses; then this person's games and course
    progress in those packs.
    """
    conn = connections.get("default")
    live = "p.live_from <= {} AND p.live_until > {}"
    mark = placeholders(conn, 6)
    items = await conn.execute_query_dict(
        "SELECT 0 AS course, q.id, q.title, q.description, q.base_points AS points, "  # noqa: S608
        "q.scoring, q.attempts, FALSE AS mandatory, q.position, p.live_from, p.live_until, "
        "p.default_language, (SELECT COUNT(*) FROM question x WHERE x.quiz_id = q.id) AS size "
        "FROM quiz q JOIN pack p ON p.id = q.pack_id "
        f"WHERE {live.format(*mark[:2])} AND q.course_id IS NULL "
        "UNION ALL SELECT 1, c.id, c.title, c.description, c.points, '', 0, c.mandatory, "
        "c.position, p.live_from, p.live_until, p.default_language, "
        "(SELECT COUNT(*) FROM lesson x WHERE x.course_id = c.id) "
        f"FROM course c JOIN pack p ON p.id = c.pack_id WHERE {live.format(*mark[2:4])} "
        "ORDER BY 10, 1, 9", [now, now, now, now])
    if not items:
        return []
    played = await conn.execute_query_dict(
        "SELECT 0 AS course, g.quiz_id AS item, g.id, g.status, g.deadline, g.points, "  # noqa: S608
        "g.correct, g.attempt FROM game g JOIN quiz q ON q.id = g.quiz_id "
        f"JOIN pack p ON p.id = q.pack_id WHERE g.person_id = {mark[0]} AND "
        f"{live.format(*mark[1:3])} UNION ALL SELECT 1, cp.course_id, cp.id, "
        "CASE WHEN cp.completed_at IS NULL THEN 'started' ELSE 'completed' END, NULL, 0, 0, 0 "
        "FROM course_progress cp JOIN course c ON c.id = cp.course_id "
        f"JOIN pack p ON p.id = c.pack_id WHERE cp.person_id = {mark[3]} AND "
        f"{live.format(*mark[4:6])} ORDER BY 8", [person.id, now, now, person.id, now, now])
    games: dict[int, list[dict[str, Any]]] = {}
    progress: dict[int, str] = {}
    for row in played:
        if row["course"]:
            progress[row["item"]] = row["status"]
        else:
            games.setdefault(row["item"], []).append(row)
    found = []
    for item in items:
        language = (person.language, item["default_language"])
        closes_at = _PACK_TIME.to_python_value(item["live_until"])
        if item["course"]:
            found.append(_course_card(item, language, closes_at, progress.get(item["id"])))
        else:
            found.append(_quiz_card(item, language, now, closes_at, games.get(item["id"], [])))
    return found


# How the models read their columns (JSON and timestamps arrive as text from SQLite).
_TEXTS = Quiz._meta.fields_map["title"]
_PACK_TIME = Pack._meta.fields_map["live_until"]
_GAME_TIME = Game._meta.fields_map["deadline"]


def _quiz_card(quiz: dict[str, Any], language: tuple[str, str], now: datetime,
               closes_at: datetime, games: list[dict[str, Any]]) -> Card:
    """``games``: this person's games of the quiz, by attempt."""
    total = int(quiz["size"])
    active = next((g for g in games if g["status"] == GameStatus.ACTIVE
                   and _GAME_TIME.to_python_value(g["deadline"]) > now), None)
    finished = [g for g in games if g["status"] == GameStatus.FINISHED]
    best = max(finished, key=lambda g: g["points"]) if finished else None
    if active:
        state = "in_progress"
    elif best or len(games) >= quiz["attempts"]:
        state = "done"
    else:
        state = "new"
    survey = is_survey(quiz["scoring"])
    return Card(
        kind="quiz", id=quiz["id"], title=localized(_TEXTS.to_python_value(quiz["title"]),
                                                    *language),
        description=localized(_TEXTS.to_python_value(quiz["description"]), *language),
        state=state, questions=total,
        # A survey's base_points are its points for finishing, not per answer.
        points_at_stake=quiz["points"] if survey else total * quiz["points"],
        score=best["points"] if best else None, correct=best["correct"] if best else None,
        game_id=active["id"] if active else (best["id"] if best else None),
        closes_at=closes_at, survey=survey,
    )


def _course_card(course: dict[str, Any], language: tuple[str, str], closes_at: datetime,
                 progress: str | None) -> Card:
    """``progress``: started, completed, or None when the person has not begun."""
    return Card(
        kind="course", id=course["id"],
        title=localized(_TEXTS.to_python_value(course["title"]), *language),
        description=localized(_TEXTS.to_python_value(course["description"]), *language),
        state={"completed": "done", "started": "in_progress"}.get(progress or "", "new"),
        questions=int(course["size"]), points_at_stake=course["points"], score=None,
        correct=None, game_id=None, closes_at=closes_at, mandatory=bool(course["mandatory"]),
    )
