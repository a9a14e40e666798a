"""Team boards and a manager's staff, counting only staff who finished a game that month."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.accounts.models import Person, Role
from portal.content.models import Quiz
from portal.leaderboard import teams
from portal.ledger import service as ledger
from portal.play.models import Game, GameStatus
from tests.factories import make_company, make_outlet, make_person, make_region, publish_live_copy

pytestmark = pytest.mark.usefixtures("any_db")
T0 = datetime(2026, 12, 3, tzinfo=UTC)
_attempts = itertools.count(1)


@pytest.fixture
async def quiz(any_db: str, tmp_path: Path) -> None:
    await publish_live_copy("example", tmp_path / "pack", tmp_path / "media")


async def plays(person: Person, *, points: int, games: int = 1, at: datetime = T0) -> None:
    """``games`` finished games (as play records them) and ``points`` earned this month."""
    quiz = await Quiz.first()
    assert quiz is not None
    for _ in range(games):
        await Game.create(person=person, quiz=quiz, attempt=next(_attempts),
                          status=GameStatus.FINISHED, question_order=[], choice_order={},
                          started_at=at, deadline=at + timedelta(hours=1), finished_at=at)
    if points:
        await ledger.earn(await ledger.account_of_person(person.id), amount=points,
                          reason="Quiz", reference="q", key=f"t{person.id}:{points}", now=at)


@pytest.mark.usefixtures("quiz")
async def test_teams_rank_by_the_average_of_their_active_staff_from_the_minimum_up() -> None:
    acme, other = await make_company("Acme"), await make_company("Other")
    north, south = await make_region("North"), await make_region("South")
    big = await make_outlet(acme, north, "Big")
    small = await make_outlet(acme, south, "Small")
    lone = await make_outlet(other, north, "Lone")
    staff = [await make_person(f"b{i}@example.com", outlet=big) for i in range(4)]
    for person, points in zip(staff[:3], (300, 200, 0), strict=True):
        await plays(person, points=points)  # the fourth never plays: not active, not averaged
    await plays(staff[3], points=0, games=0)
    gone = await make_person("gone@example.com", outlet=big)
    await plays(gone, points=900)
    await Person.filter(id=gone.id).update(is_active=False)  # deactivated: left out
    small_staff = [await make_person(f"s{i}@example.com", outlet=small) for i in range(2)]
    for person in small_staff:
        await plays(person, points=400)
    await plays(await make_person("lone@example.com", outlet=lone), points=1000)
    idle = await make_person("idle@example.com", outlet=small)
    await plays(idle, points=50, at=T0 - timedelta(days=10))  # last month's game

    outlets = await teams.team_board(staff[0], by="outlets", season="2026-12", minimum_active=2)
    assert [(t.name, t.active, t.average, t.is_mine) for t in outlets] == [
        ("Small", 2, 400.0, False), ("Big", 3, 166.7, True)]
    regions = await teams.team_board(staff[0], by="regions", season="2026-12",
                                     minimum_active=1)
    assert [(t.name, t.active, t.average) for t in regions] == [
        ("South", 2, 400.0), ("North", 4, 375.0)]
    companies = await teams.team_board(small_staff[0], by="companies", season="2026-12",
                                       minimum_active=3)
    assert [(t.rank, t.name, t.active, t.is_mine) for t in companies] == [
        (1, "Acme", 5, True)]


@pytest.mark.usefixtures("quiz")
async def test_a_manager_sees_each_of_their_companys_people_with_games_and_points() -> None:
    acme, other = await make_company("Acme"), await make_company("Other")
    north = await make_outlet(acme, name="North")
    manager = await make_person("boss@example.com", outlet=north, name="Boss",
                                roles={Role.MANAGER, Role.PLAYER})
    player = await make_person("pat@example.com", outlet=north, name="Pat")
    await plays(player, points=250, games=2)
    await plays(player, points=0, at=T0 - timedelta(days=10))  # November: not counted
    await plays(await make_person("x@example.com", outlet=await make_outlet(other)), points=9)
    staff = await teams.staff_board(manager, season="2026-12")
    assert [(s.name, s.outlet, s.games, s.points) for s in staff] == [
        ("Pat", "North", 2, 250), ("Boss", "North", 0, 0)]
