"""Per-client rate limits that slow a client down rather than drop what it sends.

A report may come from a person in crisis, so a client over its rate is made to wait (its request is held until
the window has room) and is refused with 429 and `Retry-After` only after `max_wait`: the client keeps the report
and sends it again. The counts are per process (the `limits` library's memory storage): with N replicas a client
may send up to N times the rate, which is fine for a brake against a runaway client.
"""

from __future__ import annotations

import asyncio
import math
import time

from fastapi import HTTPException, status
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


class Throttle:
    def __init__(self, rate: str, *, max_wait: float) -> None:
        self.item = parse(rate)  # e.g. "120/minute"
        self.max_wait = max_wait
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.delayed = 0  # requests held back, for the logs and tests

    async def admit(self, client: str) -> float:
        """Wait until `client` may go on; the seconds waited. 429 if that would take longer than `max_wait`."""
        started = time.monotonic()
        held = False
        while not await self.limiter.hit(self.item, client):
            stats = await self.limiter.get_window_stats(self.item, client)
            wait = max(0.01, stats.reset_time - time.time())
            if time.monotonic() - started + wait > self.max_wait:
                raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(math.ceil(wait))},
                                    detail=f"too many requests from this account ({self.item}); nothing was saved: "
                                    f"send it again in {math.ceil(wait)} s")
            if not held:
                held = True
                self.delayed += 1
            await asyncio.sleep(wait)
        return time.monotonic() - started
