"""Playing a survey: every answer is accepted and recorded, none is right or wrong, and
finishing it earns its points once and counts as completing the quiz."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from portal.accounts.models import Person
from portal.content import schema, service
from portal.content.models import Quiz
from portal.ledger import service as ledger
from portal.play import completion, games, month
from portal.play.models import Answer, Game, GameStatus
from portal.settings import PROJECT_ROOT, Settings
from tests.content.test_surveys import SURVEY
from tests.factories import People, SignIn, make_person, publish_live_copy, token_for
from tests.play.playing import RULES, T0, at, balance


async def publish_with_survey(folder: Path, media: Path) -> Quiz:
    shutil.copytree(PROJECT_ROOT / "quizzes" / "example", folder)
    (folder / "survey.yaml").write_text(SURVEY, encoding="utf-8")
    await service.publish(schema.read_pack(folder), media_dir=media, now=T0)
    return await Quiz.get(slug="voice")


async def answer_all(person: Person, game: Game, *, each: float) -> list[games.AnswerResult]:
    results, clock = [], 0.0
    while (view := await games.current_question(person, game.id, now=at(clock),
                                                rules=RULES)) is not None:
        clock += each
        results.append(await games.answer(person, game.id, view.question_id, [0],
                                          now=at(clock), rules=RULES))
    return results


@pytest.mark.usefixtures("any_db")
async def test_every_answer_is_accepted_and_finishing_earns_the_points_once(
        tmp_path: Path) -> None:
    survey = await publish_with_survey(tmp_path / "pack", tmp_path / "media")
    alice = await make_person()
    game = await games.start(alice, survey.id, now=T0, rules=RULES)

    results = await answer_all(alice, game, each=3)

    assert [r.outcome for r in results] == [games.AnswerOutcome.ACCEPTED] * 2
    assert all(not r.correct and r.points == 0 and r.correct_positions == [] for r in results)
    summary = await games.summary(alice, game.id)
    assert (summary.status, summary.survey, summary.points, summary.credited) == (
        GameStatus.FINISHED, True, 40, 40)
    assert await balance(alice) == 40
    entries, _ = await ledger.history(await ledger.account_of_person(alice.id))
    assert entries[0].reason == "Survey completed: Survey: your customers"
    assert await completion.has_completed(alice.id, quiz_id=survey.id)
    # The answers are recorded for marketing, as chosen.
    assert len(await Answer.filter(game_id=game.id)) == 2
    assert await ledger.check_invariants() == []


@pytest.mark.usefixtures("db")
async def test_a_survey_answer_past_the_time_limit_is_still_accepted(tmp_path: Path) -> None:
    survey = await publish_with_survey(tmp_path / "pack", tmp_path / "media")
    alice = await make_person()
    game = await games.start(alice, survey.id, now=T0, rules=RULES)
    results = await answer_all(alice, game, each=survey.time_limit + 10)
    assert [r.outcome for r in results] == [games.AnswerOutcome.ACCEPTED] * 2
    assert await balance(alice) == 40


@pytest.mark.usefixtures("db")
async def test_an_unfinished_survey_earns_nothing_and_is_not_completed(tmp_path: Path) -> None:
    survey = await publish_with_survey(tmp_path / "pack", tmp_path / "media")
    alice = await make_person()
    game = await games.start(alice, survey.id, now=T0, rules=RULES)
    view = await games.current_question(alice, game.id, now=T0, rules=RULES)
    assert view is not None
    await games.answer(alice, game.id, view.question_id, [1], now=at(2), rules=RULES)
    await games.leave(alice, game.id, now=at(3))
    assert await balance(alice) == 0
    assert not await completion.has_completed(alice.id, quiz_id=survey.id)


@pytest.mark.usefixtures("db")
async def test_the_month_offers_a_survey_for_its_points_not_per_answer(tmp_path: Path) -> None:
    survey = await publish_with_survey(tmp_path / "pack", tmp_path / "media")
    alice = await make_person()
    card = next(c for c in (await month.this_month(alice, now=T0)).cards if c.id == survey.id)
    assert card.survey and card.points_at_stake == 40


async def test_a_survey_through_the_api_answers_accepted(
        client: httpx.AsyncClient, people: People, app: Starlette, tmp_path: Path) -> None:
    settings: Settings = app.state.settings
    await publish_live_copy("example", tmp_path / "pack", Path(settings.media_dir))
    folder = tmp_path / "survey-pack"
    shutil.copytree(tmp_path / "pack", folder)
    text = (folder / "pack.yaml").read_text().replace("id: example", "id: example-survey")
    (folder / "pack.yaml").write_text(text)
    for other in folder.glob("*.yaml"):
        if other.name != "pack.yaml":
            other.unlink()
    (folder / "survey.yaml").write_text(SURVEY, encoding="utf-8")
    from datetime import UTC, datetime
    await service.publish(schema.read_pack(folder), media_dir=Path(settings.media_dir),
                          now=datetime.now(UTC))
    survey = await Quiz.get(slug="voice")
    headers = {"Authorization": f"Bearer {await token_for(client, 'alice@example.com')}"}
    started = await client.post(f"/api/v1/play/quizzes/{survey.id}/start", headers=headers)
    game_id = started.json()["game_id"]
    outcomes = []
    while (question := await client.get(f"/api/v1/play/games/{game_id}/question",
                                        headers=headers)).status_code == 200:
        reply = await client.post(f"/api/v1/play/games/{game_id}/answer", headers=headers,
                                  json={"question_id": question.json()["question_id"],
                                        "choices": [1]})
        outcomes.append(reply.json()["outcome"])
    assert outcomes == ["accepted", "accepted"]
    result = (await client.get(f"/api/v1/play/games/{game_id}", headers=headers)).json()
    assert result["survey"] is True and result["credited"] == 40


async def test_marketing_reads_a_surveys_answers_and_exports_them(
        people: People, app: Starlette, tmp_path: Path, sign_in: SignIn) -> None:
    settings: Settings = app.state.settings
    survey = await publish_with_survey(tmp_path / "pack", Path(settings.media_dir))
    for person in (people.alice, people.erin):
        game = await games.start(person, survey.id, now=T0, rules=RULES)
        await answer_all(person, game, each=2)
    carol = await sign_in("carol@example.com")
    listed = await carol.get("/marketing/surveys")
    assert "Survey: your customers" in listed.text
    page = await carol.get(f"/marketing/surveys/{survey.id}")
    assert "Finished by 2 people." in page.text and "2 answers" in page.text
    export = await carol.get(f"/marketing/surveys/{survey.id}/answers.csv")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0] == ["answered_at", "person", "outlet", "question", "choices"]
    assert len(rows) == 5
    assert {row[2] for row in rows[1:]} == {"Acme North", "Other Central"}
    alice = await sign_in("alice@example.com")
    assert (await alice.get(f"/marketing/surveys/{survey.id}")).status_code == 403


async def test_a_quiz_that_is_no_survey_has_no_survey_page(
        people: People, app: Starlette, tmp_path: Path, sign_in: SignIn) -> None:
    settings: Settings = app.state.settings
    await publish_with_survey(tmp_path / "pack", Path(settings.media_dir))
    basics = await Quiz.get(slug="basics")
    carol = await sign_in("carol@example.com")
    assert (await carol.get(f"/marketing/surveys/{basics.id}")).status_code == 404
    assert (await carol.get(f"/marketing/surveys/{basics.id}/answers.csv")).status_code == 404
