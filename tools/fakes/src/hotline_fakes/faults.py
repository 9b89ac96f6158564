"""Fault injection shared by the HTTP fakes: the next N requests answer status S, optionally after a delay."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class Fault:
    status: int | None  # None: answer normally, after the delay
    delay: float = 0.0  # seconds before answering (longer than the client's timeout: a timeout)
    # Process the request as usual (a LINE push is accepted, an SMS stored), then answer `status` anyway:
    # the response was lost, which is exactly what idempotency keys are for.
    deliver: bool = False
    body: dict[str, Any] | None = None  # None: the fake's usual error body for that status


class FaultRequest(BaseModel):
    """Body of `POST /_fake/faults`."""

    status: int | None = Field(default=500, ge=100, le=599)
    times: int = Field(default=1, ge=1)
    delay: float = Field(default=0.0, ge=0)
    deliver: bool = False
    body: dict[str, Any] | None = None


class Faults:
    """A thread-safe queue: tests add faults from their thread, the server takes them in its own."""

    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()

    def add(self, status: int | None, *, times: int = 1, delay: float = 0.0, deliver: bool = False,
            body: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._queue.extend(Fault(status, delay, deliver, body) for _ in range(times))

    def take(self) -> Fault | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
