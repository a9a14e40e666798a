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
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import i18n
from portal.i18n import N_, Refusal
from portal.web.forms import Form, FormErrors, parse_form

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


async def form_with_picture(request: Request, model: type[Form], *, max_fields: int = 30
                            ) -> tuple[Form, str | None]:
    """A multipart form with an optional ``picture`` file: the other fields parsed into
    ``model``, and the picture checked and stored (its name under the media folder; None
    when none was sent). A body over the picture's limit is a 413 before it is read; a
    field or a picture refused is FormErrors naming it (``picture`` for the picture)."""
    if int(request.headers.get("content-length") or 0) > MAX_PICTURE_BYTES + 64 * 1024:
        raise HTTPException(413, i18n.gettext("The picture is larger than 5 MB."))
    async with request.form(max_files=1, max_fields=max_fields) as submitted:
        fields = {k: v for k, v in submitted.items() if k != "picture"}
        form = parse_form(model, fields)
        upload = submitted.get("picture")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return form, None
        try:
            data = await upload.read(MAX_PICTURE_BYTES + 1)
            return form, store_picture(data, Path(request.app.state.settings.media_dir))
        except PictureRefused as exc:
            raise FormErrors({"picture": exc.translated()},
                             {k: v for k, v in fields.items() if isinstance(v, str)}) from None


def redirect_after_upload(request: Request, target: str) -> Response:
    """Where a saved multipart form goes. Such forms are sent by HTMX (their CSRF token
    rides in its header, as asgi-csrf cannot read one from a multipart body), which
    follows HX-Redirect; without HTMX, a 303."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
