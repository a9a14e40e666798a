"""The programme bench's rollups, made in bulk by SQL (``tests/bench/analytics.py``), are
the rows the fold job itself makes of the same people, visits and transfers: the page the
bench times at a million players reads what the portal would have folded. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from portal.analytics import rollups
from tests.bench import analytics as bench
from tests.bench import scale
from tests.conftest import POSTGRES_URL, require_postgres

PLAYERS, ENTRIES, VISITS = 300, 3000, 3
TABLES = {
    "analytics_month": ("month", "outlet_id", "company_id", "region_id",
                        *rollups.MONTH_COLUMNS),
    "analytics_day": ("day", "outlet_id", "company_id", "region_id", "visits",
                      "games_finished", "earned", "spent", "donated", "captured", "burned"),
    "analytics_player_month": ("month", "person_id", "visit_days", "games", "earned"),
}


async def _rows(db: scale.Scratch) -> dict[str, list[tuple[Any, ...]]]:
    async with scale.Raw(db) as raw:
        return {table: sorted(await raw.rows(
            f"SELECT {', '.join(columns)} FROM {table}"))  # noqa: S608
            for table, columns in TABLES.items()}


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
async def test_the_bulk_rollups_are_what_the_fold_makes(engine: str, tmp_path: Path) -> None:
    if engine == "postgres":
        require_postgres()
    now = datetime.now(UTC)
    d = scale.Dialect(engine, last_active=True)
    league = scale.board_steps(d, PLAYERS, ENTRIES, now)
    steps = bench.rollup_steps(d, PLAYERS, VISITS, now)
    bulk = scale.scratch(engine, "bulk", tmp_path, POSTGRES_URL)
    folded = scale.scratch(engine, "folded", tmp_path, POSTGRES_URL)
    try:
        for db in (bulk, folded):
            await scale.create(db)
        await scale.load(bulk, scale.BOARD_TABLES, league + steps, "bulk")
        await scale.load(folded, scale.BOARD_TABLES, league + steps[:1], "folded")  # visits
        async with scale.portal_orm(folded):
            assert await rollups.fold(now, settle=timedelta(0)) > PLAYERS + ENTRIES
        async with scale.portal_orm(bulk):
            assert await rollups.fold(now, settle=timedelta(0)) == 0  # cursors at the end
        made, expected = await _rows(bulk), await _rows(folded)
        for table in TABLES:
            assert made[table] == expected[table], table
        assert len(made["analytics_player_month"]) > PLAYERS
    finally:
        for db in (bulk, folded):
            await scale.drop(db)
