"""The live tail: one Kafka consumer outside any group, reading every `hotline.*` topic from its end, fanned out to
the console's streams, with the per-topic rates it sees.

Resuming (a dropped connection, a page that paused): each process keeps its most recent events in memory, in the
order it heard them, each with its id `topic/partition/offset`. A stream that comes back with `Last-Event-ID` gets
every event heard after that one, then the live ones; nothing is lost as long as the id is still among the recent
events (`OPS_STREAM_REPLAY_EVENTS`), and if it is not, the stream says so (a `gap` event) instead of pretending.
One id is enough because the order is this process's arrival order, not Kafka's per-partition order: a list of
offsets per partition would be needed to resume from Kafka itself, and a live tail has no use for older history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from hotline_common.stream import reader

log = logging.getLogger("hotline.ops.live")
V = TypeVar("V")


def record_id(topic: str, partition: int, offset: int) -> str:
    """The stream's event id of a record: where it is in Kafka."""
    return f"{topic}/{partition}/{offset}"


@dataclass(frozen=True)
class Heard(Generic[V]):
    id: str
    seq: int  # this process's arrival order
    view: V


class TopicRates:
    """Records per topic over the last `window` seconds, counted in one-second buckets."""

    def __init__(self, window: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._buckets: dict[str, deque[list[int]]] = {}
        self.totals: dict[str, int] = {}

    def topic_seen(self, topic: str) -> None:
        self._buckets.setdefault(topic, deque())
        self.totals.setdefault(topic, 0)

    def count(self, topic: str, n: int = 1) -> None:
        second = int(self._clock())
        buckets = self._buckets.setdefault(topic, deque())
        if buckets and buckets[-1][0] == second:
            buckets[-1][1] += n
        else:
            buckets.append([second, n])
        self.totals[topic] = self.totals.get(topic, 0) + n
        self._trim(buckets, second)

    def _trim(self, buckets: deque[list[int]], now: int) -> None:
        while buckets and buckets[0][0] <= now - self.window:
            buckets.popleft()

    def per_second(self) -> dict[str, float]:
        """Events per second over the window, for every topic seen (0.0 for a quiet one)."""
        now = int(self._clock())
        rates = {}
        for topic, buckets in sorted(self._buckets.items()):
            self._trim(buckets, now)
            rates[topic] = round(sum(n for _, n in buckets) / self.window, 3)
        return rates


@dataclass(eq=False)  # one per stream, told apart by identity
class Follower(Generic[V]):
    """One stream's view of the tail: what it missed (`backlog`), then what comes (`queue`)."""

    backlog: list[Heard[V]]
    gap: bool  # its Last-Event-ID is no longer (or never was) among the recent events
    queue: asyncio.Queue[Heard[V] | None] = field(default_factory=asyncio.Queue)
    overflowed: bool = False


class LiveTail(Generic[V]):
    """A runtime component. `decode(record)` turns a record into what streams show (None: nothing to show)."""

    def __init__(self, bootstrap: str, *, topics: str, decode: Callable[[ConsumerRecord[Any, Any]], V | None],
                 keep: int, client_queue: int, rate_window: int) -> None:
        self.bootstrap = bootstrap
        self.pattern = topics
        self.decode = decode
        self.client_queue = client_queue
        self.recent: deque[Heard[V]] = deque(maxlen=keep)
        self._ids: dict[str, int] = {}
        self._seq = 0
        self.rates = TopicRates(rate_window)
        self.followers: set[Follower[V]] = set()
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ops-live-tail")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for follower in list(self.followers):
            follower.queue.put_nowait(None)  # its stream ends; the client reconnects to another process

    @contextlib.contextmanager
    def follow(self, last_id: str | None) -> Iterator[Follower[V]]:
        """The events after `last_id` (None: all the recent ones, for the stream to pick from) and then each new
        one, while the `with` lasts. The backlog is taken and the queue registered without yielding to the loop,
        so nothing falls between them."""
        if last_id is None:
            follower: Follower[V] = Follower(backlog=list(self.recent), gap=False)
        elif last_id in self._ids:
            first = self.recent[0].seq
            follower = Follower(backlog=list(self.recent)[self._ids[last_id] - first + 1:], gap=False)
        else:
            follower = Follower(backlog=list(self.recent), gap=True)
        follower.queue = asyncio.Queue(self.client_queue)
        self.followers.add(follower)
        try:
            yield follower
        finally:
            self.followers.discard(follower)

    def hear(self, record: ConsumerRecord[Any, Any]) -> None:
        self.rates.count(record.topic)
        view = self.decode(record)
        if view is None:
            return
        self._seq += 1
        heard = Heard(record_id(record.topic, record.partition, record.offset), self._seq, view)
        if len(self.recent) == self.recent.maxlen:
            self._ids.pop(self.recent[0].id, None)
        self.recent.append(heard)
        self._ids[heard.id] = heard.seq
        for follower in list(self.followers):
            if follower.overflowed:
                continue
            try:
                follower.queue.put_nowait(heard)
            except asyncio.QueueFull:
                # Too slow a client: its stream ends, and it resumes from the recent events when it reconnects.
                follower.overflowed = True
                follower.queue = asyncio.Queue()
                follower.queue.put_nowait(None)

    async def _run(self) -> None:
        while True:
            # Outside any group, from the end, committed transactions only; topics created later that match are
            # found at the next metadata refresh.
            consumer = reader(self.bootstrap, client_id="hotline-ops-live")
            try:
                await consumer.start()
                consumer.subscribe(pattern=self.pattern)
                await self._positioned(consumer)
                while True:
                    batch = await consumer.getmany(timeout_ms=1000, max_records=1000)
                    for tp in consumer.assignment():
                        self.rates.topic_seen(tp.topic)
                    for records in batch.values():
                        for record in records:
                            self.hear(record)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.ready.clear()
                log.warning("live tail lost Kafka, again in 1 s: %r", exc)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _positioned(self, consumer: AIOKafkaConsumer) -> None:
        """Ready once every matching partition is assigned and placed at its end: what is published after
        readiness is heard."""
        pattern = re.compile(self.pattern)
        for _ in range(240):
            assigned = consumer.assignment()
            wanted = {t for t in await consumer.topics() if pattern.match(t)}
            if assigned and wanted <= {tp.topic for tp in assigned}:
                for tp in assigned:
                    await consumer.position(tp)
                    self.rates.topic_seen(tp.topic)
                self.ready.set()
                log.info("live tail following %d partitions of %d topics", len(assigned), len(wanted))
                return
            await asyncio.sleep(0.25)
        raise RuntimeError(f"no partitions of topics matching {self.pattern} to follow")
