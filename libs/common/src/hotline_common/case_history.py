"""One case's events across every `hotline.*` topic, its dead letters and the ops audit included, in order.

Case events are keyed by the case id, so each topic's records of a case sit on one known partition (the producers'
murmur2 of the key); and nothing happens to a case before it is reported, so every topic is read only from the
report's time on. A case number is resolved to its id by reading `hotline.case.reported.v1` (the only event
every case has), which is the one full read this takes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from hotline_common.stream import (
    EventView,
    Start,
    partitions_of,
    read_range,
    reader,
    start_offsets,
    stream_topics,
    view_of,
)
from hotline_common.topics import CASE_REPORTED

# Producers stamp records with their own clocks: read a little before the report for a skewed one.
CLOCK_SKEW = timedelta(minutes=5)


class CaseNotFound(LookupError):
    """No report of that case number or id is on the reported topic (a typo, or older than its retention)."""


@dataclass(frozen=True)
class CaseHistory:
    case_id: str
    case_number: str | None
    events: list[EventView]  # oldest first

    def as_dict(self) -> dict[str, object]:
        return {"case_id": self.case_id, "case_number": self.case_number,
                "events": [e.as_dict() for e in self.events]}


def partition_for(key: str, partitions: int) -> int:
    """The partition a producer's default partitioner (Java's and aiokafka's alike) puts `key` on."""
    every = list(range(partitions))
    return int(DefaultPartitioner()(key.encode(), every, every))


async def _find_report(consumer: AIOKafkaConsumer, case: str) -> EventView | None:
    """The reported event of a case given by id or by number; the newest, should a number have been used twice
    (a test or demo database reset behind a Kafka that kept its records)."""
    tps = await partitions_of(consumer, [CASE_REPORTED.name])
    try:
        case_id: str | None = str(uuid.UUID(case))
    except ValueError:
        case_id = None
    if case_id is not None:
        tps = [TopicPartition(CASE_REPORTED.name, partition_for(case_id, len(tps)))] if tps else []
    offsets = await start_offsets(consumer, tps, "beginning")
    needle = (case_id or case).encode()
    found: EventView | None = None
    async for record in read_range(consumer, offsets):
        # A cheap look at the bytes before parsing: the number (or id) appears verbatim in its own report.
        if record.value is None or needle not in (record.key or b"") + record.value:
            continue
        view = view_of(record)
        if ((case_id and view.case_id == case_id) or (not case_id and view.case_number == case)) and (
                found is None or view.timestamp >= found.timestamp):
            found = view
    return found


async def case_history(bootstrap: str, case: str) -> CaseHistory:
    """Every event of the case (`1300-2569-000042` or its id) on the `hotline.*` topics and their dead-letter
    topics, oldest first. Raises `CaseNotFound` when neither its report nor any event of it is found."""
    consumer = reader(bootstrap, client_id="hotline-ops-case")
    await consumer.start()
    try:
        report = await _find_report(consumer, case)
        since: Start = "beginning"
        if report is not None and report.case_id is not None:
            case_id, since = report.case_id, report.timestamp - CLOCK_SKEW
        else:
            try:
                case_id = str(uuid.UUID(case))
            except ValueError:
                raise CaseNotFound(f"no report of case {case} on {CASE_REPORTED.name}") from None
        wanted: list[TopicPartition] = []
        for topic in await stream_topics(consumer, dead_letters=True):
            parts = await partitions_of(consumer, [topic])
            if parts:
                wanted.append(TopicPartition(topic, partition_for(case_id, len(parts))))
        offsets = await start_offsets(consumer, wanted, since)
        key = case_id.encode()
        events: list[EventView] = []
        async for record in read_range(consumer, offsets):
            if record.key != key and (record.value is None or key not in record.value):
                continue
            view = view_of(record)
            if record.key == key or view.case_id == case_id:
                events.append(view)
    finally:
        await consumer.stop()
    if report is None and not events:
        raise CaseNotFound(f"no event of case {case} on the hotline topics")
    events.sort(key=lambda v: (v.occurred_at, v.timestamp))
    number = report.case_number if report else next((e.case_number for e in events if e.case_number), None)
    return CaseHistory(case_id=case_id, case_number=number, events=events)


def summary_line(history: CaseHistory) -> str:
    """`reported → routed → alert.sent`: the path of the case in one line (for logs and tests)."""
    return " → ".join(e.event_type + (" (dlq)" if e.dead_letter else "") for e in history.events)


