"""Pictures marketing uploads: PNG, JPEG or WebP as Pillow reads them, stored by content."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from portal.web.pictures import (
    MAX_PICTURE_BYTES,
    PictureRefused,
    check_picture,
    store_picture,
    thumbnail,
)


def image_bytes(kind: str, size: tuple[int, int] = (8, 6)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, format=kind)
    return out.getvalue()


@pytest.mark.parametrize(("kind", "suffix"), [("PNG", ".png"), ("JPEG", ".jpg"),
                                               ("WEBP", ".webp")])
def test_png_jpeg_and_webp_are_taken(kind: str, suffix: str) -> None:
    assert check_picture(image_bytes(kind)) == suffix


@pytest.mark.parametrize("data", [
    b"", b"not an image", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # a PNG signature and nothing behind it
])
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(PictureRefused, match="PNG, JPEG or WebP"):
        check_picture(data)


def test_a_gif_is_refused_though_it_is_an_image() -> None:
    with pytest.raises(PictureRefused):
        check_picture(image_bytes("GIF"))


def test_a_picture_over_the_size_limit_is_refused() -> None:
    with pytest.raises(PictureRefused, match="5 MB"):
        check_picture(b"\x00" * (MAX_PICTURE_BYTES + 1))


def test_a_stored_picture_is_named_by_its_content(tmp_path: Path) -> None:
    data = image_bytes("PNG")
    name = store_picture(data, tmp_path)
    assert name.startswith("pictures/") and name.endswith(".png")
    assert (tmp_path / name).read_bytes() == data
    assert store_picture(data, tmp_path) == name
    # Nothing half-written is left behind: the picture, and its thumbnails apart.
    assert sorted(p.name for p in (tmp_path / "pictures").iterdir() if p.is_file()) == [
        name.split("/")[1]]
    assert all(p.suffix == ".webp" for p in (tmp_path / "pictures" / "thumbs").iterdir())


def test_storing_a_picture_makes_its_card_thumbnails_at_1x_and_2x(tmp_path: Path) -> None:
    name = store_picture(image_bytes("PNG", (800, 600)), tmp_path)
    shown = thumbnail(name, tmp_path)
    assert shown.src.startswith("/media/pictures/thumbs/") and shown.src.endswith("-240.webp")
    assert shown.srcset == f"{shown.src} 240w, {shown.src.replace('-240', '-480')} 480w"
    for url, size in ((shown.src, (240, 180)), (shown.src.replace("-240", "-480"), (480, 360))):
        with Image.open(tmp_path / url.removeprefix("/media/")) as small:
            assert (small.format, small.size) == ("WEBP", size)
    # The catalog keeps its pictures' names with the /media/ prefix: the same thumbnails.
    assert thumbnail(f"/media/{name}", tmp_path) == shown


def test_a_picture_stored_before_thumbnails_gets_them_on_first_use(tmp_path: Path) -> None:
    old = tmp_path / "pictures" / "old.jpg"
    old.parent.mkdir(parents=True)
    old.write_bytes(image_bytes("JPEG", (300, 500)))  # portrait: cropped to the card's 4:3
    shown = thumbnail("pictures/old.jpg", tmp_path)
    with Image.open(tmp_path / shown.src.removeprefix("/media/")) as small:
        assert small.size == (240, 180)
    # A picture that is gone or broken is shown as it is, without a srcset.
    (tmp_path / "pictures" / "broken.png").write_bytes(b"not a picture")
    for name in ("pictures/missing.png", "pictures/broken.png"):
        assert thumbnail(name, tmp_path) == type(shown)(f"/media/{name}")
