"""Registry clients signed in as a demo account (the registry's tests write through them)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hotline_devstack import Platform
from tests.conftest import get_token


async def _registry_as(platform: Platform, username: str) -> AsyncIterator[httpx.AsyncClient]:
    token = await get_token(platform.url("registry"), username)
    async with httpx.AsyncClient(base_url=platform.url("registry"), timeout=120,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
async def admin(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _registry_as(platform, "admin"):
        yield client


@pytest.fixture
async def operator(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _registry_as(platform, "operator"):
        yield client
