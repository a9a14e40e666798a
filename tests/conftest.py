"""Shared fixtures: a migrated database per test, the app, personas and signed-in clients.

SQLite (a file per test, copied from one migrated template) is the default. Tests that
take ``any_db`` run on PostgreSQL too whenever ``PORTAL_TEST_POSTGRES_URL`` points to a
server (``make test`` sets it); in CI a missing PostgreSQL is an error, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher, profiles
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from portal.accounts import service as accounts
from portal.app import create_app
from portal.db import migrate_database, tortoise_config
from portal.settings import Settings
from tests import factories

# argon2id still, with its cheapest parameters: the suite hashes hundreds of passwords.
accounts.use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))

POSTGRES_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL", "")
IN_CI = bool(os.environ.get("CI"))


def pytest_unconfigure(config: pytest.Config) -> None:
    """A SQLite connection a test never closed keeps a worker thread alive, and the run
    would then hang at exit until CI gives up: name it and end the run as failed instead."""
    leaked = [thread.name for thread in threading.enumerate()
              if thread.is_alive() and not thread.daemon and "connection_worker" in thread.name]
    if leaked:
        print(f"\nerror: {len(leaked)} SQLite connection(s) left open by the tests "
              f"({', '.join(leaked)}): close the ORM where it was initialised", file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: they are the slowest, and the rest give faster feedback."""
    items.sort(key=lambda item: "/e2e/" in str(item.path))


def _with_database(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "portal.sqlite3"
    asyncio.run(migrate_database(f"sqlite://{path}"))
    return path


def require_postgres() -> None:
    """Skips a PostgreSQL test where no server is set; in CI a missing one is an error."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI needs PostgreSQL on 127.0.0.1:5432 (PORTAL_TEST_POSTGRES_URL)")
        pytest.skip("PostgreSQL is not reachable: set PORTAL_TEST_POSTGRES_URL")


async def create_database(name: str, *, template: str | None = None) -> str:
    """A new PostgreSQL database (empty, or a copy of ``template``); returns its URL."""
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        copy = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await conn.close()
    return _with_database(POSTGRES_URL, name)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    require_postgres()
    name = f"portal_template_{os.getpid()}"

    async def create() -> None:
        await _drop(name)
        await migrate_database(await create_database(name))

    asyncio.run(create())
    yield name
    asyncio.run(_drop(name))


async def _drop(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite://{path}"


@pytest.fixture
async def postgres_url(postgres_template: str) -> AsyncIterator[str]:
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    yield await create_database(name, template=postgres_template)
    await _drop(name)


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated database on each engine."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


async def _close_orm() -> None:
    # Models keep their backend's query classes until the registry is reset; without this
    # a PostgreSQL test after a SQLite one would send SQLite's placeholders.
    await Tortoise._reset_apps()
    await Tortoise.close_connections()
    EXECUTOR_CACHE.clear()  # insert statements are cached per connection name, not engine


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[str]:
    """The ORM, initialised on this test's database (for service-level tests)."""
    await Tortoise.init(config=tortoise_config(db_url))
    yield db_url
    await _close_orm()


@pytest.fixture
async def any_db(any_db_url: str) -> AsyncIterator[str]:
    await Tortoise.init(config=tortoise_config(any_db_url))
    yield any_db_url
    await _close_orm()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        media_dir=str(tmp_path / "media"),
        secret_key="test-secret-key-not-for-production",
        scheduler_enabled=False,
        login_limit_per_account="5 per 15 minutes",
        login_limit_per_address="30 per 15 minutes",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application
    await Tortoise._reset_apps()
    EXECUTOR_CACHE.clear()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def people(app: Starlette) -> factories.People:
    """Fixed personas: Alice plays, Bob manages her company, Carol is marketing, Dave is
    admin, and Erin plays for another company."""
    return await factories.personas()


@pytest.fixture
def sign_in(app: Starlette) -> factories.SignIn:
    async def make(email: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app)
        c = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        await factories.sign_in(c, email)
        return c

    return make
