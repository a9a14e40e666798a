"""The programme's figures against the story's hand-worked values, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.analytics import rollups, service
from portal.analytics.service import Grouping, Scope, ScopeKind
from tests.analytics.story import AFTER, Story, tell

pytestmark = pytest.mark.usefixtures("any_db")


@pytest.fixture
async def story(tmp_path: Path) -> Story:
    told = await tell(tmp_path / "media")
    await rollups.fold(AFTER, settle=rollups.SETTLE * 0)
    return told


async def test_the_network_month_is_what_the_story_adds_up_to(story: Story) -> None:
    result = await service.programme(service.NETWORK, "2026-01", now=AFTER)
    month, december = result.month, result.previous
    assert (month.registered, month["new_players"], december.registered) == (3, 2, 1)
    assert (month["active_players"], month["visits"]) == (2, 3)  # Carol is not a player
    assert (month["players_with_game"], month["players_with_five"]) == (2, 0)
    assert month.share("players_with_game") == pytest.approx(2 / 3)
    assert (month["games_finished"], month["games_abandoned"], month["answers"]) == (2, 1, 7)
    assert (month["earned"], month["spent"], month["donated"], month["captured"]) == (
        285, 100, 50, 60)
    assert (month["burned_inactivity"], month["burned_games"], month.adjusted) == (120, 90, 40)
    assert month.burned == 210
    assert (month.liability, december.liability) == (75 + 180 + 40, 300)
    assert (december["earned"], december["visits"], december["active_players"]) == (300, 1, 1)
    assert result.held_now is None  # a past month: no "now"


async def test_each_day_has_its_visits_games_and_points(story: Story) -> None:
    days = {d.day: d for d in await service.days(service.NETWORK, "2026-01")}
    assert len(days) == 31
    assert (days["2026-01-10"]["visits"], days["2026-01-10"]["games_finished"],
            days["2026-01-10"]["earned"]) == (2, 2, 285)
    assert (days["2026-01-11"]["visits"], days["2026-01-11"]["spent"]) == (1, 100)
    assert days["2026-01-20"]["burned"] == 120
    assert days["2026-01-02"].values == {}


async def test_a_company_sees_its_own_outlets_only(story: Story) -> None:
    acme = Scope(ScopeKind.COMPANY, story.people.acme.id)
    month = (await service.programme(acme, "2026-01", now=AFTER)).month
    assert (month.registered, month["active_players"], month["earned"]) == (2, 2, 285)
    assert month["burned_inactivity"] == 0  # Erin's burn is at another company
    assert month.liability == 75 + 40


async def test_the_companies_table_puts_the_laggard_first(story: Story) -> None:
    rows = await service.teams(service.NETWORK, "2026-01", by=Grouping.COMPANY)
    assert [(r.name, r.registered, r.active, r.with_game, r.earned) for r in rows] == [
        ("Other Traders", 1, 0, 0, 0), ("Acme Pumps", 2, 2, 2, 285)]
    assert rows[0].share_active == 0 and rows[1].points_per_active == 142.5
    by_earned = await service.teams(service.NETWORK, "2026-01", by=Grouping.COMPANY,
                                    sort="earned", descending=True)
    assert [r.name for r in by_earned] == ["Acme Pumps", "Other Traders"]


async def test_questions_show_share_correct_median_time_and_the_misconception(
        story: Story) -> None:
    known = await service.knowledge("2026-01", language="en")
    lines = {q.question_id: q for q in known.questions}
    assert len(lines) == 3
    for question_id, line in lines.items():
        erin = question_id == story.erin_question
        assert (line.answers.answered, line.answers.correct, line.answers.wrong) == (
            (3, 2, 1) if erin else (2, 1, 1))
        # Alice in 2 s, Bob in 5 s (Erin in 4 s): one-second slots, the median placed
        # within its slot as if spread evenly.
        assert line.answers.median_seconds == (4.5 if erin else 3.0)
    by_text = {q.text: q for q in known.questions}
    piston = by_text["What does a centrifugal pump use to move water?"]
    assert (piston.misconception, piston.misconception_count) == ("A piston", 1)
    # The hardest first: one right in two before two right in three.
    assert known.questions[-1].question_id == story.erin_question
    (quiz,) = known.quizzes
    assert (quiz.answers.answered, quiz.answers.correct) == (7, 4)


async def test_folding_again_changes_nothing(story: Story) -> None:
    before = await service.programme(service.NETWORK, "2026-01", now=AFTER)
    assert await rollups.fold(AFTER, settle=rollups.SETTLE * 0) == 0
    after = await service.programme(service.NETWORK, "2026-01", now=AFTER)
    assert after.figures == before.figures
