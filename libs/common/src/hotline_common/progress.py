"""What this process's consumers are doing: records in their handlers right now, and how many were handled. The
heartbeat reports it, so a consumer stuck on one record (a lock, a call that never returns) is seen while the
process itself still answers."""

from __future__ import annotations

import itertools
import time
from typing import Any

from faststream import BaseMiddleware
from faststream.message import StreamMessage


class Progress:
    """Records in their handlers right now (by when they entered) and how many have been handled."""

    def __init__(self) -> None:
        self._entered: dict[int, float] = {}
        self._ids = itertools.count()
        self.processed = 0

    def enter(self) -> int:
        token = next(self._ids)
        self._entered[token] = time.monotonic()
        return token

    def leave(self, token: int) -> None:
        self._entered.pop(token, None)
        self.processed += 1

    @property
    def in_flight(self) -> int:
        return len(self._entered)

    def oldest_in_flight_seconds(self) -> float:
        return time.monotonic() - min(self._entered.values()) if self._entered else 0.0


# One per process, like the broker: every consumer of the process reports to it.
PROGRESS = Progress()


class ProgressMiddleware(BaseMiddleware):
    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        token = PROGRESS.enter()
        try:
            return await call_next(msg)
        finally:
            PROGRESS.leave(token)
