"""The marketing workspace: upload a zipped pack, read the report, preview, publish."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import httpx
import pytest

from portal.content.models import Pack, PackUpload, Quiz
from portal.settings import PROJECT_ROOT
from tests.factories import People, SignIn, csrf

EXAMPLE = PROJECT_ROOT / "quizzes" / "example"


def zip_of(folder: Path, *, change: tuple[str, str, str] | None = None,
           extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                name = path.relative_to(folder).as_posix()
                if change and name == change[0]:
                    data = data.replace(change[1].encode(), change[2].encode())
                archive.writestr(f"example/{name}", data)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def upload(client: httpx.AsyncClient, data: bytes, name: str = "pack.zip"
                 ) -> httpx.Response:
    return await client.post("/marketing/content/upload",
                             files={"pack": (name, data, "application/zip")},
                             headers={"x-csrftoken": csrf(client), "hx-request": "true"})


@pytest.fixture
async def carol(people: People, sign_in: SignIn) -> httpx.AsyncClient:
    client = await sign_in("carol@example.com")
    await client.get("/marketing/content")
    return client


async def test_marketing_uploads_previews_and_publishes_a_pack(carol: httpx.AsyncClient) -> None:
    response = await upload(carol, zip_of(EXAMPLE))
    assert response.status_code == 204
    report = await carol.get(response.headers["hx-redirect"])
    assert "The pack passed every check." in report.text
    assert "Pump basics" in report.text and "Choosing the place" in report.text
    # The preview marks the right answers, and shows lessons as players read them.
    assert re.search(r'<li class="right">\s*A spinning impeller', report.text)
    assert "<strong>dry, frost-free</strong>" in report.text
    russian = await carol.get(response.headers["hx-redirect"] + "?lang=ru")
    assert "Основы насосов" in russian.text
    assert await Pack.all().count() == 0  # nothing published before the button
    published = await carol.post(response.headers["hx-redirect"] + "/publish",
                                 data={"csrftoken": csrf(carol)})
    assert published.status_code == 200 and "is published" in published.text
    assert await Quiz.all().count() == 2
    packs = await carol.get("/marketing/content")
    assert "Example pack" in packs.text and "closed" in packs.text


async def test_a_bad_pack_gets_a_report_and_cannot_be_published(carol: httpx.AsyncClient) -> None:
    bad = zip_of(EXAMPLE, change=("quiz-basics.yaml", "scoring: speed", "scoring: slow"))
    response = await upload(carol, bad)
    report = await carol.get(response.headers["hx-redirect"])
    assert "nothing was published" in report.text
    assert "quiz-basics.yaml:11: scoring: Input should be &#39;speed&#39;, " in report.text
    refused = await carol.post(response.headers["hx-redirect"] + "/publish",
                               data={"csrftoken": csrf(carol)})
    assert refused.status_code == 409
    assert await Pack.all().count() == 0


@pytest.mark.parametrize("data, message", [
    (b"not a zip at all", "This file is not a zip archive."),
    (zip_of(EXAMPLE, extra={"../../evil.txt": b"x"}), "a file outside its folder"),
    (zip_of(EXAMPLE / "lessons"), "The zip has no pack.yaml."),
])
async def test_unusable_uploads_are_refused_with_a_reason(carol: httpx.AsyncClient, data: bytes,
                                                          message: str) -> None:
    response = await upload(carol, data)
    assert response.status_code == 400
    assert message in response.text
    assert await PackUpload.all().count() == 0


async def test_an_upload_without_a_file_is_refused(carol: httpx.AsyncClient) -> None:
    response = await carol.post("/marketing/content/upload", files={"other": ("x", b"x")},
                                headers={"x-csrftoken": csrf(carol)})
    assert response.status_code == 400
    assert "Choose a zip file" in response.text


async def test_a_pack_uploads_without_javascript_with_the_token_as_a_form_field(
    carol: httpx.AsyncClient,
) -> None:
    response = await carol.post("/marketing/content/upload",
                                data={"csrftoken": csrf(carol)},
                                files={"pack": ("p.zip", zip_of(EXAMPLE))})
    assert response.status_code == 303  # to the report, as with HTMX
    assert await PackUpload.all().count() == 1


async def test_a_multipart_post_with_a_stale_token_is_the_expired_form_page(
    carol: httpx.AsyncClient,
) -> None:
    response = await carol.post("/marketing/content/upload", data={"csrftoken": "stale"},
                                files={"pack": ("p.zip", zip_of(EXAMPLE))})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert await PackUpload.all().count() == 0


async def test_a_damaged_zip_is_refused_with_a_reason(carol: httpx.AsyncClient) -> None:
    data = bytearray(zip_of(EXAMPLE))
    index = data.find(b"kind: quiz")
    data[index:index + 4] = b"XXXX"  # the stored CRC no longer matches
    response = await upload(carol, bytes(data))
    assert response.status_code == 400
    assert "damaged" in response.text


async def test_an_upload_said_to_be_too_large_is_refused_before_it_is_read(
    carol: httpx.AsyncClient,
) -> None:
    request = carol.build_request("POST", "/marketing/content/upload",
                                  files={"pack": ("p.zip", zip_of(EXAMPLE))},
                                  headers={"x-csrftoken": csrf(carol)})
    request.headers["content-length"] = str(21 * 1024 * 1024)
    response = await carol.send(request)
    assert response.status_code == 413
    assert "larger than 20 MB" in response.text
    assert await PackUpload.all().count() == 0
