"""Pictures marketing uploads: PNG, JPEG or WebP as Pillow reads them, stored by content."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from portal.web.pictures import MAX_PICTURE_BYTES, PictureRefused, check_picture, store_picture


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
    assert sorted(p.name for p in (tmp_path / "pictures").iterdir()) == [name.split("/")[1]]
