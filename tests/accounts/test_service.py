"""People rules: passwords, sessions and their timeouts, invites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts import service as accounts
from portal.accounts.models import Invite, Person, Role, Session
from tests.factories import PASSWORD, People

pytestmark = pytest.mark.usefixtures("db")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
IDLE = timedelta(hours=2)


@pytest.fixture
async def people(db: str) -> People:
    from tests import factories

    return await factories.personas()


async def test_passwords_are_stored_as_argon2id_hashes(people: People) -> None:
    assert people.alice.password_hash.startswith("$argon2id$")
    assert PASSWORD not in people.alice.password_hash


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(people: People) -> None:
    with pytest.raises(accounts.InvalidCredentials) as wrong:
        await accounts.authenticate("alice@example.com", "wrong password")
    with pytest.raises(accounts.InvalidCredentials) as unknown:
        await accounts.authenticate("nobody@example.com", PASSWORD)
    assert str(wrong.value) == str(unknown.value)


async def test_e_mail_is_matched_without_case_or_spaces(people: People) -> None:
    person = await accounts.authenticate("  ALICE@Example.com ", PASSWORD)
    assert person.id == people.alice.id


async def test_a_deactivated_person_cannot_sign_in_and_loses_their_sessions(
    people: People,
) -> None:
    token, _ = await accounts.start_session(people.alice, lifetime=timedelta(days=1))
    await accounts.set_active(people.alice, active=False)
    assert await accounts.resume_session(token, kind="web", idle=IDLE) is None
    with pytest.raises(accounts.InvalidCredentials):
        await accounts.authenticate("alice@example.com", PASSWORD)


async def test_the_session_table_holds_only_a_hash_of_the_token(people: People) -> None:
    token, session = await accounts.start_session(people.alice, lifetime=timedelta(days=1))
    assert token not in session.id_hash
    assert not await Session.exists(id_hash=token)


async def test_a_session_ends_after_the_idle_timeout(people: People) -> None:
    token, _ = await accounts.start_session(people.alice, lifetime=timedelta(days=30), now=T0)
    later = T0 + IDLE - timedelta(minutes=1)
    assert await accounts.resume_session(token, kind="web", idle=IDLE, now=later) is not None
    # Being seen just now restarts the idle clock.
    assert await accounts.resume_session(token, kind="web", idle=IDLE,
                                         now=later + IDLE - timedelta(minutes=1)) is not None
    assert await accounts.resume_session(token, kind="web", idle=IDLE,
                                         now=later + 2 * IDLE) is None


async def test_a_session_ends_at_its_absolute_timeout_however_active(people: People) -> None:
    token, _ = await accounts.start_session(people.alice, lifetime=timedelta(hours=3), now=T0)
    moment = T0
    for _ in range(5):
        moment += timedelta(minutes=30)
        assert await accounts.resume_session(token, kind="web", idle=IDLE, now=moment)
    assert await accounts.resume_session(token, kind="web", idle=IDLE,
                                         now=T0 + timedelta(hours=3)) is None


async def test_a_web_session_token_is_not_an_api_token(people: People) -> None:
    token, _ = await accounts.start_session(people.alice, lifetime=timedelta(days=1))
    assert await accounts.resume_session(token, kind="api", idle=IDLE) is None


async def test_a_manager_invites_only_to_their_own_companys_outlets(people: People) -> None:
    with pytest.raises(accounts.NotAllowed):
        await accounts.invite(people.bob, email="new@example.com",
                              outlet_id=people.other_outlet.id, valid_for=timedelta(days=1))
    token = await accounts.invite(people.bob, email="New@Example.com", outlet_id=people.south.id,
                                  valid_for=timedelta(days=1))
    person = await accounts.accept_invite(token, full_name="Nina New", display_name="Nina",
                                          password="a long password", language="ru")
    assert (person.email, person.outlet_id, person.language) == (
        "new@example.com", people.south.id, "ru")
    assert await accounts.roles_of(person.id) == {Role.PLAYER}


async def test_an_invite_works_once_and_not_after_it_expires(people: People) -> None:
    token = await accounts.invite(people.bob, email="new@example.com", outlet_id=people.north.id,
                                  valid_for=timedelta(days=1), now=T0)
    with pytest.raises(accounts.InvalidInvite, match="expired"):
        await accounts.find_invite(token, now=T0 + timedelta(days=2))
    await accounts.accept_invite(token, full_name="Nina New", display_name="Nina",
                                 password="a long password", language="en",
                                 now=T0 + timedelta(hours=1))
    with pytest.raises(accounts.InvalidInvite):
        await accounts.accept_invite(token, full_name="Nina Again", display_name="Nina",
                                     password="a long password", language="en",
                                     now=T0 + timedelta(hours=2))
    assert await Person.filter(email="new@example.com").count() == 1
    assert (await Invite.get(email="new@example.com")).accepted_at is not None


async def test_changing_the_password_signs_out_the_other_sessions(people: People) -> None:
    here, here_row = await accounts.start_session(people.alice, lifetime=timedelta(days=1))
    there, _ = await accounts.start_session(people.alice, lifetime=timedelta(days=1))
    await accounts.change_password(people.alice, current=PASSWORD, new="a brand new secret",
                                   keep_session_hash=here_row.id_hash)
    assert await accounts.resume_session(here, kind="web", idle=IDLE) is not None
    assert await accounts.resume_session(there, kind="web", idle=IDLE) is None
    assert await accounts.authenticate("alice@example.com", "a brand new secret")
