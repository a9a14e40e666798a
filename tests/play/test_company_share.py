"""A company's share of what its staff earn (PORTAL_COMPANY_SHARE_PERCENT): credited to
the company in the same transaction as each award, once per award, rounded down, counted
on no board."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from portal.accounts.models import Person
from portal.content.models import Quiz
from portal.ledger import service as ledger
from portal.ledger.models import Account, SeasonScore, Transfer, TransferKind
from portal.play import courses, games
from portal.settings import Settings, SettingsError
from tests import factories
from tests.play.playing import RULES, T0, play_through, publish_example

SHARING = replace(RULES, company_share_percent=10)


async def company_account(person: Person) -> Account:
    await person.fetch_related("outlet")
    assert person.outlet is not None
    account = await ledger.account_of_company(person.outlet.company_id)
    assert account is not None
    return account


@pytest.mark.usefixtures("any_db")
async def test_a_quiz_award_gives_the_company_its_share_once(tmp_path: Path) -> None:
    await publish_example(tmp_path)
    people = await factories.personas()
    basics = await Quiz.get(slug="basics")
    game = await games.start(people.alice, basics.id, now=T0, rules=SHARING)
    await play_through(people.alice, game, each=2, rules=SHARING)
    # A replay of the last answer changes nothing (the award and the share are keyed).
    await play_through(people.alice, game, each=2, rules=SHARING)

    company = await company_account(people.alice)
    assert company.balance == 285 * 10 // 100 == 28
    share = await Transfer.get(kind=TransferKind.SHARE)
    assert share.target_id == company.id
    assert share.reason == f"10% of 285 points {people.alice.display_name} earned"
    assert share.key == f"quiz:{basics.id}:person:{people.alice.id}:company-share"
    # The company's share is no earning: no board, season or tier counts it.
    assert company.earned_total == 0
    assert not await SeasonScore.exists(account_id=company.id)
    assert await ledger.check_invariants() == []


@pytest.mark.usefixtures("db")
async def test_a_course_and_the_welcome_bonus_are_shared_too(tmp_path: Path) -> None:
    await publish_example(tmp_path)
    people = await factories.personas()
    final = await Quiz.get(slug="install-final")
    assert final.course_id is not None
    view = await courses.course_view(people.alice, final.course_id, now=T0)
    for lesson in view.lessons:
        await courses.mark_lesson_read(people.alice, final.course_id, lesson.id, now=T0)
    game = await games.start(people.alice, final.id, now=T0, rules=SHARING)
    await play_through(people.alice, game, rules=SHARING)
    summary = await games.summary(people.alice, game.id)
    company = await company_account(people.alice)
    assert company.balance == summary.points // 10 + 200 // 10 + 100 // 10
    assert await Transfer.filter(kind=TransferKind.SHARE).count() == 3


@pytest.mark.usefixtures("db")
async def test_no_share_without_the_setting_or_without_a_company(tmp_path: Path) -> None:
    await publish_example(tmp_path)
    people = await factories.personas()
    loner = await factories.make_person("loner@example.com")
    basics = await Quiz.get(slug="basics")
    await play_through(people.alice, await games.start(people.alice, basics.id, now=T0,
                                                        rules=RULES))
    await play_through(loner, await games.start(loner, basics.id, now=T0, rules=SHARING),
                       rules=SHARING)
    assert await Transfer.filter(kind=TransferKind.SHARE).count() == 0
    assert (await company_account(people.alice)).balance == 0


@pytest.mark.usefixtures("db")
async def test_a_share_goes_only_to_a_company() -> None:
    people = await factories.personas()
    with pytest.raises(ledger.LedgerError, match="company"):
        await ledger.share(await ledger.account_of_person(people.alice.id), amount=5,
                           reason="Share", reference="x", key="share-to-a-person")


@pytest.mark.parametrize("percent", [-1, 101])
def test_the_share_setting_is_a_percentage(percent: int) -> None:
    with pytest.raises(SettingsError, match="company_share_percent|COMPANY_SHARE"):
        Settings(company_share_percent=percent, secret_key="x")
