"""The CSRF layer: malformed bodies and tokens are refused with the usual error page (never
a 500), and the csrftoken cookie is Secure over https."""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from portal.web import masking
from tests.factories import People, SignIn, csrf

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def browser(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A visitor who has a page open, and so a csrftoken cookie."""
    await client.get("/login")
    assert csrf(client)
    return client


def assert_error_page(response: httpx.Response, *statuses: int) -> None:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert 'class="error-page"' in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("body", [
    b"csrftoken=\xff\xfe&email=a",        # not UTF-8
    b"csrftoken=%C3%A9&email=a",          # a token that is not ASCII
    b"email=\xc3(&csrftoken=x",
])
async def test_a_malformed_form_body_is_a_400_page(browser: httpx.AsyncClient,
                                                   body: bytes) -> None:
    response = await browser.post("/login", content=body, headers={"content-type": FORM})
    assert_error_page(response, 400)
    assert "This request could not be understood" in response.text


async def test_a_form_body_that_is_not_utf8_on_any_page_is_refused(
    browser: httpx.AsyncClient,
) -> None:
    response = await browser.post("/profile", content=b"csrftoken=\xff",
                                  headers={"content-type": FORM, "accept-language": "ru"})
    assert_error_page(response, 400)
    assert '<html lang="ru"' in response.text


@pytest.mark.parametrize("content_type", [
    "multipart/form-data",                       # no boundary
    "multipart/form-data;boundary=xyz",          # no space before it
    "multipart/form-data; boundary=",            # empty
    "multipart/form-data; charset=utf-8",        # something else
])
@pytest.mark.parametrize("token", ["matching", "wrong"])
async def test_a_multipart_body_without_a_valid_boundary_is_refused(
    people: People, sign_in: SignIn, content_type: str, token: str
) -> None:
    carol = await sign_in("carol@example.com")
    header = csrf(carol) if token == "matching" else "wrong"
    response = await carol.post("/marketing/content/upload", content=b"--xyz\r\n",
                                headers={"content-type": content_type, "x-csrftoken": header})
    if token == "matching":
        assert response.status_code == 400  # the upload page says what is wrong
    else:
        assert_error_page(response, 403)


@pytest.mark.parametrize("header", ["wrong", "", "é"])
async def test_a_multipart_request_with_no_matching_token_is_the_expired_form_page(
    browser: httpx.AsyncClient, header: str
) -> None:
    files = {"pack": ("pack.zip", b"PK\x03\x04", "application/zip")}
    response = await browser.post("/marketing/content/upload", files=files,
                                  data={"csrftoken": "wrong", "note": "kept"},
                                  headers={b"x-csrftoken": header.encode("latin-1")})
    assert_error_page(response, 403)
    assert "This form has expired" in response.text
    assert "Files are not kept: choose the file again" in response.text
    assert "kept" in response.text


async def test_marketing_uploads_a_pack_without_javascript(
    people: People, sign_in: SignIn
) -> None:
    """A plain form post: the token travels as the multipart body's first field."""
    carol = await sign_in("carol@example.com")
    files = {"pack": ("pack.zip", b"not a zip", "application/zip")}
    response = await carol.post("/marketing/content/upload", files=files,
                                data={"csrftoken": csrf(carol)})
    assert response.status_code == 400  # past the CSRF layer: the upload page says why
    assert "This form has expired" not in response.text


async def test_an_expired_form_from_our_own_page_comes_back_to_send_again(
    people: People, sign_in: SignIn
) -> None:
    alice = await sign_in("alice@example.com")
    response = await alice.post(
        "/profile", data={"csrftoken": "stale", "display_name": "Ali <b>A</b>"},
        headers={"origin": "http://testserver", "referer": "http://testserver/profile"})
    assert_error_page(response, 403)
    page = response.text
    assert "This form has expired" in page and ">403<" not in page
    assert 'class="tabs"' in page  # branded: the signed-in header and tabs
    assert 'name="display_name" value="Ali &lt;b&gt;A&lt;/b&gt;"' in page
    given = re.search(r'name="csrftoken" value="([^"]+)"', page)
    assert given is not None and masking.unmask(given[1]) == csrf(alice)
    assert "Send it again" in page and 'href="http://testserver/profile"' in page


async def test_an_expired_form_from_elsewhere_is_given_back_as_text_only(
    people: People, sign_in: SignIn
) -> None:
    alice = await sign_in("alice@example.com")
    response = await alice.post("/profile", data={"csrftoken": "x", "display_name": "Mallory"},
                                headers={"origin": "https://evil.example"})
    assert_error_page(response, 403)
    assert "Mallory" in response.text
    assert "Send it again" not in response.text and 'name="display_name"' not in response.text


async def test_an_expired_sign_in_keeps_the_email_never_the_password(
    browser: httpx.AsyncClient,
) -> None:
    response = await browser.post(
        "/login", data={"csrftoken": "stale", "email": "alice@example.com",
                        "password": "secret-word"},
        headers={"origin": "http://testserver", "accept-language": "ru"})
    assert_error_page(response, 403)
    assert "alice@example.com" in response.text and "secret-word" not in response.text
    assert "Send it again" not in response.text  # no password to send it with
    assert '<html lang="ru"' in response.text


async def test_a_csrf_header_that_is_not_ascii_is_refused(browser: httpx.AsyncClient) -> None:
    response = await browser.post("/login", data={"email": "a", "password": "b"},
                                  headers={b"x-csrftoken": "é".encode("latin-1")})
    assert_error_page(response, 400)


async def test_a_cookie_header_that_is_not_utf8_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/rules", headers={b"cookie": b"csrftoken=\xff\xfe"})
    assert_error_page(response, 400)


async def test_a_good_multipart_upload_still_passes_the_csrf_layer(
    people: People, sign_in: SignIn
) -> None:
    carol = await sign_in("carol@example.com")
    files = {"pack": ("pack.zip", b"not a zip", "application/zip")}
    response = await carol.post("/marketing/content/upload", files=files,
                                headers={"x-csrftoken": csrf(carol)})
    assert response.status_code == 400
    assert "This form has expired" not in response.text


async def test_the_csrf_cookie_is_secure_over_https(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://portal.example") as c:
        response = await c.get("/login")
    cookie = next(v for v in response.headers.get_list("set-cookie")
                  if v.startswith("csrftoken="))
    assert "; Secure" in cookie


async def test_the_csrf_cookie_is_not_secure_over_plain_http(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    cookie = next(v for v in response.headers.get_list("set-cookie")
                  if v.startswith("csrftoken="))
    assert "Secure" not in cookie
    assert "SameSite=Lax" in cookie


# -- the token in pages is masked afresh on every response (BREACH) --------------------------

PAGE_TOKENS = re.compile(r'name="csrftoken" value="([^"]+)"|"x-csrftoken": "([^"]+)"')


def page_tokens(page: str) -> list[str]:
    return [form or header for form, header in PAGE_TOKENS.findall(page)]


async def test_a_page_never_holds_the_token_itself_and_each_response_masks_it_anew(
    browser: httpx.AsyncClient,
) -> None:
    cookie = csrf(browser)
    first = page_tokens((await browser.get("/login")).text)
    second = page_tokens((await browser.get("/login")).text)
    assert len(first) >= 2 and len(second) >= 2  # the forms' fields and HTMX's header
    assert cookie not in first + second
    assert not set(first) & set(second)
    assert {masking.unmask(token) for token in first + second} == {cookie}


async def test_a_masked_token_from_the_page_passes_in_a_form_and_in_the_header(
    people: People, sign_in: SignIn
) -> None:
    alice = await sign_in("alice@example.com")
    field, header = page_tokens((await alice.get("/profile")).text)[:2]
    by_form = await alice.post("/profile", data={"csrftoken": field, "display_name": "Al",
                                                 "language": "en"})
    by_htmx = await alice.post("/profile", data={"display_name": "Ally", "language": "en"},
                               headers={"x-csrftoken": header, "hx-request": "true"})
    for response in (by_form, by_htmx):
        assert response.status_code in (200, 303), response.text
        assert "This form has expired" not in response.text
    assert "Ally" in (await alice.get("/profile")).text


async def test_a_masked_token_passes_as_a_multipart_field_without_javascript(
    people: People, sign_in: SignIn
) -> None:
    carol = await sign_in("carol@example.com")
    field = page_tokens((await carol.get("/marketing/content/upload")).text)[0]
    files = {"pack": ("pack.zip", b"not a zip", "application/zip")}
    response = await carol.post("/marketing/content/upload", files=files,
                                data={"csrftoken": field})
    assert response.status_code == 400  # past the CSRF layer: the upload page says why
    assert "This form has expired" not in response.text


@pytest.mark.parametrize("forged", [
    "masked-for-another-cookie", "QUJD", "", "not base64 at all!", "AAAA" * 40,
])
async def test_a_token_that_does_not_unmask_to_the_cookie_is_refused(
    people: People, sign_in: SignIn, forged: str
) -> None:
    alice = await sign_in("alice@example.com")
    if forged == "masked-for-another-cookie":
        forged = masking.mask("IkFub3RoZXIi.c2lnbmF0dXJl")
    response = await alice.post("/profile", data={"csrftoken": forged, "display_name": "X"})
    assert_error_page(response, 403)
    header = await alice.post("/profile", data={"display_name": "X"},
                              headers={"x-csrftoken": forged or "x", "hx-request": "true"})
    assert header.status_code == 403


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=80))
def test_unmask_undoes_mask_and_masks_differ(token: str) -> None:
    assert masking.unmask(masking.mask(token)) == token
    if len(token) >= 8:
        assert masking.mask(token) != masking.mask(token)
