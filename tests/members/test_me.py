"""``GET /api/v1/me``'s one statement, on SQLite and PostgreSQL: the session's rules hold
with the profile's columns read alongside, and nothing else is asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts import service as accounts
from portal.ledger import service as ledger
from portal.ledger.reads import Points
from portal.members import service as members
from tests.factories import make_company, make_outlet, make_person, make_region
from tests.sql_log import statements

pytestmark = pytest.mark.usefixtures("any_db")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
IDLE = timedelta(hours=2)




async def test_me_is_the_session_and_the_profile_in_one_statement() -> None:
    company = await make_company("Acme Pumps")
    outlet = await make_outlet(company, await make_region("North"), name="Acme North")
    alice = await make_person(outlet=outlet)
    account = await ledger.account_of_person(alice.id)
    await ledger.earn(account, amount=300, reason="Quiz", reference="quiz:1", key="e1", now=T0)
    token, _ = await accounts.start_session(alice, kind="api", lifetime=IDLE, now=T0)
    with statements() as sent:
        who = await accounts.resume_session(token, kind="api", idle=IDLE, now=T0,
                                            also=members.profile_columns(now=T0))
    assert len(sent) == 1 and who is not None and who.person.id == alice.id
    found = members.profile(who, now=T0)
    assert (found.company, found.outlet, found.region) == ("Acme Pumps", "Acme North", "North")
    assert found.points == Points(balance=300, held=0, available=300, earned_this_season=300,
                                  season="2026-12")


async def test_a_person_without_an_outlet_has_no_organisation_and_no_season_score_yet(
) -> None:
    bob = await make_person()
    token, _ = await accounts.start_session(bob, kind="api", lifetime=IDLE, now=T0)
    who = await accounts.resume_session(token, kind="api", idle=IDLE, now=T0,
                                        also=members.profile_columns(now=T0))
    assert who is not None and who.company_zone is None
    found = members.profile(who, now=T0)
    assert (found.company, found.outlet, found.region, found.points.earned_this_season) == (
        None, None, None, 0)


async def test_the_columns_asked_along_do_not_revive_an_idle_or_unknown_session() -> None:
    alice = await make_person()
    token, _ = await accounts.start_session(alice, kind="api", lifetime=IDLE * 10, now=T0)
    also = members.profile_columns(now=T0)
    assert await accounts.resume_session(token, kind="web", idle=IDLE, now=T0,
                                         also=also) is None
    assert await accounts.resume_session("x" * 43, kind="api", idle=IDLE, now=T0,
                                         also=also) is None
    assert await accounts.resume_session(token, kind="api", idle=IDLE, now=T0 + IDLE,
                                         also=also) is None
