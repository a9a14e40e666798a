"""The API answers as its OpenAPI document says. Schemathesis reads /api/v1/openapi.json
and sends each operation generated requests, valid and invalid, as a player and as an
admin; every answer must be one the document declares, in the shape it declares, and
none a 5xx."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from portal.app import create_app
from portal.settings import Settings
from tests import factories

BASE_URL = "http://testserver/api/v1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection, unsupported_method]


@dataclass
class Api:
    """The app running in its own event loop (a portal thread), as schemathesis's
    synchronous tests need, with a bearer token for one persona."""

    portal: BlockingPortal
    client: httpx.AsyncClient
    token: str = ""

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(partial(self.client.request, method, url, **kwargs))


@pytest.fixture(params=["alice@example.com", "dave@example.com"], ids=["player", "admin"])
def api(request: pytest.FixtureRequest, any_db_url: str, tmp_path: Path) -> Iterator[Api]:
    """The app on a fresh database with the personas and a live quiz."""
    media = tmp_path / "media"
    app = create_app(Settings(database_url=any_db_url, media_dir=str(media),
                              secret_key="test-secret-key-not-for-production",
                              scheduler_enabled=False))

    async def lifespan() -> LifespanManager:
        return LifespanManager(app)  # it looks for the running event loop

    with start_blocking_portal() as portal, \
            portal.wrap_async_context_manager(portal.call(lifespan)):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://testserver")
        api = Api(portal, client)
        # The app's event loop, where its database connections live.
        portal.call(factories.personas)
        portal.call(factories.publish_live_copy, "example", tmp_path / "pack", media)
        response = api.request("POST", "/api/v1/auth/login", json={
            "email": request.param, "password": factories.PASSWORD})
        assert response.status_code == 200, response.text
        api.token = response.json()["token"]
        try:
            yield api
        finally:
            portal.call(client.aclose)
    asyncio.run(Tortoise._reset_apps())  # as the app fixture in tests/conftest.py does
    EXECUTOR_CACHE.clear()


def served_document() -> dict[str, object]:
    """/api/v1/openapi.json as the app serves it (the document needs no database)."""
    app = create_app(Settings(database_url="sqlite://:memory:", media_dir="",
                              secret_key="test-secret-key-not-for-production",
                              scheduler_enabled=False))

    async def fetch() -> dict[str, object]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            response = await c.get("/api/v1/openapi.json")
        assert response.status_code == 200
        return dict(response.json())

    return asyncio.run(fetch())


schema = schemathesis.openapi.from_dict(served_document())


def send(api: Api, case: schemathesis.Case) -> httpx.Response:
    """The case as an httpx request (schemathesis prepares arguments for requests)."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL,
                                      headers={"Authorization": f"Bearer {api.token}"})
    assert not kwargs.pop("cookies", None)  # the API declares no cookie parameters
    data = kwargs.pop("data", None)
    if isinstance(data, bytes | str):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    return api.request(**kwargs)


# A bounded run, the same on every machine: 25 generated examples per operation (plus the
# boundary cases schemathesis derives from the document), derandomized, nothing replayed
# from a local example database.
@settings(max_examples=25, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@schema.parametrize()
def test_the_api_answers_as_its_document_says(case: schemathesis.Case, api: Api) -> None:
    response = send(api, case)
    case.validate_response(response, checks=CHECKS)
