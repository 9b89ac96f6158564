"""Clients of a service signed in as a demo account (the registry's tests write through them, the ops console's
read through them)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hotline_devstack import Platform
from tests.conftest import get_token


async def signed_in(platform: Platform, service: str, username: str, *, timeout: float = 120
                    ) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `service` with `username`'s token from the registry."""
    token = await get_token(platform.url("registry"), username)
    async with httpx.AsyncClient(base_url=platform.url(service), timeout=timeout,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
async def admin(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async for client in signed_in(platform, "registry", "admin"):
        yield client


@pytest.fixture
async def operator(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async for client in signed_in(platform, "registry", "operator"):
        yield client
