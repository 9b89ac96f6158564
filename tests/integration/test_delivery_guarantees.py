"""The delivery guarantees are configured explicitly and hold on a real broker.

aiokafka's producer defaults to acks=1 without idempotence, and FastStream's default acknowledgement
commits before the handler has finished (at-most-once). These tests fail if either default creeps back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from pydantic import BaseModel

from hotline_common.kafka import consumer_options, make_broker
from hotline_common.settings import ServiceSettings
from tests.infra import Infra

pytestmark = pytest.mark.integration


class Ping(BaseModel):
    n: int


@pytest.fixture
async def topic(infra: Infra) -> AsyncIterator[str]:
    name = f"test.guarantees.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(name, 1, 1), NewTopic(f"{name}.dlq", 1, 1)])
    yield name
    await admin.delete_topics([name, f"{name}.dlq"])
    await admin.close()


def settings(infra: Infra) -> ServiceSettings:
    return ServiceSettings(KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap)


async def committed(infra: Infra, topic: str, group: str) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()


async def test_the_producer_is_idempotent_and_waits_for_all_replicas(infra: Infra) -> None:
    broker = make_broker(settings(infra), service="test")
    await broker.connect()
    try:
        producer = broker.config.producer._producer.producer  # the aiokafka producer FastStream built
        assert producer._txn_manager is not None, "enable_idempotence must be on"
        assert producer._sender._acks == -1, "acks must be 'all'"
    finally:
        await broker.stop()


def test_every_service_subscriber_commits_only_after_its_handler() -> None:
    from hotline_intake.handlers import timeline
    from hotline_notify.handlers import router as notify
    from hotline_ops.handlers import cases
    from hotline_routing.handlers import router as routing

    subscribers = [s for r in (timeline.router, routing, notify, cases.router) for s in r.subscribers]
    assert len(subscribers) >= 20
    for sub in subscribers:
        assert sub.ack_policy is AckPolicy.NACK_ON_ERROR, sub


@pytest.mark.parametrize("workers", [1, 3])
async def test_started_consumers_have_auto_commit_off(infra: Infra, topic: str, workers: int) -> None:
    broker = make_broker(settings(infra), service="test")

    @broker.subscriber(topic, **consumer_options(f"test-{uuid.uuid4().hex[:6]}", workers=workers))
    async def handle(_: Ping) -> None:
        return None

    await broker.start()
    try:
        [sub] = broker.subscribers
        consumers = getattr(sub, "consumer_subgroup", None) or [sub.consumer]
        assert len(consumers) == workers
        assert all(c._enable_auto_commit is False for c in consumers)
    finally:
        await broker.stop()


async def test_a_handler_that_fails_gets_the_record_again_and_commits_only_after_success(
    infra: Infra, topic: str
) -> None:
    service = f"test-{uuid.uuid4().hex[:6]}"
    group = f"hotline-{service}"
    broker = make_broker(settings(infra), service="test")
    calls: list[int] = []
    done = asyncio.Event()

    @broker.subscriber(topic, **consumer_options(service))
    async def handle(ping: Ping) -> None:
        calls.append(ping.n)
        if len(calls) == 1:
            raise RuntimeError("the database blinked")
        done.set()

    await broker.start()
    try:
        await broker.publish(Ping(n=7), topic=topic, key=b"k")
        await asyncio.wait_for(done.wait(), 30)
        assert calls == [7, 7]
        assert await _eventually_committed(infra, topic, group, 1)
    finally:
        await broker.stop()


async def test_a_handler_cut_off_by_shutdown_is_not_committed_and_runs_again(infra: Infra, topic: str) -> None:
    service = f"test-{uuid.uuid4().hex[:6]}"
    group = f"hotline-{service}"
    started = asyncio.Event()
    first = make_broker(settings(infra), service="test")

    @first.subscriber(topic, **consumer_options(service))
    async def stuck(_: Ping) -> None:
        started.set()
        await asyncio.sleep(3600)  # the process shuts down while we work (after its 15 s graceful timeout)

    await first.start()
    await first.publish(Ping(n=1), topic=topic)
    await asyncio.wait_for(started.wait(), 30)
    await first.stop()
    assert await committed(infra, topic, group) in (None, 0), "an unfinished record must not be committed"

    second: KafkaBroker = make_broker(settings(infra), service="test")
    again = asyncio.Event()

    @second.subscriber(topic, **consumer_options(service))
    async def finish(ping: Ping) -> None:
        assert ping.n == 1
        again.set()

    await second.start()
    try:
        await asyncio.wait_for(again.wait(), 30)
        assert await _eventually_committed(infra, topic, group, 1)
    finally:
        await second.stop()


async def test_a_poison_record_goes_to_the_dead_letter_topic_and_the_partition_moves_on(
    infra: Infra, topic: str
) -> None:
    service = f"test-{uuid.uuid4().hex[:6]}"
    group = f"hotline-{service}"
    broker = make_broker(settings(infra), service="test")
    good = asyncio.Event()

    @broker.subscriber(topic, **consumer_options(service))
    async def handle(ping: Ping) -> None:
        if ping.n == 2:
            good.set()

    await broker.start()
    try:
        await broker.publish(b'{"n": "not a number"}', topic=topic, headers={"ce_id": "poison-1"})
        await broker.publish(Ping(n=2), topic=topic)
        await asyncio.wait_for(good.wait(), 30)
    finally:
        await broker.stop()

    consumer = AIOKafkaConsumer(f"{topic}.dlq", bootstrap_servers=infra.kafka_bootstrap, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    headers = {k: v.decode() for k, v in record.headers}
    assert record.value == b'{"n": "not a number"}'
    assert headers["dlq_error"] == "ValidationError"
    assert "n" in headers["dlq_reason"]
    assert headers["dlq_topic"] == topic and headers["ce_id"] == "poison-1"
    assert await _eventually_committed(infra, topic, group, 2)


async def _eventually_committed(infra: Infra, topic: str, group: str, offset: int) -> bool:
    for _ in range(50):
        seen = await committed(infra, topic, group)
        if seen == offset:
            return True
        await asyncio.sleep(0.2)
    return False
