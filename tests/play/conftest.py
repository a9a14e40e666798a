"""Fixtures of the game tests."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from portal.settings import Settings
from tests.factories import People, publish_live_copy, token_for


@pytest.fixture
async def bot(client: httpx.AsyncClient, people: People, settings: Settings,
              tmp_path: Path) -> httpx.AsyncClient:
    """An API client signed in as alice, with the example pack live: a chat bot."""
    await publish_live_copy("example", tmp_path / "pack", Path(settings.media_dir))
    client.headers["Authorization"] = f"Bearer {await token_for(client, 'alice@example.com')}"
    return client
