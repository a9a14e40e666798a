"""Odd input, cross-site tricks and a busy database: clear answers, never a 500."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise

from portal.accounts.models import Invite, Person, Region, Session
from portal.db import DatabaseBusy, tortoise_config, write_transaction
from portal.ledger.models import Account, AccountKind
from tests.factories import People, SignIn, csrf, post_form


@pytest.mark.parametrize("url", ["/history?page=%C2%B2", "/history?page=99999999999"])
async def test_odd_page_numbers_are_a_400(people: People, sign_in: SignIn, url: str) -> None:
    alice = await sign_in("alice@example.com")
    assert (await alice.get(url)).status_code == 400


async def test_an_id_too_long_for_the_database_is_simply_not_found(people: People,
                                                                   sign_in: SignIn) -> None:
    dave = await sign_in("dave@example.com")
    assert (await dave.get("/admin/companies/99999999999999999999")).status_code == 404
    assert (await dave.get("/admin/people/9999999999")).status_code == 404


async def test_an_id_too_large_in_a_form_is_refused(people: People, sign_in: SignIn) -> None:
    dave = await sign_in("dave@example.com")
    response = await post_form(dave, f"/admin/companies/{people.acme.id}/outlets",
                               {"name": "Far away", "region_id": "100000000000000000000"})
    assert response.status_code == 400
    assert "Choose one of the offered options." in response.text


@pytest.mark.parametrize("field", ["email", "password"])
async def test_control_characters_in_a_form_are_refused(client: httpx.AsyncClient,
                                                        people: People, field: str) -> None:
    await client.get("/login")
    form = {"csrftoken": csrf(client), "email": "alice@example.com", "password": "x"}
    form[field] = "alice\x00@example.com"
    response = await client.post("/login", data=form)
    assert response.status_code == 400
    assert "characters that are not allowed" in response.text


async def test_control_characters_and_deep_nesting_in_json_are_refused(
    client: httpx.AsyncClient, people: People
) -> None:
    nul = await client.post("/api/v1/auth/login",
                            json={"email": "alice\u0000@example.com", "password": "x"})
    assert nul.status_code == 400
    deep = await client.post("/api/v1/auth/login", content=b"[" * 100_000 + b"]" * 100_000,
                             headers={"content-type": "application/json"})
    assert deep.status_code == 400


async def test_another_site_cannot_post_an_invite_form_without_the_token(
    client: httpx.AsyncClient, people: People
) -> None:
    from datetime import timedelta

    from portal.accounts import service as accounts

    token = await accounts.invite(people.bob, email="nina@example.com",
                                  outlet_id=people.north.id, valid_for=timedelta(days=1))
    # A cross-site form arrives without the SameSite=Lax cookies, and without a token.
    response = await client.post(f"/invite/{token}", data={
        "full_name": "Nina New", "display_name": "Nina", "password": "a long password"})
    assert response.status_code == 403
    assert not await Person.exists(email="nina@example.com")
    assert (await Invite.get(email="nina@example.com")).accepted_at is None


async def test_a_bearer_header_on_a_page_request_does_not_use_the_cookie(people: People,
                                                                        sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    response = await alice.post("/profile", data={"display_name": "Hacked", "language": "en"},
                                headers={"Authorization": "Bearer anything"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert (await Person.get(id=people.alice.id)).display_name == "Alice"


async def test_an_htmx_request_without_a_session_is_sent_to_sign_in_as_a_whole_page(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/history?page=2", headers={"hx-request": "true"})
    assert response.status_code == 204
    assert response.headers["hx-redirect"] == "/login?next=/history%3Fpage%3D2"


async def test_signing_in_again_replaces_the_session(people: People, sign_in: SignIn) -> None:
    from tests import factories

    alice = await sign_in("alice@example.com")
    assert await Session.filter(person_id=people.alice.id).count() == 1
    await factories.sign_in(alice, "alice@example.com")
    assert await Session.filter(person_id=people.alice.id).count() == 1


async def test_pages_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/rules")
    assert "unsafe" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-request-id"]


async def test_a_write_lock_held_too_long_elsewhere_fails_cleanly_and_frees_the_process(
    tmp_path: Path, sqlite_template: Path,
) -> None:
    import shutil

    path = tmp_path / "busy.sqlite3"
    shutil.copy(sqlite_template, path)
    await Tortoise.init(config=tortoise_config(f"sqlite://{path}?busy_timeout=300"))
    try:
        held, release = threading.Event(), threading.Event()

        def other_process() -> None:
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            held.set()
            release.wait(10)
            other.execute("ROLLBACK")
            other.close()

        thread = threading.Thread(target=other_process)
        thread.start()
        held.wait(10)
        with pytest.raises(DatabaseBusy):
            async with write_transaction():
                pass
        release.set()
        await asyncio.to_thread(thread.join, 10)
        # The connection lock was released: the next write goes through.
        async with write_transaction() as conn:
            await Account.create(kind=AccountKind.SYSTEM, code="after", name="after",
                                 using_db=conn)
        assert await Account.exists(code="after")
        assert await Region.all().count() == 0
    finally:
        await Tortoise._reset_apps()
        await Tortoise.close_connections()
