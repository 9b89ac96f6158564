"""A test client of a server-sent event stream (the ops console's GET /v1/stream), reading in the background."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import eventually


@dataclass
class Received:
    id: str | None
    event: str
    data: dict[str, Any]
    at: float  # time.time() when it arrived


@dataclass
class Stream:
    """A client of GET /v1/stream, reading in the background: `events` fills as they arrive."""

    client: httpx.AsyncClient
    params: dict[str, Any]
    last_event_id: str | None = None
    events: list[Received] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    live: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        headers = {"Last-Event-ID": self.last_event_id} if self.last_event_id else {}
        async with self.client.stream("GET", "/v1/stream", params=self.params, headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            event, data, id_ = "message", "", None
            async for line in response.aiter_lines():
                self.raw.append(line)
                if line == ": live":
                    self.live.set()
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif line.startswith("id:"):
                    id_ = line[3:].strip()
                elif line == "":
                    if data:
                        self.events.append(Received(id_, event, json.loads(data), time.time()))
                    event, data, id_ = "message", "", None

    async def __aenter__(self) -> Stream:
        self._task = asyncio.create_task(self._read())
        done, _ = await asyncio.wait([self._task, asyncio.create_task(self.live.wait())], timeout=15,
                                     return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            self._task.result()
        assert self.live.is_set(), "the stream never went live"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def of(self, case_number: str, event_type: str | None = None) -> list[Received]:
        return [e for e in self.events if e.event == "event" and e.data.get("case_number") == case_number
                and (event_type is None or e.data["event_type"] == event_type)]

    async def wait_for(self, case_number: str, event_type: str, timeout: float = 20) -> Received:
        found: list[Received] = await eventually(lambda: self.of(case_number, event_type), timeout=timeout,
                                                 interval=0.01)
        return found[0]

    def ids(self) -> list[str]:
        return [e.id for e in self.events if e.event == "event" and e.id]
