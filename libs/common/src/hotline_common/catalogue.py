"""Applies the topic catalogue to the cluster idempotently: creates what is missing, aligns configs."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from hotline_common.settings import ServiceSettings
from hotline_common.topics import CATALOGUE, DLQ_RETENTION_MS, TopicSpec

log = logging.getLogger("hotline.topics")


def desired_topics(settings: ServiceSettings, specs: tuple[TopicSpec, ...] = CATALOGUE) -> list[NewTopic]:
    rf = settings.kafka_replication_factor
    topics: list[NewTopic] = []
    for spec in specs:
        partitions = spec.partitions or settings.kafka_topic_partitions
        topics.append(NewTopic(spec.name, partitions, rf, topic_configs=spec.configs()))
        dlq_configs = {"cleanup.policy": "delete", "retention.ms": str(DLQ_RETENTION_MS)}
        topics.append(NewTopic(spec.dlq, 1, rf, topic_configs=dlq_configs))
    return topics


async def apply_catalogue(settings: ServiceSettings, specs: tuple[TopicSpec, ...] = CATALOGUE) -> list[str]:
    """Create missing topics and set the configs of existing ones. Returns the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        wanted = desired_topics(settings, specs)
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        created: list[str] = []
        if missing:
            response = await admin.create_topics(missing)
            for name, code, *_ in response.topic_errors:
                # 36 = TOPIC_ALREADY_EXISTS: another service won the race, which is fine.
                if code not in (0, 36):
                    raise RuntimeError(f"could not create topic {name}: error code {code}")
                if code == 0:
                    created.append(name)
        present = [t for t in wanted if t.name in existing]
        if present:
            # Incremental alter would be gentler, but plain alter with the full desired set is idempotent.
            await admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, t.name, configs=t.topic_configs) for t in present]
            )
        if created:
            log.info("created topics: %s", ", ".join(created))
        return created
    finally:
        await admin.close()
