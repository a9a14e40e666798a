"""A survey is a task like any game, but it has no right answer, so it stays out of what
the network does not know yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.analytics import rollups, service
from portal.content import schema
from portal.content import service as content
from portal.content.models import Quiz
from portal.settings import PROJECT_ROOT
from tests.analytics.story import _play
from tests.factories import make_company, make_outlet, make_person

pytestmark = pytest.mark.usefixtures("db")
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


async def test_a_finished_survey_counts_as_a_game_but_not_as_a_question(tmp_path: Path) -> None:
    await content.publish(schema.read_pack(PROJECT_ROOT / "quizzes" / "2026-12"),
                          media_dir=tmp_path, now=NOW)
    outlet = await make_outlet(await make_company())
    person = await make_person(outlet=outlet)
    survey = await Quiz.get(slug="customer-voice")
    await _play(person, survey, start=NOW, each=3, right=False)
    await rollups.fold(NOW + timedelta(hours=1), settle=timedelta(0))
    month = (await service.programme(service.NETWORK, "2026-12", now=NOW)).month
    assert (month["games_finished"], month["players_with_game"]) == (1, 1)
    assert month["answers"] == 3
    assert (await service.knowledge("2026-12", language="en")).questions == []
