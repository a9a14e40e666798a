"""Joining: a person with their points account, invites accepted once; and the profile's points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts import service as accounts
from portal.accounts.models import Invite, Person, Role
from portal.ledger import service as ledger
from portal.ledger.reads import Points
from portal.members import service as members
from tests.factories import PASSWORD, People

pytestmark = pytest.mark.usefixtures("db")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
IDLE = timedelta(hours=2)


async def test_an_invite_works_once_and_not_after_it_expires(people: People) -> None:
    token = await accounts.invite(people.bob, email="new@example.com", outlet_id=people.north.id,
                                  valid_for=timedelta(days=1), now=T0)
    with pytest.raises(accounts.InvalidInvite, match="expired"):
        await accounts.find_invite(token, now=T0 + timedelta(days=2))
    await members.accept_invite(token, full_name="Nina New", display_name="Nina",
                                password="a long password", language="en",
                                 now=T0 + timedelta(hours=1))
    with pytest.raises(accounts.InvalidInvite):
        await members.accept_invite(token, full_name="Nina Again", display_name="Nina",
                                     password="a long password", language="en",
                                     now=T0 + timedelta(hours=2))
    assert await Person.filter(email="new@example.com").count() == 1
    assert (await Invite.get(email="new@example.com")).accepted_at is not None


async def test_a_person_for_an_outlet_that_does_not_exist_is_refused(people: People) -> None:
    with pytest.raises(accounts.UnknownOutlet):
        await members.create_person(email="new@example.com", password=PASSWORD,
                                     full_name="New Person", outlet_id=999_999)
    assert not await Person.exists(email="new@example.com")


async def test_a_profile_gives_the_organisation_and_what_the_ledger_says_is_available(
    people: People,
) -> None:
    account = await ledger.account_of_person(people.alice.id)
    await ledger.earn(account, amount=300, reason="Quiz", reference="quiz:1", key="e1", now=T0)
    lot = await ledger.system_account("auction:1")
    await ledger.hold(account, target=lot, amount=120, reason="Bid", reference="lot:1", key="h1")
    token, _ = await accounts.start_session(people.alice, kind="api", lifetime=IDLE, now=T0)
    who = await accounts.resume_session(token, kind="api", idle=IDLE, now=T0,
                                        also=members.profile_columns(now=T0))
    assert who is not None
    found = members.profile(who, now=T0)
    assert (found.company, found.outlet, found.region) == ("Acme Pumps", "Acme North", "North")
    assert found.points == Points(balance=300, held=120, available=180,
                                         earned_this_season=300, season="2026-12")


async def test_a_manager_invites_only_to_their_own_companys_outlets(people: People) -> None:
    with pytest.raises(accounts.NotAllowed):
        await accounts.invite(people.bob, email="new@example.com",
                              outlet_id=people.other_outlet.id, valid_for=timedelta(days=1))
    token = await accounts.invite(people.bob, email="New@Example.com", outlet_id=people.south.id,
                                  valid_for=timedelta(days=1))
    person = await members.accept_invite(token, full_name="Nina New", display_name="Nina",
                                          password="a long password", language="ru")
    assert (person.email, person.outlet_id, person.language) == (
        "new@example.com", people.south.id, "ru")
    assert await accounts.roles_of(person.id) == {Role.PLAYER}
