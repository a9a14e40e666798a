"""Pictures marketing uploads (a cause's, a catalog item's): checked, then kept under the
media folder by a name derived from their content.

Only PNG, JPEG and WebP are taken, as Pillow reads them, whatever the file name says:
an SVG or an HTML file renamed .png could carry script. The file is stored as uploaded
(no re-encoding), named by its SHA-256, so the same picture twice is one file and a name
cannot be guessed or collide.

Cards show a thumbnail instead: a WebP of the card's size (4:3, cropped to the middle as
the card's CSS shows it) at 1x and 2x, made when the picture is stored, or on first use
for a picture stored before thumbnails existed (``thumbnail``), so no migration is needed.
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import i18n
from portal.i18n import N_, Refusal
from portal.web.forms import Form, FormErrors, parse_form

log = logging.getLogger("portal")

MAX_PICTURE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # against decompression bombs (Pillow warns from 89 M)
_SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
FOLDER = "pictures"
# A card's picture is at most about 180 CSS px wide (the catalog's, causes' and lots'
# grids): 240 px covers it at 1x, 480 px on a 2x phone.
THUMB_WIDTHS = (240, 480)
THUMB_SIZES = "(min-width: 960px) 180px, 45vw"
MEDIA_URL = "/media/"


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


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{secrets.token_hex(6)}.part")
    partial.write_bytes(data)
    partial.replace(target)  # never a half-written file under its final name


def store_picture(data: bytes, media_dir: Path) -> str:
    """Checks and stores the picture and its thumbnails; returns its name under the media
    folder ("pictures/<sha256>.png"), for ``url_for('media', path=name)``."""
    suffix = check_picture(data)
    name = f"{FOLDER}/{hashlib.sha256(data).hexdigest()}{suffix}"
    target = media_dir / name
    if not target.exists():
        _write(target, data)
    _make_thumbnails(name, data, media_dir)
    return name


# -- thumbnails ---------------------------------------------------------------------------


def _thumb_name(name: str, width: int) -> str:
    stem = Path(name).stem
    return f"{FOLDER}/thumbs/{stem}-{width}.webp"


def _make_thumbnails(name: str, data: bytes, media_dir: Path) -> None:
    """The picture's thumbnails, the largest first: the smallest one existing means all
    do. Written once; two requests making them at once write the same bytes."""
    with Image.open(io.BytesIO(data)) as opened:
        upright = ImageOps.exif_transpose(opened)
        image = upright.convert("RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB")
        for width in sorted(THUMB_WIDTHS, reverse=True):
            target = media_dir / _thumb_name(name, width)
            if target.exists():
                continue
            small = ImageOps.fit(image, (width, width * 3 // 4), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            small.save(out, "WEBP", quality=80, method=4)
            _write(target, out.getvalue())


@dataclass(frozen=True)
class Thumbnail:
    src: str
    srcset: str = ""
    sizes: str = ""


def thumbnail(name: str, media_dir: Path) -> Thumbnail:
    """What a card's ``<img>`` shows of a stored picture (a name under the media folder,
    with or without the leading /media/): its thumbnails with a srcset, made now if the
    picture was stored before thumbnails existed; the picture itself if that fails."""
    name = name.removeprefix(MEDIA_URL)
    original = Thumbnail(MEDIA_URL + name)
    smallest = media_dir / _thumb_name(name, min(THUMB_WIDTHS))
    if not smallest.exists():
        try:
            _make_thumbnails(name, (media_dir / name).read_bytes(), media_dir)
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
            log.warning("no thumbnail for %s", name, exc_info=True)
            return original
    urls = {w: MEDIA_URL + _thumb_name(name, w) for w in THUMB_WIDTHS}
    return Thumbnail(urls[min(THUMB_WIDTHS)],
                     ", ".join(f"{url} {w}w" for w, url in urls.items()), THUMB_SIZES)


@jinja2.pass_context
def card_thumbnail(context: Any, name: str) -> Thumbnail:
    """``thumbnail`` for templates, in the media folder of the request's app."""
    return thumbnail(name, Path(context["request"].app.state.settings.media_dir))


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
