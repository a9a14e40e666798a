"""Light on a slow network: pages and static files are compressed, static files linked by
a content digest are cached for a year, and every other static answer can be revalidated."""

from __future__ import annotations

import re

import httpx

from portal.web.static import digest
from tests.factories import People, SignIn


async def test_a_page_goes_out_gzipped_to_a_browser_that_takes_it(
    people: People, sign_in: SignIn
) -> None:
    client = await sign_in("alice@example.com")
    response = await client.get("/", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    assert int(response.headers["content-length"]) < len(response.content) / 2


async def test_pages_link_static_files_by_their_content_digest(client: httpx.AsyncClient
                                                               ) -> None:
    page = (await client.get("/login")).text
    assert f'/static/portal.css?v={digest("portal.css")}' in page
    assert re.search(r'src="/static/htmx-[\d.]+\.min\.js\?v=[0-9a-f]{10}"', page)


async def test_a_static_file_asked_by_its_digest_is_kept_for_a_year(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"/static/portal.css?v={digest('portal.css')}",
                                headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"


async def test_a_static_file_asked_without_or_with_an_old_digest_is_revalidated(
    client: httpx.AsyncClient,
) -> None:
    for url in ("/static/portal.css", "/static/portal.css?v=0000000000"):
        response = await client.get(url)
        assert response.headers["cache-control"] == "no-cache"
        etag = response.headers["etag"]
        again = await client.get(url, headers={"if-none-match": etag})
        assert again.status_code == 304
        assert again.headers["cache-control"] == "no-cache"


async def test_a_missing_static_file_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/nothing.css?v=1234567890")
    assert response.status_code == 404
