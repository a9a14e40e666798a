"""Sign-in throttling per account and per address, with the `limits` library.

Counters live in memory for one process, or in Redis (``PORTAL_RATE_LIMIT_STORAGE=
redis://...``) when several instances must share them.
"""

from __future__ import annotations

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


class LoginThrottle:
    def __init__(self, *, per_account: str, per_address: str, storage: str) -> None:
        self._per_account = parse(per_account)
        self._per_address = parse(per_address)
        self._limiter = MovingWindowRateLimiter(storage_from_string(f"async+{storage}"))

    async def allow(self, *, email: str, address: str) -> bool:
        """Counts one attempt; False once either limit is used up."""
        account_ok = await self._limiter.hit(self._per_account, "login-account", email)
        address_ok = await self._limiter.hit(self._per_address, "login-address", address)
        return account_ok and address_ok
