"""People rules: passwords, signing in, sessions and their timeouts, invites, access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts import service as accounts
from portal.accounts.models import Person, Role, Session
from portal.accounts.throttle import LoginThrottle
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


async def test_changing_the_password_signs_out_the_other_sessions(people: People) -> None:
    here, here_row = await accounts.start_session(people.alice, lifetime=timedelta(days=1))
    there, _ = await accounts.start_session(people.alice, lifetime=timedelta(days=1))
    await accounts.change_password(people.alice, current=PASSWORD, new="a brand new secret",
                                   keep_session_hash=here_row.id_hash)
    assert await accounts.resume_session(here, kind="web", idle=IDLE) is not None
    assert await accounts.resume_session(there, kind="web", idle=IDLE) is None
    assert await accounts.authenticate("alice@example.com", "a brand new secret")


def _throttle(per_account_address: str = "5 per 15 minutes") -> LoginThrottle:
    return LoginThrottle(per_address="30 per 15 minutes", per_account_address=per_account_address,
                         per_account="20 per 15 minutes", storage="memory://")


async def test_sign_in_counts_the_attempt_before_the_password_is_checked(people: People) -> None:
    throttle = _throttle("1 per 15 minutes")
    with pytest.raises(accounts.InvalidCredentials):
        await accounts.sign_in("alice@example.com", password="guess", address="203.0.113.9",
                               throttle=throttle, lifetime=timedelta(days=1))
    with pytest.raises(accounts.TooManyAttempts):
        await accounts.sign_in("ALICE@example.com", password=PASSWORD, address="203.0.113.9",
                               throttle=throttle, lifetime=timedelta(days=1))
    assert not await Session.exists(person_id=people.alice.id)


async def test_signing_in_again_ends_the_session_it_replaces(people: People) -> None:
    first = await accounts.sign_in("alice@example.com", password=PASSWORD, address="x",
                                   throttle=_throttle(), lifetime=timedelta(days=1), now=T0)
    old = await accounts.resume_session(first.token, kind="web", idle=IDLE, now=T0)
    assert old is not None and first.expires_at == T0 + timedelta(days=1)
    second = await accounts.sign_in("alice@example.com", password=PASSWORD, address="x",
                                    throttle=_throttle(), lifetime=timedelta(days=1),
                                    replacing=old.session_hash, now=T0)
    assert await accounts.resume_session(first.token, kind="web", idle=IDLE, now=T0) is None
    assert await accounts.resume_session(second.token, kind="web", idle=IDLE, now=T0)
    assert await Session.filter(person_id=people.alice.id).count() == 1


async def test_an_admin_can_neither_remove_their_own_admin_role_nor_deactivate_themselves(
    people: People,
) -> None:
    for roles, active in (({Role.PLAYER}, True), ({Role.ADMIN}, False)):
        with pytest.raises(accounts.NotAllowed):
            await accounts.change_access(people.dave, people.dave, roles=roles, active=active)
    assert (await Person.get(id=people.dave.id)).role_set == {Role.ADMIN}
    await accounts.change_access(people.dave, people.alice, roles={Role.MANAGER}, active=False)
    alice = await Person.get(id=people.alice.id)
    assert alice.role_set == {Role.MANAGER} and not alice.is_active


async def test_a_person_is_found_by_e_mail_however_it_is_written(people: People) -> None:
    assert (await accounts.find_by_email(" Alice@EXAMPLE.com")).id == people.alice.id
    with pytest.raises(accounts.UnknownPerson):
        await accounts.find_by_email("nobody@example.com")


async def test_a_session_reads_its_persons_times_as_the_model_does(people: People) -> None:
    login = T0 - timedelta(days=2, microseconds=7)
    await Person.filter(id=people.alice.id).update(last_login_at=login)
    token, _ = await accounts.start_session(people.alice, lifetime=timedelta(days=1), now=T0)
    who = await accounts.resume_session(token, kind="web", idle=IDLE,
                                        now=T0 + timedelta(minutes=5))
    stored = await Person.get(id=people.alice.id)
    assert who is not None and stored.last_login_at == login
    assert (who.person.created_at, who.person.last_login_at) == (stored.created_at, login)
    assert who.person.created_at.utcoffset() == timedelta(0)
