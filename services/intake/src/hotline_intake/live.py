"""The live timeline across intake's replicas: each process keeps one connection LISTENing on PostgreSQL, which a
trigger on `case_events` NOTIFYs at every commit (whichever replica, subscriber or request wrote the entry), and
hands each new entry to this process's streams that follow its case.

A listener that was away (PostgreSQL restarted, the network dropped) cannot know what it missed: when it listens
again it tells every stream to re-read its case's timeline from where it was (`RESYNC`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from typing import TypeAlias

import asyncpg

from hotline_common.runtime import Runtime
from hotline_intake import repository

log = logging.getLogger(__name__)
CHANNEL = "intake_case_events"  # migrations/008_console.sql
RESYNC = None  # a stream's cue to re-read its case's timeline: entries may have gone by unheard
Heard: TypeAlias = asyncpg.Record | None


class CaseFeed:
    """A runtime component: started with the service, stopped before the pool closes."""

    def __init__(self, runtime: Runtime, *, probe_seconds: float = 15.0) -> None:
        self._runtime = runtime
        self._probe_seconds = probe_seconds
        self._followers: dict[uuid.UUID, set[asyncio.Queue[Heard]]] = {}
        self._heard: asyncio.Queue[tuple[uuid.UUID, uuid.UUID]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = False

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen(), name="case-feed-listen"),
                       asyncio.create_task(self._deliver(), name="case-feed-deliver")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @contextlib.contextmanager
    def follow(self, case_id: uuid.UUID) -> Iterator[asyncio.Queue[Heard]]:
        """A queue of the case's new timeline entries (rows of `repository.timeline_entry`) or RESYNC, while the
        `with` lasts. Follow before reading the timeline so far: an entry in both is the stream's to skip."""
        queue: asyncio.Queue[Heard] = asyncio.Queue()
        self._followers.setdefault(case_id, set()).add(queue)
        try:
            yield queue
        finally:
            followers = self._followers.get(case_id, set())
            followers.discard(queue)
            if not followers:
                self._followers.pop(case_id, None)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            case, event = payload.split(":")
            case_id, event_id = uuid.UUID(case), uuid.UUID(event)
        except ValueError:
            log.warning("case feed: a notification that is not <case id>:<event id>: %.80r", payload)
            return
        if case_id in self._followers:
            self._heard.put_nowait((case_id, event_id))

    def _tell(self, case_id: uuid.UUID, heard: Heard) -> None:
        for queue in self._followers.get(case_id, ()):
            queue.put_nowait(heard)

    async def _deliver(self) -> None:
        """One entry at a time, in the order heard: a case's streams see its entries in commit order."""
        while True:
            case_id, event_id = await self._heard.get()
            if case_id not in self._followers:
                continue
            try:
                async with self._runtime.db.acquire() as conn:
                    row = await repository.timeline_entry(conn, event_id)
            except Exception as exc:
                log.warning("case feed: could not read entry %s of case %s (%r): its streams re-read", event_id,
                            case_id, exc)
                row = RESYNC
            self._tell(case_id, row)

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._runtime.settings.database_url, timeout=10,
                                             server_settings={"application_name": "hotline-intake-feed"})
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _, closed=lost: closed.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                self.listening, delay = True, 0.5
                for case_id in list(self._followers):  # whatever was committed while nobody listened
                    self._tell(case_id, RESYNC)
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self._probe_seconds)
                    if not lost.is_set():
                        await conn.fetchval("SELECT 1", timeout=5)  # a silent network loss shows here
                raise ConnectionError("the listening connection was closed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.listening = False
                log.warning("case feed: not listening (%r); again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)
