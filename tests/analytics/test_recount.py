"""The rollups equal a full recount from the source tables after players in several
processes played, earned, spent and visited while other processes folded, on both
databases: nothing is missed and nothing is counted twice."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.accounts.models import Person
from portal.analytics import rollups
from portal.analytics.models import MonthOutlet, QuestionMonth, Visit
from portal.ledger import service as ledger
from portal.ledger.models import Account, Transfer
from portal.play.models import Answer, Game, GameStatus
from tests.factories import make_company, make_outlet, make_person
from tests.play.playing import publish_example
from tests.racing import race

pytestmark = pytest.mark.usefixtures("any_db")


async def _recount() -> dict[tuple[str, int], Counter[str]]:
    """Per (month, outlet), straight from people, visits, transfers and games."""
    outlet_of = dict(await Person.all().values_list("id", "outlet_id"))
    person_of = dict(await Account.filter(person_id__not_isnull=True)
                     .values_list("id", "person_id"))
    counts: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    for visit in await Visit.all():
        counts[(visit.day[:7], outlet_of[visit.person_id] or 0)]["visits"] += 1
    active = {(v.day[:7], v.person_id) for v in await Visit.all()}
    for month, person_id in active:
        counts[(month, outlet_of[person_id] or 0)]["active_players"] += 1
    for transfer in await Transfer.all():
        month = transfer.created_at.astimezone(UTC).strftime("%Y-%m")
        if transfer.kind == "earn" and transfer.target_id in person_of:
            counts[(month, outlet_of[person_of[transfer.target_id]] or 0)]["earned"] += \
                transfer.amount
        if transfer.kind == "spend" and transfer.source_id in person_of:
            counts[(month, outlet_of[person_of[transfer.source_id]] or 0)]["spent"] += \
                transfer.amount
    players_with_game = set()
    for game in await Game.filter(status=GameStatus.FINISHED):
        assert game.finished_at is not None
        month = game.finished_at.astimezone(UTC).strftime("%Y-%m")
        counts[(month, outlet_of[game.person_id] or 0)]["games_finished"] += 1
        players_with_game.add((month, game.person_id))
    for month, person_id in players_with_game:
        counts[(month, outlet_of[person_id] or 0)]["players_with_game"] += 1
    return counts


async def test_the_rollups_equal_a_recount_after_racing_activity_and_folds(
        tmp_path: Path, any_db: str) -> None:
    await publish_example(tmp_path / "media")
    # Made first, so the racing first awards do not race to create it: that race fails a
    # game's last answer today (the ledger makes the account inside the award's
    # transaction), which is the ledger's to fix, not what this test is about.
    await ledger.system_account(ledger.ISSUANCE, name="Points issued")
    company = await make_company()
    outlets = [await make_outlet(company) for _ in range(2)]
    people = [await make_person(outlet=outlets[i % 2]) for i in range(8)]
    ids = [str(p.id) for p in people]
    worker = "tests.analytics.activity_worker"
    lines = await race(worker, [any_db, "play", *ids[0:3]], [any_db, "play", *ids[3:6]],
                       [any_db, "play", *ids[6:8]], [any_db, "fold", "4"],
                       [any_db, "fold", "4"])
    assert lines[:3] == ["3", "3", "2"]
    await rollups.fold(datetime.now(UTC) + timedelta(days=1), settle=timedelta(0))

    expected = await _recount()
    columns = ("visits", "active_players", "earned", "spent", "games_finished",
               "players_with_game")
    found = {(row.month, row.outlet_id): Counter({c: getattr(row, c) for c in columns})
             for row in await MonthOutlet.all()}
    network = {k[0]: found.pop(k) for k in list(found) if k[1] == rollups.NETWORK_ROW}
    assert {k: +v for k, v in found.items() if +v} == {k: +v for k, v in expected.items()}
    for month, counts in network.items():  # the network's own row is the sum of its outlets
        assert +counts == +sum((v for k, v in expected.items() if k[0] == month), Counter())
    answers = Counter(a.question_id for a in await Answer.all())
    assert {q.question_id: q.answered for q in await QuestionMonth.all()} == dict(answers)
    assert sum(expected[k]["games_finished"] for k in expected) == 8
