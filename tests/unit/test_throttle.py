"""The throttle holds a client over its rate instead of refusing it, and refuses only past the longest wait."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import HTTPException

from hotline_common.throttle import Throttle


async def test_a_client_over_its_rate_waits_and_every_request_goes_through() -> None:
    throttle = Throttle("3/second", max_wait=5)
    waits = await asyncio.gather(*(throttle.admit("operator-1") for _ in range(5)))
    assert sum(1 for w in waits if w > 0.05) == 2  # two were held back until the window had room ...
    assert throttle.delayed == 2  # ... and none refused
    assert await throttle.admit("operator-2") < 0.05  # another client is not slowed by the first


async def test_past_the_longest_wait_the_answer_is_429_with_retry_after() -> None:
    throttle = Throttle("2/minute", max_wait=0.5)
    await throttle.admit("line:U1")
    await throttle.admit("line:U1")
    with pytest.raises(HTTPException) as refused:
        await throttle.admit("line:U1")
    assert refused.value.status_code == 429
    assert refused.value.headers is not None and 1 <= int(refused.value.headers["Retry-After"]) <= 60
    assert "nothing was saved" in refused.value.detail
