"""Consumer lag per group, topic and partition: how far each consumer group is behind the end of its topics.

Read from the broker itself (the groups' committed offsets against the partitions' end offsets), not from the
consumers, so it is right even when a consumer is dead or stuck: exactly when the ops team needs it. One function
for the metrics samplers, the ops console and `hotline lag`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

GROUP_PREFIX = "hotline-"
# A transaction's commit marker takes an offset of its own that no consumer receives or commits past: after a
# transactional write (a dead letter's replay), the group stays "1 behind" until the next record. A partition this
# little behind is read to see whether anything but markers is waiting.
MARKER_SLACK = 3


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group has not committed on this partition yet
    end: int
    start: int = 0  # the first offset still on the partition (retention may have removed older ones)

    @property
    def lag(self) -> int:
        """Records the group has yet to process: from its committed offset, or from the partition's first retained
        record when it never committed (the services start from the earliest record)."""
        position = self.committed if self.committed is not None else self.start
        return max(0, self.end - max(position, self.start))


async def consumer_lag(bootstrap: str, *, groups: Iterable[str] | None = None,
                       prefix: str = GROUP_PREFIX) -> list[PartitionLag]:
    """Lag of `groups` (default: every group whose name starts with `prefix`), sorted by group, topic, partition.
    A group's topics are those it has committed offsets on; a group that never committed anything yields nothing."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="hotline-lag")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="hotline-lag", enable_auto_commit=False,
                                isolation_level="read_committed")
    await admin.start()
    try:
        await consumer.start()
        try:
            if groups is None:
                listed = await admin.list_consumer_groups()
                names = sorted(g[0] for g in listed if str(g[0]).startswith(prefix))
            else:
                names = sorted(groups)
            committed: dict[str, dict[TopicPartition, int | None]] = {}
            for group in names:
                offsets = await admin.list_consumer_group_offsets(group)
                committed[group] = {tp: (meta.offset if meta.offset >= 0 else None) for tp, meta in offsets.items()}
            # Every partition of the topics a group has committed on: a partition it never committed on (no record
            # reached it before the consumer stopped) is lag too, counted from the partition's start.
            topics = sorted({tp.topic for by_tp in committed.values() for tp in by_tp})
            counts = {d["topic"]: [p["partition"] for p in d["partitions"]]
                      for d in (await admin.describe_topics(topics) if topics else []) if not d.get("error_code")}
            for by_tp in committed.values():
                for topic in {tp.topic for tp in by_tp}:
                    for partition in counts.get(topic, ()):
                        by_tp.setdefault(TopicPartition(topic, partition), None)
            partitions = {tp for by_tp in committed.values() for tp in by_tp}
            if not partitions:
                return []
            ends = await consumer.end_offsets(list(partitions))
            starts = await consumer.beginning_offsets(list(partitions))
            ends.update(await _past_markers(consumer, committed, ends))
        finally:
            await consumer.stop()
    finally:
        await admin.close()
    return sorted(
        (PartitionLag(group=group, topic=tp.topic, partition=tp.partition, committed=offset, end=ends[tp],
                      start=starts[tp])
         for group, by_tp in committed.items() for tp, offset in by_tp.items()),
        key=lambda p: (p.group, p.topic, p.partition),
    )


async def _past_markers(consumer: AIOKafkaConsumer, committed: dict[str, dict[TopicPartition, int | None]],
                        ends: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
    """For partitions a group is only a few offsets behind: the offset its next real record would have, when only
    transaction markers lie between its commit and the end (the group is then caught up)."""
    near: dict[TopicPartition, int] = {}
    for by_tp in committed.values():
        for tp, offset in by_tp.items():
            if offset is not None and 0 < ends[tp] - offset <= MARKER_SLACK:
                near[tp] = min(offset, near.get(tp, offset))  # from the furthest-behind group's commit
    if not near:
        return {}
    consumer.assign(list(near))
    for tp, offset in near.items():
        consumer.seek(tp, offset)
    seen: set[TopicPartition] = set()
    for records in (await consumer.getmany(*near, timeout_ms=500)).values():
        seen.update(TopicPartition(r.topic, r.partition) for r in records)
    return {tp: offset for tp, offset in near.items()
            if tp not in seen and await consumer.position(tp) >= ends[tp]}
