"""Sign-in throttling with the `limits` library: per address, per (account, address) pair,
and a higher ceiling per account.

A limit per account alone lets anyone who knows a player's e-mail lock that player out
with a few wrong passwords. The pair limit stops one address guessing at one account
without touching the owner, who signs in from another address; the account ceiling, well
above the pair limit, still stops a guess spread over many addresses; the address limit
stops one address trying many accounts.

Counters live in memory for one process, or in Redis (``PORTAL_RATE_LIMIT_STORAGE=
redis://...``) when several instances must share them.
"""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


class LoginThrottle:
    def __init__(self, *, per_address: str, per_account_address: str, per_account: str,
                 storage: str) -> None:
        self._limits: list[tuple[str, RateLimitItem]] = [
            ("login-address", parse(per_address)),
            ("login-pair", parse(per_account_address)),
            ("login-account", parse(per_account)),
        ]
        self._limiter = MovingWindowRateLimiter(storage_from_string(f"async+{storage}"))

    async def allow(self, *, email: str, address: str) -> bool:
        """Counts one attempt; False once a limit is used up.

        Each counter is hit only if the ones before it allowed the attempt (a refused hit
        records nothing), so attempts an address makes past its pair limit never count
        towards the account's ceiling: one address cannot use it up alone. Every attempt
        is counted before the password is checked, so parallel guesses cannot slip
        between a check and a count.
        """
        identifiers = {"login-address": (address,), "login-pair": (email, address),
                       "login-account": (email,)}
        for namespace, limit in self._limits:
            if not await self._limiter.hit(limit, namespace, *identifiers[namespace]):
                return False
        return True
