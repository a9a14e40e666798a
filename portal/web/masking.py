"""The CSRF token as pages carry it: masked afresh in every response (BREACH).

Pages go out gzipped and some echo what the reader typed (a catalog search, a form given
back). A secret that is the same in every response can then be read, byte by byte, from
the compressed sizes of many responses (the BREACH attack). So a page never holds the
token itself: it holds a random pad and the token XOR that pad, new on every render, as
Django does. The CSRF layer unmasks what comes back before asgi-csrf compares it with the
cookie; a token sent unmasked (a script that read the cookie) still passes.

asgi-csrf's tokens are itsdangerous strings and always hold a ``.``; a masked token is
URL-safe base64, which never does, so the two cannot be mistaken for each other.
"""

from __future__ import annotations

import base64
import binascii
import secrets


def mask(token: str) -> str:
    """``token`` hidden under a fresh random pad: different on every call."""
    if not token:
        return ""
    plain = token.encode("ascii")
    pad = secrets.token_bytes(len(plain))
    masked = bytes(a ^ b for a, b in zip(pad, plain, strict=True))
    return base64.urlsafe_b64encode(pad + masked).rstrip(b"=").decode("ascii")


def unmask(sent: str) -> str:
    """The token a masked value carries; anything else back unchanged (an unmasked token,
    or garbage, which the comparison with the cookie then refuses)."""
    if not sent or "." in sent:
        return sent
    try:
        raw = base64.urlsafe_b64decode(sent + "=" * (-len(sent) % 4))
    except (binascii.Error, ValueError):
        return sent
    half, odd = divmod(len(raw), 2)
    if odd or not half:
        return sent
    plain = bytes(a ^ b for a, b in zip(raw[:half], raw[half:], strict=True))
    try:
        return plain.decode("ascii")
    except UnicodeDecodeError:
        return sent
