"""Leaderboard pages and API: who is ranked, and what a player may see of others."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import time_machine
from starlette.applications import Starlette
from starlette.routing import Mount

from portal.accounts.models import Person
from portal.content.models import Question, Quiz
from portal.leaderboard import teams
from portal.play import games
from portal.settings import Settings
from tests.factories import People, SignIn, make_person, publish_live_copy, token_for

RULES = games.Rules(grace_seconds=2, extra_minutes=15, welcome_bonus=100)


async def finish_a_game(person: Person) -> None:
    """Plays the example quiz through, answering every question right."""
    now = datetime.now(UTC)
    quiz = await Quiz.get(slug="basics")
    game = await games.start(person, quiz.id, now=now, rules=RULES)
    while view := await games.current_question(person, game.id, now=now, rules=RULES):
        question = await Question.get(id=view.question_id)
        order = game.choice_order[str(question.id)]
        right = [p for p, a in enumerate(order) if question.choices[a]["correct"]]
        await games.answer(person, game.id, view.question_id, right, now=now, rules=RULES)


@pytest.fixture(autouse=True)
def mid_month() -> Iterator[None]:
    """Games, pages and the season they count in read one clock, far from a month's end
    (on the real clock a game finished at 23:59 on the 30th shows on December's board)."""
    with time_machine.travel(datetime(2026, 11, 15, 12, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
async def live(people: People, settings: Settings, tmp_path: Path) -> None:
    await publish_live_copy("example", tmp_path / "pack", Path(settings.media_dir))


@pytest.mark.usefixtures("live")
async def test_the_outlet_board_counts_only_active_staff_and_hides_small_outlets(
    people: People, sign_in: SignIn
) -> None:
    # North: Alice and Bob played, plus a colleague who never plays. South: one player.
    await make_person("idle@example.com", outlet=people.north)
    lone = await make_person("lone@example.com", outlet=people.south)
    for person in (people.alice, people.bob, lone):
        await finish_a_game(person)
    alice = await sign_in("alice@example.com")
    page = await alice.get("/leaderboard/outlets")
    assert page.status_code == 200
    assert "Acme North" not in page.text  # two active staff: under the minimum of three
    assert "No team has enough active staff" in page.text
    api = httpx.AsyncClient(transport=alice._transport, base_url="http://testserver")
    token = await token_for(api, "bob@example.com")
    body = (await api.get("/api/v1/leaderboards/outlets?season=2026-11",
                          headers={"Authorization": f"Bearer {token}"})).json()
    assert body["minimum_active"] == 3
    await api.aclose()


@pytest.mark.usefixtures("live")
async def test_with_a_lower_minimum_the_average_is_over_active_staff(
    app: Starlette, people: People, sign_in: SignIn
) -> None:
    lenient = Settings(**{**app.state.settings.__dict__, "leaderboard_min_active": 1})
    # The pages and the API are mounted apps, each reading its own state.
    for part in (app, *(r.app for r in app.routes if isinstance(r, Mount))):
        if isinstance(part, Starlette):
            part.state.settings = lenient
    await make_person("idle@example.com", outlet=people.north)  # never plays: not counted
    for person in (people.alice, people.bob):
        await finish_a_game(person)
    alice = await sign_in("alice@example.com")
    page = await alice.get("/leaderboard/outlets")
    assert "Acme North" in page.text
    rows = await teams.team_board(
        people.alice, by="outlets", season=datetime.now(UTC).strftime("%Y-%m"),
        minimum_active=1)
    north = next(t for t in rows if t.name == "Acme North")
    assert north.active == 2 and north.is_mine


@pytest.mark.usefixtures("live")
async def test_no_board_shows_anyones_email(people: People, sign_in: SignIn) -> None:
    for person in (people.alice, people.erin):
        await finish_a_game(person)
    alice = await sign_in("alice@example.com")
    for board in ("season", "all-time", "outlets", "regions", "companies"):
        page = await alice.get(f"/leaderboard/{board}")
        assert "@example.com" not in page.text, board
    api = httpx.AsyncClient(transport=alice._transport, base_url="http://testserver")
    headers = {"Authorization": f"Bearer {await token_for(api, 'alice@example.com')}"}
    for board in ("season", "all-time", "outlets"):
        response = await api.get(f"/api/v1/leaderboards/{board}", headers=headers)
        assert response.status_code == 200 and "@example.com" not in response.text
    await api.aclose()


@pytest.mark.usefixtures("live")
async def test_the_board_shows_my_place_and_refreshes_as_a_fragment(people: People,
                                                                   sign_in: SignIn) -> None:
    await finish_a_game(people.alice)
    alice = await sign_in("alice@example.com")
    page = await alice.get("/leaderboard/season")
    assert "You are #1 with" in page.text and 'hx-trigger="every 30s"' in page.text
    fragment = await alice.get("/leaderboard/season", headers={"hx-request": "true"})
    assert "<html" not in fragment.text and "You are #1 with" in fragment.text
    erin = await sign_in("erin@example.com")
    assert "You are not on this board yet" in (await erin.get("/leaderboard/season")).text


@pytest.mark.usefixtures("live")
async def test_the_board_opens_on_my_place_with_the_points_to_the_next_and_filters_folded(
        people: People, sign_in: SignIn) -> None:
    await finish_a_game(people.alice)
    await finish_a_game(people.bob)  # slower by a moment at most: one point apart or level
    bob = await sign_in("bob@example.com")
    page = (await bob.get("/leaderboard/season")).text
    assert page.index('id="me"') < page.index("Top 10")
    assert re.search(r"\d+ points? to the next place", page) or "You lead this board." in page
    assert '<details class="filters-box" >' in page  # folded until asked for
    filtered = (await bob.get(f"/leaderboard/season?region={people.north.region_id}")).text
    assert '<details class="filters-box" open>' in filtered


@pytest.mark.parametrize("url", ["/leaderboard/season?season=2026-13",
                                 "/leaderboard/season?season=2999-01",
                                 "/leaderboard/season?region=abc",
                                 "/leaderboard/season?outlet=99999999999"])
async def test_bad_board_parameters_are_a_400(people: People, sign_in: SignIn, url: str) -> None:
    alice = await sign_in("alice@example.com")
    assert (await alice.get(url)).status_code == 400


async def test_an_unknown_board_is_a_404(people: People, sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    assert (await alice.get("/leaderboard/galaxy")).status_code == 404
