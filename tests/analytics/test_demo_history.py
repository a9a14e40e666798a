"""The demo's history tells a story on the programme page: several months and outlets,
made through the real services, loaded once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.analytics import service
from portal.analytics.service import Grouping
from portal.demo import demo_packs, load_demo, publish_demo_packs
from portal.demo_history import load_history
from portal.ledger import service as ledger

pytestmark = pytest.mark.usefixtures("db")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def test_the_history_spans_months_and_outlets_and_loads_once(tmp_path: Path) -> None:
    await load_demo(now=NOW)
    await publish_demo_packs(media_dir=tmp_path, now=NOW)
    folder = demo_packs(NOW)[0]
    assert await load_history(media_dir=tmp_path, pack_folder=folder, now=NOW) > 20
    assert await load_history(media_dir=tmp_path, pack_folder=folder, now=NOW) == 0

    assert await service.months(now=NOW) == ["2026-11", "2026-10", "2026-09", "2026-08"]
    for month in ("2026-08", "2026-09", "2026-10", "2026-11"):
        figures = (await service.programme(service.NETWORK, month, now=NOW)).month
        assert figures["games_finished"] > 0 and figures["visits"] > 0, month
    companies = await service.teams(service.NETWORK, "2026-10", by=Grouping.COMPANY)
    assert companies[0].name == "Pump Point"  # the laggard comes first
    known = await service.knowledge("2026-10", language="en")
    assert known.questions and known.questions[0].misconception is not None
    assert await ledger.check_invariants() == []
