"""The baseline a load run is judged beside: raw Kafka produce → consume through the same broker, at the same
offered rate, in the same run (aiokafka with the platform's producer guarantees and linger, records about the size
of a case event). The platform's end-to-end figures divided by these are the cost of everything it adds: two
PostgreSQL outboxes, routing, notify's dispatcher and the webhook."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hotline_common.kafka import PRODUCER_GUARANTEES
from hotline_load.kit import summary_ms

BASELINE_TOPIC = "bench.baseline"
BASELINE_PAYLOAD_BYTES = 600  # about the size of a case.reported event
PLATFORM_LINGER_MS = 5  # what hotline_common.kafka.make_broker uses; the baseline producer matches it


class BaselineConsumer:
    """A consumer in its own group recording the receive time (time.time()) of every message index."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=f"bench-baseline-{uuid.uuid4()}",
            auto_offset_reset="earliest", client_id="bench-consumer")
        self.received: dict[int, float] = {}
        self.duplicates = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 60.0) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(self._run(), name="baseline-consumer")
        deadline = time.monotonic() + timeout
        while not self.consumer.assignment():  # joined the group: producing now measures no rebalance
            self.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"baseline consumer got no partitions within {timeout:.0f} s")
            await asyncio.sleep(0.05)

    def check(self) -> None:
        if self._task is not None and self._task.done():
            self._task.result()

    async def _run(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=200)
            now = time.time()
            for records in batches.values():
                for rec in records:
                    i = int(rec.key)
                    if i in self.received:
                        self.duplicates += 1
                    else:
                        self.received[i] = now

    async def wait_for(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            self.check()
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()


async def produce_at_rate(producer: Any, n: int, rate: float, topic: str) -> dict[int, float]:
    """Open loop: message i is sent at start + i/rate; returns its send time (time.time(), also in the value)."""
    sent_at: dict[int, float] = {}
    futures: list[asyncio.Future[Any]] = []
    pad = "x" * BASELINE_PAYLOAD_BYTES
    start = time.perf_counter()
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        t = sent_at[i] = time.time()
        value = json.dumps({"i": i, "sent_at": t, "pad": pad}).encode()
        futures.append(await producer.send(topic, value=value, key=str(i).encode()))
    await asyncio.gather(*futures)
    return sent_at


async def run_baseline(bootstrap: str, *, rate: float, duration: float, warmup: float,
                       drain_timeout: float, replication: int = 1) -> dict[str, Any]:
    """Raw aiokafka produce→consume round trip through the same broker at the same offered rate (a topic of its
    own each time, so runs on one broker never read each other's records)."""
    topic = f"{BASELINE_TOPIC}.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=replication)])
    finally:
        await admin.close()

    n_warm = round(rate * warmup)
    n = n_warm + round(rate * duration)
    consumer = BaselineConsumer(bootstrap, topic)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="bench-producer",
                                linger_ms=PLATFORM_LINGER_MS, **PRODUCER_GUARANTEES)
    try:
        await consumer.start()
        await producer.start()
        sent_at = await produce_at_rate(producer, n, rate, topic)
        await consumer.wait_for(n, drain_timeout)
    finally:
        await producer.stop()
        await consumer.stop()

    received = consumer.received
    measured = [i for i in range(n_warm, n) if i in received]
    lat = [received[i] - sent_at[i] for i in measured]
    span = (max(received[i] for i in measured) - sent_at[n_warm]) if measured else 0.0
    return {
        "offered_rate": rate,
        "messages": n - n_warm,
        "warmup_messages": n_warm,
        "received": len(measured),
        "missing": sum(1 for i in range(n) if i not in received),
        "duplicates": consumer.duplicates,
        "msgs_per_s": len(measured) / span if span > 0 else None,
        "latency_ms": summary_ms(lat),
        "producer": {**PRODUCER_GUARANTEES, "linger_ms": PLATFORM_LINGER_MS},
        "payload_bytes": BASELINE_PAYLOAD_BYTES,
    }
