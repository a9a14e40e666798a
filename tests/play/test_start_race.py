"""A double tap on Start, from one process or several, makes exactly one game.

The (person, quiz, attempt) key decides the race; the start that loses it answers with
the game that won, never an error. Separate processes are what make SQLite's writers
really race (one process has one connection), so both engines are raced both ways. Through
the pages, ten taps at once redirect to the one game.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from portal.accounts.models import Person
from portal.content import schema, service
from portal.content.models import Quiz
from portal.play import courses
from portal.play import games as play
from portal.play.models import Game
from portal.settings import PROJECT_ROOT, Settings
from tests.factories import People, make_person, post_form, publish_live_copy

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
RULES = play.Rules(grace_seconds=2, extra_minutes=15, welcome_bonus=100)


@pytest.fixture
async def alice(tmp_path: Path) -> Person:
    await service.publish(schema.read_pack(PROJECT_ROOT / "quizzes" / "example"),
                          media_dir=tmp_path, now=T0)
    return await make_person("alice@example.com")


def race_in_processes(db_url: str, person: Person, quiz: Quiz, processes: int, each: int
                      ) -> list[dict[str, list[object]]]:
    command = [sys.executable, "-m", "tests.play.start_worker", db_url, str(person.id),
               str(quiz.id), T0.isoformat(), str(each)]
    workers = [subprocess.Popen(command, cwd=PROJECT_ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(processes)]
    for worker in workers:  # every process connected before any starts a game
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    summaries = []
    for worker in workers:
        out, err = worker.communicate("go\n", timeout=120)
        assert worker.returncode == 0, err
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    return summaries


@pytest.mark.usefixtures("any_db")
async def test_starts_racing_in_four_processes_make_one_game_and_all_get_it(
        any_db: str, alice: Person) -> None:
    quiz = await Quiz.get(slug="basics")
    summaries = await asyncio.to_thread(race_in_processes, any_db, alice, quiz, 4, 5)
    assert [s["errors"] for s in summaries] == [[]] * 4
    game = await Game.get(person_id=alice.id, quiz_id=quiz.id)  # exactly one
    assert [s["games"] for s in summaries] == [[game.id]] * 4
    assert game.attempt == 1


@pytest.mark.usefixtures("any_db")
@pytest.mark.parametrize("slug", ["basics", "install-final"])  # one attempt; three
async def test_starts_racing_in_one_process_make_one_game(alice: Person, slug: str) -> None:
    quiz = await Quiz.get(slug=slug)
    if quiz.course_id is not None:
        for lesson in (await courses.course_view(alice, quiz.course_id, now=T0)).lessons:
            await courses.mark_lesson_read(alice, quiz.course_id, lesson.id, now=T0)
    games = await asyncio.gather(*(play.start(alice, quiz.id, now=T0, rules=RULES)
                                   for _ in range(10)))
    game = await Game.get(person_id=alice.id)  # exactly one
    assert {g.id for g in games} == {game.id}
    assert game.attempt == 1


async def test_ten_taps_on_start_redirect_to_one_game(
        people: People, settings: Settings, tmp_path: Path,
        sign_in: Callable[[str], Awaitable[httpx.AsyncClient]]) -> None:
    await publish_live_copy("example", tmp_path / "pack", Path(settings.media_dir))
    alice = await sign_in("alice@example.com")
    quiz = await Quiz.get(slug="basics")
    taps = await asyncio.gather(*(post_form(alice, f"/play/quiz/{quiz.id}/start", {})
                                  for _ in range(10)))
    game = await Game.get(person_id=people.alice.id)  # exactly one
    assert {(tap.status_code, tap.headers["location"]) for tap in taps} == {
        (303, f"http://testserver/play/game/{game.id}")}
