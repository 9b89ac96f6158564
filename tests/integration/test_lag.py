"""Consumer lag read from the broker: it shows while a group's consumer is stopped, including on partitions that
group never committed on, and drains to zero once the consumer has caught up and committed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hotline_common.lag import consumer_lag
from tests.infra import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
async def topic(infra: Infra) -> AsyncIterator[str]:
    name = f"test.lag.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(name, 3, 1)])
    yield name
    await admin.delete_topics([name])
    await admin.close()


async def consume_all(infra: Infra, topic: str, group: str, expected: int) -> None:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=infra.kafka_bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        seen, positions = 0, {}
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=5000)
            assert batches, f"only {seen} of {expected} records arrived"
            seen += sum(len(records) for records in batches.values())
            positions.update({tp: records[-1].offset + 1 for tp, records in batches.items()})
        await consumer.commit(positions)  # only where records were read, as a per-record committer does
    finally:
        await consumer.stop()


async def test_lag_shows_while_a_group_is_stopped_and_drains_when_it_catches_up(infra: Infra, topic: str) -> None:
    group = f"hotline-test-lag-{uuid.uuid4().hex[:6]}"
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        # One record on partition 0 only: the group commits there, and nowhere else.
        await producer.send_and_wait(topic, "รายงาน 0".encode(), partition=0)
        await consume_all(infra, topic, group, 1)
        assert sum(p.lag for p in await consumer_lag(infra.kafka_bootstrap, groups=[group])) == 0

        # The consumer is stopped; 2 + 3 + 4 records arrive on the three partitions.
        for partition, count in enumerate((2, 3, 4)):
            for i in range(count):
                await producer.send_and_wait(topic, f"รายงาน {partition}-{i}".encode(), partition=partition)
    finally:
        await producer.stop()

    lag = await consumer_lag(infra.kafka_bootstrap, groups=[group])
    by_partition = {p.partition: p.lag for p in lag if p.topic == topic}
    assert by_partition == {0: 2, 1: 3, 2: 4}  # partitions 1 and 2 never had a commit, and still count
    assert {p.committed for p in lag if p.partition != 0} == {None}

    await consume_all(infra, topic, group, 9)
    assert [p.lag for p in await consumer_lag(infra.kafka_bootstrap, groups=[group])] == [0, 0, 0]


async def test_every_hotline_group_is_listed_by_default_and_others_are_not(infra: Infra, topic: str) -> None:
    ours, theirs = f"hotline-test-lag-{uuid.uuid4().hex[:6]}", f"other-{uuid.uuid4().hex[:6]}"
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"x", partition=1)
    finally:
        await producer.stop()
    await consume_all(infra, topic, ours, 1)
    await consume_all(infra, topic, theirs, 1)
    groups = {p.group for p in await consumer_lag(infra.kafka_bootstrap)}
    assert ours in groups
    assert theirs not in groups


async def test_a_transactions_commit_marker_is_not_lag(infra: Infra, topic: str) -> None:
    """A dead letter's replay is written in a Kafka transaction: its commit marker takes an offset no consumer
    receives, so the group's commit stays one short of the end. That is no record waiting."""
    group = f"hotline-test-lag-{uuid.uuid4().hex[:6]}"
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, transactional_id=f"test-{group}")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(topic, "แจ้งซ้ำ".encode(), partition=1)
    finally:
        await producer.stop()
    await consume_all(infra, topic, group, 1)
    (lag,) = [p for p in await consumer_lag(infra.kafka_bootstrap, groups=[group]) if p.partition == 1]
    assert (lag.committed, lag.lag) == (1, 0)

    plain = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await plain.start()
    try:
        await plain.send_and_wait(topic, "รายงานใหม่".encode(), partition=1)  # a real record after the marker
    finally:
        await plain.stop()
    (lag,) = [p for p in await consumer_lag(infra.kafka_bootstrap, groups=[group]) if p.partition == 1]
    assert lag.lag == 2  # the marker's offset and the record: the record is waiting, so the figure stands
