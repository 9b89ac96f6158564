"""The cluster's topics as the ops team looks at them: partitions, retention, compaction and how many records each
holds now, the catalogue's topics and their dead-letter topics first."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from hotline_common.stream import DLQ_SUFFIX, partitions_of, reader
from hotline_common.topics import BY_NAME

# Besides the catalogue's: topics of this platform by name (a newer service's, a test's are not).
OWN_PREFIXES = ("hotline.", "registry.")


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int
    replication: int
    retention_ms: int | None  # None: kept forever (-1), or unknown
    compacted: bool
    records: int  # end minus start offsets: exact for delete topics, an upper bound for compacted ones
    catalogued: bool
    dead_letter: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def topic_infos(bootstrap: str, *, every: bool = False) -> list[TopicInfo]:
    """The platform's topics (`every`: all but Kafka's internal ones), in the catalogue's order, then by name."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="hotline-ops-topics")
    await admin.start()
    try:
        names = [n for n in await admin.list_topics() if not n.startswith("__")
                 and (every or n.removesuffix(DLQ_SUFFIX) in BY_NAME or n.startswith(OWN_PREFIXES))]
        if not names:
            return []
        described = {d["topic"]: d for d in await admin.describe_topics(names)}
        configs: dict[str, dict[str, str]] = {}
        for response in await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, n, configs={"retention.ms": None, "cleanup.policy": None})
                 for n in names]):
            for _code, _message, _type, name, entries in response.resources:
                configs[name] = {entry[0]: entry[1] for entry in entries}
    finally:
        await admin.close()
    consumer = reader(bootstrap, client_id="hotline-ops-topics")
    await consumer.start()
    try:
        tps = await partitions_of(consumer, names)
        firsts = await consumer.beginning_offsets(tps) if tps else {}
        ends = await consumer.end_offsets(tps) if tps else {}
    finally:
        await consumer.stop()
    order = {spec.name: i for i, spec in enumerate(BY_NAME.values())}
    infos = []
    for name in names:
        parts = described.get(name, {}).get("partitions", [])
        retention = configs.get(name, {}).get("retention.ms")
        infos.append(TopicInfo(
            name=name, partitions=len(parts), replication=max((len(p["replicas"]) for p in parts), default=0),
            retention_ms=int(retention) if retention and int(retention) >= 0 else None,
            compacted="compact" in configs.get(name, {}).get("cleanup.policy", ""),
            records=sum(ends[tp] - firsts[tp] for tp in tps if tp.topic == name),
            catalogued=name in BY_NAME, dead_letter=name.endswith(DLQ_SUFFIX)))
    return sorted(infos, key=lambda t: (order.get(t.name.removesuffix(DLQ_SUFFIX), len(order)),
                                        t.name.removesuffix(DLQ_SUFFIX), t.dead_letter))
