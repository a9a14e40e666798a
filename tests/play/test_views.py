"""Playing through the pages: HTMX fragments, no answer leaks, resuming, leaving."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from portal.content.models import Question, Quiz
from portal.ledger import service as ledger
from portal.play.models import Game, GameStatus
from portal.settings import Settings
from tests.factories import People, SignIn, csrf, post_form, publish_live_copy, without_csrf_tokens


@pytest.fixture
async def live(people: People, settings: Settings, tmp_path: Path) -> None:
    await publish_live_copy("example", tmp_path / "pack", Path(settings.media_dir))


async def start_game(client: httpx.AsyncClient) -> int:
    quiz = await Quiz.get(slug="basics")
    response = await post_form(client, f"/play/quiz/{quiz.id}/start", {})
    assert response.status_code == 303
    return int(response.headers["location"].rsplit("/", 1)[1])


def question_id_in(html: str) -> int:
    found = re.search(r'name="question_id" value="(\d+)"', html)
    assert found, html
    return int(found.group(1))


async def right_choices(game_id: int, question_id: int) -> list[str]:
    game = await Game.get(id=game_id)
    question = await Question.get(id=question_id)
    order = game.choice_order[str(question_id)]
    return [str(p) for p, a in enumerate(order) if question.choices[a]["correct"]]


@pytest.mark.usefixtures("live")
async def test_this_month_lists_the_live_quiz_and_course(sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    page = await alice.get("/play")
    assert page.status_code == 200
    assert "Pump basics" in page.text and "Installing a booster pump" in page.text
    assert "3 questions · up to 300 points" in page.text


@pytest.mark.usefixtures("live")
async def test_a_player_plays_a_whole_quiz_with_htmx_and_the_points_arrive(
    sign_in: SignIn, people: People
) -> None:
    alice = await sign_in("alice@example.com")
    game_id = await start_game(alice)
    htmx = {"hx-request": "true", "x-csrftoken": csrf(alice)}
    for number in range(1, 4):
        fragment = await alice.get(f"/play/game/{game_id}", headers=htmx)
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert f"Question {number} of 3" in fragment.text
        question_id = question_id_in(fragment.text)
        answer = await alice.post(f"/play/game/{game_id}/answer", headers=htmx, data={
            "question_id": str(question_id),
            "choice": await right_choices(game_id, question_id)})
        assert answer.status_code == 200 and "Correct!" in answer.text
    assert "See your result" in answer.text
    result = await alice.get(f"/play/game/{game_id}/result")
    credited = re.search(r'data-testid="credited"[^>]*>([\d,]+)<', result.text)
    assert credited and int(credited.group(1).replace(",", "")) > 250
    account = await ledger.account_of_person(people.alice.id)
    assert account.balance == int(credited.group(1).replace(",", ""))
    # The reward moment: the new balance, the place on this month's board, what comes next.
    assert f'data-testid="balance">{credited.group(1)}<' in result.text
    assert 'data-testid="rank">#1<' in result.text and "new on the board" in result.text
    assert "Next: Installing a booster pump" in result.text
    assert "Speed points" not in result.text  # the same number is not said twice


@pytest.mark.usefixtures("live")
async def test_the_game_works_without_javascript(sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    game_id = await start_game(alice)
    page = await alice.get(f"/play/game/{game_id}")
    assert "<html" in page.text and re.search(r'action="[^"]*/play/game/\d+/answer"', page.text)
    question_id = question_id_in(page.text)
    answered = await post_form(alice, f"/play/game/{game_id}/answer",
                               {"question_id": str(question_id), "choice": "0"})
    assert answered.status_code == 200 and "<html" in answered.text
    assert "Next question" in answered.text


@pytest.mark.usefixtures("live")
async def test_nothing_sent_before_an_answer_depends_on_which_choice_is_correct(
    sign_in: SignIn,
) -> None:
    """The question page is rendered, the correct choices are moved in the database, and
    the page is rendered again: it must be the same, so it cannot reveal them."""
    alice = await sign_in("alice@example.com")
    game_id = await start_game(alice)
    for _ in range(3):
        before = await alice.get(f"/play/game/{game_id}", headers={"hx-request": "true"})
        question = await Question.get(id=question_id_in(before.text))
        original = [dict(choice) for choice in question.choices]
        question.choices = [{**c, "correct": not c["correct"]} for c in original]
        await question.save(update_fields=["choices"])
        after = await alice.get(f"/play/game/{game_id}", headers={"hx-request": "true"})
        question.choices = original
        await question.save(update_fields=["choices"])
        strip = lambda html: re.sub(r'data-remaining="[\d.]+"|<b class="secs">\d+</b>', "",  # noqa: E731
                                    without_csrf_tokens(html))  # the clock moves
        assert strip(before.text) == strip(after.text)
        assert "correct" not in before.text.lower()
        await post_form(alice, f"/play/game/{game_id}/answer",
                        {"question_id": str(question.id), "choice": "0"})


@pytest.mark.usefixtures("live")
async def test_a_refresh_comes_back_to_the_same_question(sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    game_id = await start_game(alice)
    first = question_id_in((await alice.get(f"/play/game/{game_id}")).text)
    again = question_id_in((await alice.get(f"/play/game/{game_id}")).text)
    assert first == again
    # Starting the quiz again (a second tab) resumes the same game.
    assert await start_game(alice) == game_id


@pytest.mark.usefixtures("live")
async def test_leaving_asks_first_and_then_burns_the_games_points(sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    game_id = await start_game(alice)
    question_id = question_id_in((await alice.get(f"/play/game/{game_id}")).text)
    await post_form(alice, f"/play/game/{game_id}/answer", {
        "question_id": str(question_id), "choice": await right_choices(game_id, question_id)})
    confirm = await alice.get(f"/play/game/{game_id}/leave")
    assert "points you have earned in this game burn" in confirm.text
    left = await post_form(alice, f"/play/game/{game_id}/leave", {})
    assert left.status_code == 303
    assert (await Game.get(id=game_id)).status == GameStatus.ABANDONED
    month = await alice.get("/play")
    assert "Games not finished" in month.text


@pytest.mark.usefixtures("live")
async def test_another_players_game_is_404(sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    game_id = await start_game(alice)
    erin = await sign_in("erin@example.com")
    assert (await erin.get(f"/play/game/{game_id}")).status_code == 404
    answer = await post_form(erin, f"/play/game/{game_id}/answer",
                             {"question_id": "1", "choice": "0"})
    assert answer.status_code == 404


@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("form", [{"question_id": "x", "choice": "0"},
                                  {"question_id": "1", "choice": "first"}, {}])
async def test_a_garbled_answer_is_a_400(sign_in: SignIn, form: dict[str, str]) -> None:
    alice = await sign_in("alice@example.com")
    game_id = await start_game(alice)
    response = await post_form(alice, f"/play/game/{game_id}/answer", form)
    assert response.status_code == 400
    assert (await Game.get(id=game_id)).current == 0


@pytest.mark.usefixtures("live")
async def test_a_course_is_read_and_completed_through_the_pages(sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    final = await Quiz.get(slug="install-final")
    course_page = await alice.get(f"/play/course/{final.course_id}")
    assert "Read every lesson first." in course_page.text
    lesson_ids = re.findall(rf"/play/course/{final.course_id}/lesson/(\d+)", course_page.text)
    for lesson_id in dict.fromkeys(lesson_ids):
        lesson = await alice.get(f"/play/course/{final.course_id}/lesson/{lesson_id}")
        assert lesson.status_code == 200
        await post_form(alice, f"/play/course/{final.course_id}/lesson/{lesson_id}/read", {})
    assert "Start the final quiz" in (await alice.get(f"/play/course/{final.course_id}")).text
    start = await post_form(alice, f"/play/quiz/{final.id}/start", {})
    game_id = int(start.headers["location"].rsplit("/", 1)[1])
    while True:
        page = await alice.get(f"/play/game/{game_id}")
        if page.status_code != 200 or "question_id" not in page.text:
            break
        question_id = question_id_in(page.text)
        await post_form(alice, f"/play/game/{game_id}/answer", {
            "question_id": str(question_id),
            "choice": await right_choices(game_id, question_id)})
    result = await alice.get(f"/play/game/{game_id}/result")
    assert "the course is complete" in result.text
    certificate = await alice.get(f"/play/course/{final.course_id}/certificate")
    assert "Certificate of completion" in certificate.text and "Alice Archer" in certificate.text


@pytest.mark.usefixtures("live")
async def test_lesson_html_from_a_pack_cannot_carry_scripts(sign_in: SignIn) -> None:
    from portal.content.service import render_markdown

    html = render_markdown('<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n'
                           '<a hx-get="/logout">y</a>')
    # Raw HTML stays visible text, and a javascript: link is not made a link.
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and "<a hx-get" not in html


@pytest.mark.usefixtures("live")
async def test_the_month_page_says_when_each_card_closes(sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    page = (await alice.get("/play")).text
    assert "Still to earn this month: up to 500 points" in page
    assert page.count("closes in 4 weeks") == 2  # the live copy closes in 30 days


@pytest.mark.usefixtures("live")
async def test_a_lesson_image_says_what_it_shows_in_the_readers_language(
        sign_in: SignIn) -> None:
    from portal.content.models import Lesson

    lesson = await Lesson.get(slug="place")
    alice = await sign_in("alice@example.com")
    page = (await alice.get(f"/play/course/{lesson.course_id}/lesson/{lesson.id}")).text
    assert 'alt="A pump impeller: curved vanes around a central hub"' in page
