"""argon2id's cost per password (PORTAL_PASSWORD_HASHING), and the rehash at sign-in of a
hash made with other parameters, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Literal, get_args

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles

from portal.accounts import service as accounts
from portal.accounts.models import Person
from portal.accounts.throttle import LoginThrottle
from portal.app import create_app
from portal.settings import Settings, SettingsError
from tests import factories
from tests.factories import PASSWORD

SUITE_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)  # as tests/conftest.py pins


@pytest.fixture
def pin() -> Iterator[None]:
    """A test pins a profile's hasher; the suite's cheapest comes back after it."""
    yield
    accounts.use_password_hasher(SUITE_HASHER)


def _throttle() -> LoginThrottle:
    return LoginThrottle(per_address="30 per 15 minutes", per_account_address="5 per 15 minutes",
                         per_account="20 per 15 minutes", storage="memory://")


async def _stored_hash(email: str) -> str:
    return (await Person.get(email=email)).password_hash


def test_the_profiles_are_owasps_minimum_and_rfc_9106s_second_option() -> None:
    owasp = accounts.PASSWORD_PROFILES["owasp"]
    assert (owasp.type, owasp.memory_cost, owasp.time_cost, owasp.parallelism) == (
        profiles.RFC_9106_LOW_MEMORY.type, 19 * 1024, 2, 1)
    assert accounts.PASSWORD_PROFILES["rfc9106-low-memory"] == profiles.RFC_9106_LOW_MEMORY
    assert set(get_args(Settings.model_fields["password_hashing"].annotation)) == set(
        accounts.PASSWORD_PROFILES)
    assert Settings(secret_key="x").password_hashing == accounts.DEFAULT_PASSWORD_PROFILE


def test_an_unknown_profile_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="PORTAL_PASSWORD_HASHING must be 'owasp' or "
                                            "'rfc9106-low-memory'"):
        Settings.from_env({"PORTAL_SECRET_KEY": "x", "PORTAL_PASSWORD_HASHING": "cheap"})


async def test_the_app_hashes_new_passwords_with_the_profile_its_settings_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    # As in production, where nothing pins a hasher (the suite's pin is undone for this
    # test only; monkeypatch puts it back).
    monkeypatch.setattr(accounts, "_pinned", False)
    monkeypatch.setattr(accounts, "_hasher", accounts._hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", accounts._DUMMY_HASH)
    for profile in accounts.PASSWORD_PROFILES:
        create_app(Settings(secret_key="x", password_hashing=profile,
                            database_url=f"sqlite://{tmp_path / 'unused.sqlite3'}"))
        hashed = await accounts.hash_password(PASSWORD)
        assert extract_parameters(hashed) == accounts.PASSWORD_PROFILES[profile], profile


@pytest.mark.usefixtures("any_db", "pin")
@pytest.mark.parametrize("before, after", [
    ("cheapest", "owasp"),  # the suite's hashes, then the default
    ("rfc9106-low-memory", "owasp"),  # the portal's profile before the setting existed
])
async def test_a_hash_made_with_other_parameters_is_replaced_at_the_next_sign_in(
    before: str, after: str,
) -> None:
    people = await factories.personas()
    if before != "cheapest":
        await Person.filter(id=people.alice.id).update(
            password_hash=accounts.password_hasher(before).hash(PASSWORD))
    old = await _stored_hash("alice@example.com")
    accounts.use_password_hasher(accounts.password_hasher(after))

    signed = await accounts.sign_in("alice@example.com", password=PASSWORD, address="x",
                                    throttle=_throttle(), lifetime=timedelta(days=1))

    new = await _stored_hash("alice@example.com")
    assert new != old and extract_parameters(new) == accounts.PASSWORD_PROFILES[after]
    assert accounts.password_hasher(after).verify(new, PASSWORD)
    assert (await Person.get(id=people.alice.id)).last_login_at is not None
    assert signed.person.id == people.alice.id
    # Once is enough: the next sign-in keeps the hash, and a wrong password changes nothing.
    await accounts.authenticate("alice@example.com", PASSWORD)
    with pytest.raises(accounts.InvalidCredentials):
        await accounts.authenticate("alice@example.com", "not the password")
    assert await _stored_hash("alice@example.com") == new


class _Gate(PasswordHasher):
    """The "owasp" hasher, whose verify waits until the test lets it finish."""

    def __init__(self) -> None:
        owasp = accounts.PASSWORD_PROFILES["owasp"]
        super().__init__(time_cost=owasp.time_cost, memory_cost=owasp.memory_cost,
                         parallelism=owasp.parallelism)
        self.verifying, self.go_on = threading.Event(), threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verifying.set()
        assert self.go_on.wait(30)
        return super().verify(hash, password)


@pytest.mark.usefixtures("any_db", "pin")
async def test_a_rehash_never_puts_back_a_password_changed_during_the_sign_in() -> None:
    people = await factories.personas()  # hashed with the suite's cheapest parameters
    gate = _Gate()
    accounts.use_password_hasher(gate)
    signing_in = asyncio.create_task(accounts.authenticate("alice@example.com", PASSWORD))
    await asyncio.to_thread(gate.verifying.wait, 30)  # the old password is being verified
    changed = SUITE_HASHER.hash("a brand new secret")
    await Person.filter(id=people.alice.id).update(password_hash=changed)
    gate.go_on.set()
    await signing_in  # the old password was right when it was checked

    assert await _stored_hash("alice@example.com") == changed
    assert (await Person.get(id=people.alice.id)).last_login_at is not None
