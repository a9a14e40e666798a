"""Pictures marketing uploads (a cause's, a catalog item's): checked, then kept under the
media folder by a name derived from their content.

Only PNG, JPEG and WebP are taken, as Pillow reads them, whatever the file name says:
an SVG or an HTML file renamed .png could carry script. The file is stored as uploaded
(no re-encoding), named by its SHA-256, so the same picture twice is one file and a name
cannot be guessed or collide.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from portal.i18n import N_, Refusal

MAX_PICTURE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # against decompression bombs (Pillow warns from 89 M)
_SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
FOLDER = "pictures"


class PictureRefused(Refusal):
    status = 400


def check_picture(data: bytes) -> str:
    """The file suffix of a picture we take (".png", ".jpg", ".webp"), or PictureRefused."""
    if len(data) > MAX_PICTURE_BYTES:
        raise PictureRefused(N_("The picture is larger than 5 MB."))
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        raise PictureRefused(N_("The picture must be a PNG, JPEG or WebP image.")) from None
    if kind not in _SUFFIXES:
        raise PictureRefused(N_("The picture must be a PNG, JPEG or WebP image."))
    if width * height > MAX_PIXELS:
        raise PictureRefused(N_("The picture has too many pixels (at most 40 million)."))
    return _SUFFIXES[kind]


def store_picture(data: bytes, media_dir: Path) -> str:
    """Checks and stores the picture; returns its name under the media folder
    ("pictures/<sha256>.png"), for ``url_for('media', path=name)``."""
    suffix = check_picture(data)
    name = f"{FOLDER}/{hashlib.sha256(data).hexdigest()}{suffix}"
    target = media_dir / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{secrets.token_hex(6)}.part")
        partial.write_bytes(data)
        partial.replace(target)  # never a half-written picture under its final name
    return name
