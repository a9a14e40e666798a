"""Late is late, and a replayed answer gets the first reply: on SQLite and on PostgreSQL,
through the service, the pages and the API.

The example pack's quiz has 20 s questions (a 2 s grace), its course's final quiz 25 s
ones (2 s too: the 2 s setting is under a tenth of 25 s) and a pass mark of 50 %.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import time_machine

from portal.accounts.models import Person
from portal.content import schema, service
from portal.content.models import Question, Quiz
from portal.ledger import service as ledger
from portal.ledger.models import Transfer
from portal.play import courses, games
from portal.play.errors import NotFound
from portal.play.models import Answer, CourseProgress, Game
from portal.settings import PROJECT_ROOT, Settings
from tests.factories import (
    People,
    SignIn,
    csrf,
    make_person,
    post_form,
    publish_live_copy,
    token_for,
    without_csrf_tokens,
)

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
RULES = games.Rules(grace_seconds=2, extra_minutes=15, welcome_bonus=100)
Result = TypeVar("Result")


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """Every test here runs on both engines, the HTTP ones included."""
    return any_db_url


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def positions(game_id: int, question_id: int, *, right: bool) -> list[int]:
    """What the player would tap: the right choices, or one wrong one."""
    game = await Game.get(id=game_id)
    question = await Question.get(id=question_id)
    order = game.choice_order[str(question_id)]
    found = [p for p, authored in enumerate(order) if question.choices[authored]["correct"]]
    if right:
        return found
    return [next(p for p in range(len(order)) if p not in found)]


# -- through the service ------------------------------------------------------------------


@pytest.fixture
async def example(db: str, tmp_path: Path) -> None:
    await service.publish(schema.read_pack(PROJECT_ROOT / "quizzes" / "example"),
                          media_dir=tmp_path, now=T0)


@pytest.fixture
async def alice(example: None) -> Person:
    return await make_person("alice@example.com")


async def shown_at(person: Person, game: Game, seconds: float) -> int:
    view = await games.current_question(person, game.id, now=at(seconds), rules=RULES)
    assert view is not None
    return view.question_id


async def read_every_lesson(person: Person, course_id: int, *, now: datetime) -> None:
    for lesson in (await courses.course_view(person, course_id, now=now)).lessons:
        await courses.mark_lesson_read(person, course_id, lesson.id, now=now)


async def test_a_right_answer_after_the_limit_and_the_grace_is_too_late_not_correct(
    alice: Person,
) -> None:
    game = await games.start(alice, (await Quiz.get(slug="basics")).id, now=T0, rules=RULES)
    first = await shown_at(alice, game, 0)
    in_time = await games.answer(alice, game.id, first, await positions(game.id, first,
                                                                        right=True),
                                now=at(1), rules=RULES)
    second = await shown_at(alice, game, 1)
    late = await games.answer(alice, game.id, second, await positions(game.id, second,
                                                                      right=True),
                             now=at(1 + 22.001), rules=RULES)
    third = await shown_at(alice, game, 30)
    last_moment = await games.answer(alice, game.id, third, await positions(game.id, third,
                                                                            right=True),
                                     now=at(30 + 22), rules=RULES)

    assert (in_time.outcome, in_time.correct, in_time.points) == ("correct", True, 98)
    assert (late.outcome, late.correct, late.timed_out, late.points) == (
        "too_late", False, False, 0)
    assert (last_moment.outcome, last_moment.points) == ("correct", 50)
    stored = await Answer.get(game_id=game.id, question_id=second)
    assert (stored.correct, stored.points, stored.elapsed_ms) == (False, 0, 22_001)
    summary = await games.summary(alice, game.id)
    assert (summary.correct, summary.points, summary.credited) == (2, 148, 148)
    credit = await Transfer.get(key=f"quiz:{game.quiz_id}:person:{alice.id}")
    assert credit.reason == "Quiz: Pump basics (2 of 3 correct)"
    assert (await ledger.account_of_person(alice.id)).balance == 148


async def test_a_wrong_answer_after_the_limit_is_too_late_as_well(alice: Person) -> None:
    game = await games.start(alice, (await Quiz.get(slug="basics")).id, now=T0, rules=RULES)
    question = await shown_at(alice, game, 0)
    result = await games.answer(alice, game.id, question,
                               await positions(game.id, question, right=False),
                               now=at(40), rules=RULES)
    assert (result.outcome, result.correct, result.points) == ("too_late", False, 0)


async def test_a_five_second_question_gets_half_a_second_of_grace(alice: Person) -> None:
    await Quiz.filter(slug="basics").update(time_limit=5)
    game = await games.start(alice, (await Quiz.get(slug="basics")).id, now=T0, rules=RULES)
    first = await shown_at(alice, game, 0)
    at_the_edge = await games.answer(alice, game.id, first,
                                    await positions(game.id, first, right=True),
                                    now=at(5.5), rules=RULES)
    second = await shown_at(alice, game, 10)
    # 5.6 s would have counted under the old flat 2 s grace (7 s on a 5 s question).
    assert await shown_at(alice, game, 10 + 5.5) == second  # still on screen at the edge
    past_it = await games.answer(alice, game.id, second,
                                await positions(game.id, second, right=True),
                                now=at(10 + 5.6), rules=RULES)
    assert (at_the_edge.outcome, at_the_edge.points) == ("correct", 50)
    assert (past_it.outcome, past_it.correct, past_it.points) == ("too_late", False, 0)


async def test_a_late_right_answer_never_passes_a_course(alice: Person) -> None:
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    await read_every_lesson(alice, final.course_id, now=T0)
    game = await games.start(alice, final.id, now=T0, rules=RULES)
    first = await shown_at(alice, game, 0)
    await games.answer(alice, game.id, first, await positions(game.id, first, right=False),
                      now=at(1), rules=RULES)
    second = await shown_at(alice, game, 1)
    # Right, but 27.5 s after a 25 s question was shown: one right answer of two would
    # have reached the 50 % pass mark.
    late = await games.answer(alice, game.id, second,
                             await positions(game.id, second, right=True),
                             now=at(1 + 27.5), rules=RULES)
    assert (late.outcome, late.correct, late.finished) == ("too_late", False, True)
    summary = await games.summary(alice, game.id)
    assert (summary.correct, summary.passed) == (0, False)
    progress = await CourseProgress.get(person_id=alice.id, course_id=final.course_id)
    assert progress.completed_at is None and progress.certificate_code is None
    with pytest.raises(NotFound):
        await courses.certificate(alice, final.course_id)
    assert not await Transfer.filter(key__startswith="course:").exists()
    assert not await Transfer.filter(key__startswith="welcome:").exists()
    assert (await ledger.account_of_person(alice.id)).balance == 0


async def test_a_replayed_late_answer_is_too_late_again(alice: Person) -> None:
    game = await games.start(alice, (await Quiz.get(slug="basics")).id, now=T0, rules=RULES)
    question = await shown_at(alice, game, 0)
    right = await positions(game.id, question, right=True)
    first = await games.answer(alice, game.id, question, right, now=at(25), rules=RULES)
    again = await games.answer(alice, game.id, question, right, now=at(26), rules=RULES)
    assert first.outcome == "too_late" and again == first


async def _after(yields: int, step: Awaitable[Result]) -> Result:
    for _ in range(yields):
        await asyncio.sleep(0)
    return await step


async def test_a_replayed_last_answer_gets_the_first_reply_whenever_it_arrives(
    example: None,
) -> None:
    """A double tap on the last question: the second request starts a little later each
    round, so one of them reads the game while the first is finishing it. That one used
    to reply "not finished" (and so offered a next question that does not exist)."""
    quiz = await Quiz.get(slug="basics")
    for delay in range(100):
        person = await make_person()
        game = await games.start(person, quiz.id, now=T0, rules=RULES)
        for step in range(3):
            question = await shown_at(person, game, step * 5)
            right = await positions(game.id, question, right=True)
            if step < 2:
                await games.answer(person, game.id, question, right, now=at(step * 5 + 1),
                                  rules=RULES)
        first, replay = await asyncio.gather(
            games.answer(person, game.id, question, right, now=at(11), rules=RULES),
            _after(delay, games.answer(person, game.id, question, right, now=at(11),
                                      rules=RULES)))
        assert first.finished, delay
        assert replay == first, delay


# -- through the pages and the API --------------------------------------------------------


@pytest.fixture
async def live(people: People, settings: Settings, tmp_path: Path) -> None:
    await publish_live_copy("example", tmp_path / "pack", Path(settings.media_dir))


def later(seconds: float) -> time_machine.travel:
    """The real clock moved on: the server's `now` is read while travelling."""
    return time_machine.travel(datetime.now(UTC) + timedelta(seconds=seconds), tick=False)


def question_id_in(html: str) -> int:
    found = re.search(r'name="question_id" value="(\d+)"', html)
    assert found, html
    return int(found.group(1))


async def page_game(client: httpx.AsyncClient, slug: str) -> int:
    quiz = await Quiz.get(slug=slug)
    response = await post_form(client, f"/play/quiz/{quiz.id}/start", {})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def page_answer(client: httpx.AsyncClient, game_id: int, *, right: bool,
                      wait: float = 1) -> httpx.Response:
    """Shows the current question, then answers it ``wait`` seconds later (HTMX)."""
    htmx = {"hx-request": "true", "x-csrftoken": csrf(client)}
    shown = await client.get(f"/play/game/{game_id}", headers=htmx)
    question_id = question_id_in(shown.text)
    choices = [str(p) for p in await positions(game_id, question_id, right=right)]
    with later(wait):
        return await client.post(f"/play/game/{game_id}/answer", headers=htmx,
                                 data={"question_id": str(question_id), "choice": choices})


@pytest.mark.usefixtures("live")
async def test_the_page_says_too_late_and_does_not_count_it(sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    game_id = await page_game(alice, "basics")
    late = await page_answer(alice, game_id, right=True, wait=23)
    assert late.status_code == 200
    assert "Too late: your answer arrived after the time was up" in late.text
    assert "Correct!" not in late.text and 'data-outcome="too_late"' in late.text
    for _ in range(2):
        assert "Correct! +" in (await page_answer(alice, game_id, right=True)).text
    result = await alice.get(f"/play/game/{game_id}/result")
    assert re.search(r'data-testid="correct">2 of 3 correct<', result.text)
    assert "Your answer:" in result.text  # the late one is among the missed, with its answer


@pytest.mark.usefixtures("live")
async def test_the_page_says_too_late_in_russian(sign_in: SignIn, people: People) -> None:
    await Person.filter(id=people.alice.id).update(language="ru")
    alice = await sign_in("alice@example.com")
    game_id = await page_game(alice, "basics")
    late = await page_answer(alice, game_id, right=True, wait=23)
    assert "Слишком поздно: ответ пришёл, когда время уже вышло" in late.text


@pytest.mark.usefixtures("live")
async def test_a_late_answer_through_the_pages_does_not_pass_the_course(
    sign_in: SignIn, people: People
) -> None:
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    await read_every_lesson(people.alice, final.course_id, now=datetime.now(UTC))
    alice = await sign_in("alice@example.com")
    game_id = await page_game(alice, "install-final")
    assert "Not quite" in (await page_answer(alice, game_id, right=False)).text
    late = await page_answer(alice, game_id, right=True, wait=27.5)
    assert 'data-outcome="too_late"' in late.text and "See your result" in late.text
    result = await alice.get(f"/play/game/{game_id}/result")
    assert "Not enough right answers to pass yet" in result.text
    assert "the course is complete" not in result.text
    certificate = await alice.get(f"/play/course/{final.course_id}/certificate")
    assert certificate.status_code == 404


@pytest.fixture
async def bot(client: httpx.AsyncClient, live: None) -> httpx.AsyncClient:
    client.headers["Authorization"] = f"Bearer {await token_for(client, 'alice@example.com')}"
    return client


async def api_answer(bot: httpx.AsyncClient, game_id: int, *, right: bool,
                     wait: float = 1) -> dict[str, object]:
    question = (await bot.get(f"/api/v1/play/games/{game_id}/question")).json()
    choices = await positions(game_id, question["question_id"], right=right)
    with later(wait):
        response = await bot.post(f"/api/v1/play/games/{game_id}/answer", json={
            "question_id": question["question_id"], "choices": choices})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_the_api_says_too_late_and_does_not_count_it(bot: httpx.AsyncClient) -> None:
    quiz = await Quiz.get(slug="basics")
    game_id = (await bot.post(f"/api/v1/play/quizzes/{quiz.id}/start")).json()["game_id"]
    late = await api_answer(bot, game_id, right=True, wait=22.5)
    assert (late["outcome"], late["correct"], late["timed_out"], late["points"]) == (
        "too_late", False, False, 0)
    for _ in range(2):
        assert (await api_answer(bot, game_id, right=True))["outcome"] == "correct"
    summary = (await bot.get(f"/api/v1/play/games/{game_id}")).json()
    assert summary["correct"] == 2 and summary["credited"] == summary["points"] > 0


async def test_a_late_answer_through_the_api_does_not_pass_the_course(
    bot: httpx.AsyncClient, people: People
) -> None:
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    await read_every_lesson(people.alice, final.course_id, now=datetime.now(UTC))
    game_id = (await bot.post(f"/api/v1/play/quizzes/{final.id}/start")).json()["game_id"]
    assert (await api_answer(bot, game_id, right=False))["outcome"] == "wrong"
    late = await api_answer(bot, game_id, right=True, wait=27.5)
    assert (late["outcome"], late["correct"], late["finished"]) == ("too_late", False, True)
    summary = (await bot.get(f"/api/v1/play/games/{game_id}")).json()
    assert (summary["correct"], summary["passed"], summary["credited"]) == (0, False, 0)
    assert (await bot.get("/api/v1/me")).json()["balance"] == 0


async def test_the_openapi_document_declares_the_outcomes(bot: httpx.AsyncClient) -> None:
    document = (await bot.get("/api/v1/openapi.json")).json()
    schemas = document["components"]["schemas"]
    outcome = schemas["AnswerOut"]["properties"]["outcome"]
    assert outcome["$ref"] == "#/components/schemas/AnswerOutcome"
    assert schemas["AnswerOutcome"]["enum"] == ["correct", "wrong", "timed_out", "too_late",
                                                "accepted"]
    assert "outcome" in schemas["AnswerOut"]["required"]


@pytest.mark.usefixtures("live")
async def test_a_replayed_last_answer_on_the_page_gets_the_same_reply(sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    game_id = await page_game(alice, "basics")
    for _ in range(2):
        await page_answer(alice, game_id, right=True)
    htmx = {"hx-request": "true", "x-csrftoken": csrf(alice)}
    question_id = question_id_in((await alice.get(f"/play/game/{game_id}",
                                                  headers=htmx)).text)
    form = {"question_id": str(question_id),
            "choice": [str(p) for p in await positions(game_id, question_id, right=True)]}
    first, double_tap = await asyncio.gather(
        alice.post(f"/play/game/{game_id}/answer", headers=htmx, data=form),
        alice.post(f"/play/game/{game_id}/answer", headers=htmx, data=form))
    retry = await alice.post(f"/play/game/{game_id}/answer", headers=htmx, data=form)
    assert first.status_code == 200 and "See your result" in first.text
    reply = without_csrf_tokens(first.text)
    assert without_csrf_tokens(double_tap.text) == reply
    assert without_csrf_tokens(retry.text) == reply
    # Without JavaScript: the whole page, the same again.
    page = await post_form(alice, f"/play/game/{game_id}/answer", form)
    assert page.status_code == 200 and "See your result" in page.text
    again = await post_form(alice, f"/play/game/{game_id}/answer", form)
    assert without_csrf_tokens(again.text) == without_csrf_tokens(page.text)


async def test_a_replayed_last_answer_through_the_api_gets_the_same_reply(
    bot: httpx.AsyncClient,
) -> None:
    quiz = await Quiz.get(slug="basics")
    game_id = (await bot.post(f"/api/v1/play/quizzes/{quiz.id}/start")).json()["game_id"]
    for _ in range(2):
        await api_answer(bot, game_id, right=True)
    question = (await bot.get(f"/api/v1/play/games/{game_id}/question")).json()
    body = {"question_id": question["question_id"],
            "choices": await positions(game_id, question["question_id"], right=True)}
    url = f"/api/v1/play/games/{game_id}/answer"
    first, double_tap = await asyncio.gather(bot.post(url, json=body), bot.post(url, json=body))
    retry = await bot.post(url, json=body)
    assert first.status_code == 200 and first.json()["finished"] is True
    assert double_tap.json() == first.json() and retry.json() == first.json()
