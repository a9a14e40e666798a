"""Creates the answer bench's player accounts in one process, with the portal's own code.

``python -m tests.bench.players --count 200 --password P`` (``PORTAL_DATABASE_URL`` names
the database) creates ``bench-player-000@example.com`` ... through
``portal.members.service.create_person``, inside the ORM set-up ``portal create-user``
uses. Accounts that already exist are kept, so it is safe to repeat.

The portal hashes every password with argon2id at the cost ``PORTAL_PASSWORD_HASHING``
chooses (tens of milliseconds here; several times that with "rfc9106-low-memory"). The
hasher installed below hashes each distinct password once at that same cost and reuses
the hash, so every bench player shares one salt: harmless for throwaway accounts, and
signing in still costs what it costs in production (no rehash either, as the parameters
are the ones the portal's settings choose).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from argon2 import PasswordHasher

from portal.accounts import service as accounts
from portal.accounts.models import Role
from portal.cli import _with_db
from portal.members import service as members
from portal.settings import Settings

EMAIL_PATTERN = "bench-player-{:03d}@example.com"


class _HashOnce(PasswordHasher):
    """The portal's argon2id hasher for ``profile``, hashing each distinct password only
    once."""

    def __init__(self, profile: str) -> None:
        parameters = accounts.PASSWORD_PROFILES[profile]
        super().__init__(time_cost=parameters.time_cost, memory_cost=parameters.memory_cost,
                         parallelism=parameters.parallelism, hash_len=parameters.hash_len,
                         salt_len=parameters.salt_len, type=parameters.type)
        self._hashes: dict[str | bytes, str] = {}

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        if salt is not None:
            return super().hash(password, salt=salt)
        if password not in self._hashes:
            self._hashes[password] = super().hash(password)
        return self._hashes[password]


def player_email(index: int) -> str:
    return EMAIL_PATTERN.format(index)


async def create_players(count: int, password: str, profile: str) -> int:
    """Creates the missing players, their passwords hashed with ``profile``; returns how
    many were new."""
    accounts.use_password_hasher(_HashOnce(profile))
    created = 0
    for index in range(count):
        try:
            await members.create_person(email=player_email(index), password=password,
                                         full_name=f"Bench Player {index:03d}",
                                         roles={Role.PLAYER})
        except accounts.EmailTaken:
            continue
        created += 1
    return created


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.players",
                                     description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--password", required=True)
    args = parser.parse_args(argv)
    if len(args.password) < 10:
        parser.error("the password needs at least 10 characters")

    settings = Settings.from_env()

    async def work() -> int:
        return await create_players(args.count, args.password, settings.password_hashing)

    created = asyncio.run(_with_db(settings, work))
    print(f"{created} bench player(s) created, {args.count - created} already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
