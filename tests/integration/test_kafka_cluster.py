"""A three-broker KRaft cluster (tools/devstack KafkaCluster) loses the leader of a partition mid-stream: the
idempotent acks=all producer loses and duplicates none of the records the cluster acknowledged.

The cluster is this module's own, on TEST_KAFKA_CLUSTER_PORT and the five ports above it (default 29492..29497).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hotline_common.kafka import PRODUCER_GUARANTEES
from hotline_devstack import DevstackError, KafkaCluster, cache_dir
from tests.conftest import ARTIFACTS, eventually

pytestmark = pytest.mark.integration

TOPIC = "test.cluster-failover.v1"
PARTITIONS = 3


@pytest.fixture(scope="module")
def cluster() -> Iterator[KafkaCluster]:
    state = cache_dir() / "test-kafka-cluster"
    shutil.rmtree(state, ignore_errors=True)  # a fresh cluster id and empty logs every run
    c = KafkaCluster(cache_dir(), int(os.environ.get("TEST_KAFKA_CLUSTER_PORT", "29492")), data_dir=state,
                     log_dir=ARTIFACTS / "logs" / "kafka-cluster")
    started = time.monotonic()
    try:
        c.start()
    except DevstackError as exc:
        pytest.fail(f"the cluster tests start three Kafka nodes natively and could not: {exc}", pytrace=False)
    print(f"\n3-node cluster started in {time.monotonic() - started:.1f}s")
    yield c
    c.stop()


@dataclass
class NumberedStream:
    """Records 0, 1, 2, ... sent round-robin over the partitions at a steady pace; what was acknowledged."""

    producer: AIOKafkaProducer
    sent: int = 0
    acked: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)
    pending: set[asyncio.Future[object]] = field(default_factory=set)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            n = self.sent
            # send() only queues; it waits when the partition's buffer is full (its leader gone).
            fut = await self.producer.send(TOPIC, value=str(n).encode(), partition=n % PARTITIONS)
            self.sent += 1
            self.pending.add(fut)
            fut.add_done_callback(lambda f, n=n: self._settled(n, f))
            await asyncio.sleep(0.005)
        await asyncio.gather(*self.pending, return_exceptions=True)

    def _settled(self, n: int, fut: asyncio.Future[object]) -> None:
        self.pending.discard(fut)
        if fut.exception() is None:
            self.acked.add(n)
        else:
            self.failed[n] = repr(fut.exception())

    def acked_beyond(self, n: int, partition: int) -> bool:
        """Has a record sent after record `n` to `partition` been acknowledged?"""
        return any(m > n and m % PARTITIONS == partition for m in self.acked)


async def _create_topic(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, PARTITIONS, 3, topic_configs={"min.insync.replicas": "2"})])
    finally:
        await admin.close()


async def _read_all(bootstrap: str) -> list[int]:
    """Every record's number, from the beginning to the end offsets of now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        numbers: list[int] = []
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                numbers.extend(int(r.value) for r in records)
        return numbers
    finally:
        await consumer.stop()


async def test_no_acknowledged_record_is_lost_or_duplicated_when_the_partition_leader_is_killed(
    cluster: KafkaCluster,
) -> None:
    bootstrap = cluster.bootstrap_servers
    await _create_topic(bootstrap)
    before = await cluster.wait_until_in_sync(TOPIC, timeout=30)
    assert all(s.replicas == (1, 2, 3) for s in before.values()), before

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, **PRODUCER_GUARANTEES)
    await producer.start()
    stream, stop = NumberedStream(producer), asyncio.Event()
    producing = asyncio.create_task(stream.run(stop))
    try:
        await eventually(lambda: len(stream.acked) >= 300, timeout=20)

        # Crash the leader of partition 0 while records stream in.
        victim = before[0].leader
        assert victim is not None
        cluster.kill(victim)
        killed_at = time.monotonic()
        new_leader = await cluster.wait_for_leader(TOPIC, 0, other_than=victim, timeout=30)
        elected_after = time.monotonic() - killed_at
        print(f"node {victim} killed: node {new_leader} leads {TOPIC}-0 after {elected_after:.1f}s")
        assert victim not in await cluster.isr_of(TOPIC, 0)  # out of the ISR: acks=all no longer waits for it

        # Two of three replicas still meet min.insync.replicas=2: partition 0 takes writes again.
        sent_after_failover = stream.sent
        await eventually(lambda: stream.acked_beyond(sent_after_failover, 0), timeout=20)
        resumed_after = time.monotonic() - killed_at
        print(f"partition 0 acknowledging again {resumed_after:.1f}s after the kill")

        # The crashed node comes back on its data, catches up and rejoins every ISR.
        restarted = time.monotonic()
        cluster.start_node(victim, wait=False)  # spawned here, waited for in a thread: the producer keeps going
        await asyncio.to_thread(cluster.nodes[victim].wait_ready)
        after = await cluster.wait_until_in_sync(TOPIC, timeout=40)
        print(f"node {victim} back in every ISR {time.monotonic() - restarted:.1f}s after its restart")
        assert all(victim in s.isr for s in after.values()), after
        in_sync_at = stream.sent
        await eventually(lambda: stream.acked_beyond(in_sync_at, 0), timeout=20)
    finally:
        stop.set()
        await producing
        await producer.stop()

    numbers = await _read_all(bootstrap)
    counts = Counter(numbers)
    duplicated = sorted(n for n, c in counts.items() if c > 1)
    lost = sorted(stream.acked - counts.keys())
    print(f"sent {stream.sent}, acknowledged {len(stream.acked)}, failed {len(stream.failed)}, read {len(numbers)}")
    assert duplicated == [], f"{len(duplicated)} records duplicated, e.g. {duplicated[:10]}"
    assert lost == [], f"{len(lost)} acknowledged records lost, e.g. {lost[:10]}"
    assert stream.failed == {}, f"the producer gave up on {len(stream.failed)}: {next(iter(stream.failed.values()))}"
