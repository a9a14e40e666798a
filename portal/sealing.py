"""Secrets kept in the database encrypted (e-certificate codes, and the e-mail parts that
carry them), so a copy of the database leaks none of them.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) seals; several keys may be
given, the first sealing and all of them opening (MultiFernet), so a key can be rotated.
A keyed fingerprint (HMAC-SHA256) lets the database find duplicates without the plain
value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SealBroken(Exception):
    """A sealed value none of the keys opens (a wrong key, or the value was altered)."""


def derived_key(secret: str, purpose: str) -> str:
    """A Fernet key derived from the portal's secret key, for the one-machine default."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=purpose.encode()).derive(secret.encode())
    return base64.urlsafe_b64encode(raw).decode()


def valid_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        return False
    return True


class Sealer:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("a sealer needs at least one key")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        # The fingerprint key is derived from the first key, so it stays stable per
        # deployment and is never the sealing key itself.
        self._mac_key = hashlib.sha256(b"fingerprint:" + keys[0].encode()).digest()

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SealBroken("no key opens this value") from None

    def fingerprint(self, plain: str) -> str:
        return hmac.new(self._mac_key, plain.encode(), hashlib.sha256).hexdigest()
