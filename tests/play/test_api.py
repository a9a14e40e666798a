"""A whole game through the JSON API, as a chat bot would play it."""

from __future__ import annotations

import httpx

from portal.content.models import Question, Quiz
from portal.play import games
from portal.play.models import Game


async def test_a_bot_plays_a_quiz_through_the_api(bot: httpx.AsyncClient) -> None:
    month = (await bot.get("/api/v1/play/month")).json()["items"]
    quiz = next(item for item in month if item["kind"] == "quiz")
    assert quiz["state"] == "new"
    game_id = (await bot.post(f"/api/v1/play/quizzes/{quiz['id']}/start")).json()["game_id"]
    while True:
        response = await bot.get(f"/api/v1/play/games/{game_id}/question")
        if response.status_code == 204:
            break
        question = response.json()
        assert "correct" not in response.text
        assert 0 < question["remaining"] <= question["time_limit"]
        game = await Game.get(id=game_id)
        stored = await Question.get(id=question["question_id"])
        order = game.choice_order[str(stored.id)]
        right = [p for p, a in enumerate(order) if stored.choices[a]["correct"]]
        result = (await bot.post(f"/api/v1/play/games/{game_id}/answer", json={
            "question_id": question["question_id"], "choices": right})).json()
        assert result["correct"] and result["correct_positions"] == right
    summary = (await bot.get(f"/api/v1/play/games/{game_id}")).json()
    assert summary["status"] == "finished" and summary["correct"] == 3
    assert summary["credited"] == summary["points"] > 0
    me = (await bot.get("/api/v1/me")).json()
    assert me["balance"] == summary["credited"]


async def test_api_answers_refuse_bad_input_with_json(bot: httpx.AsyncClient) -> None:
    quiz = await Quiz.get(slug="basics")
    game_id = (await bot.post(f"/api/v1/play/quizzes/{quiz.id}/start")).json()["game_id"]
    question = (await bot.get(f"/api/v1/play/games/{game_id}/question")).json()
    wrong_question = await bot.post(f"/api/v1/play/games/{game_id}/answer", json={
        "question_id": question["question_id"] + 999, "choices": [0]})
    assert wrong_question.status_code == 409
    assert "not the question you are on" in wrong_question.json()["error"]["message"]
    bad = await bot.post(f"/api/v1/play/games/{game_id}/answer", json={
        "question_id": question["question_id"], "choices": "zero"})
    assert bad.status_code == 422 and "choices" in bad.json()["error"]["fields"]
    assert (await Game.get(id=game_id)).current == 0


async def test_the_month_lists_games_not_finished_as_the_page_does(
        bot: httpx.AsyncClient) -> None:
    quiz = await Quiz.get(slug="basics")
    game_id = (await bot.post(f"/api/v1/play/quizzes/{quiz.id}/start")).json()["game_id"]
    await games.expire_games((await Game.get(id=game_id)).deadline)  # its time ran out
    month = (await bot.get("/api/v1/play/month")).json()
    assert [(g["game_id"], g["status"], g["credited"]) for g in month["unfinished"]] == [
        (game_id, "abandoned", 0)]
    assert {item["kind"] for item in month["items"]} == {"quiz", "course"}
    assert all(item["closes_at"].endswith(("Z", "+00:00")) for item in month["items"])
    assert month["still_to_earn"] == 200  # the quiz is done (abandoned): the course is left
