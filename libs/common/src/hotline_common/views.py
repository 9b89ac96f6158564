"""Local views of compacted registry topics: read whole at start, then followed live (a small KTable).

Hand-written because no maintained Python library offers a Kafka table view; it is one aiokafka consumer
outside any group (every replica needs every record) that assigns all partitions and reads from the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from hotline_common.events import Event
from hotline_common.topics import TopicSpec

log = logging.getLogger("hotline.views")
E = TypeVar("E", bound=Event)


class CompactedView(Generic[E]):
    """The latest record per key of one compacted topic; `ready` is set once the start-up backlog is read."""

    def __init__(self, spec: TopicSpec, bootstrap: str, *, on_change: Callable[[str, E | None], None]
                 | None = None) -> None:
        self.spec = spec
        self.bootstrap = bootstrap
        self.records: dict[str, E] = {}
        self.ready = asyncio.Event()
        self.on_change = on_change
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"view-{self.spec.name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self.ready.wait(), timeout)

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        k = key.decode()
        if value is None:  # tombstone: the entity was deleted
            self.records.pop(k, None)
            if self.on_change:
                self.on_change(k, None)
            return
        try:
            record = self.spec.model.model_validate_json(value)
        except ValidationError as exc:
            log.error("skipping bad record on %s key %s: %s", self.spec.name, k, exc)
            return
        self.records[k] = record  # type: ignore[assignment]
        if self.on_change:
            self.on_change(k, record)  # type: ignore[arg-type]

    async def _run(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                        group_id=None, auto_offset_reset="earliest")
            try:
                await consumer.start()
                # Without a group, aiokafka assigns every partition of the subscribed topic to this consumer.
                consumer.subscribe([self.spec.name])
                partitions = await self._partitions(consumer)
                await consumer.seek_to_beginning(*partitions)
                end = await consumer.end_offsets(partitions)
                pending = {tp for tp, off in end.items() if off > 0}
                if not pending:
                    self.ready.set()
                while True:
                    batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
                    for records in batch.values():
                        for rec in records:
                            self._apply(rec.key, rec.value)
                    # Position, not the last record's offset: compaction and control records leave gaps.
                    for tp in list(pending):
                        if await consumer.position(tp) >= end[tp]:
                            pending.discard(tp)
                    if not self.ready.is_set() and not pending:
                        log.info("view %s ready with %d records", self.spec.name, len(self.records))
                        self.ready.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("view %s lost Kafka, restarting: %r", self.spec.name, exc)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        for _ in range(120):
            assigned = consumer.assignment()
            if assigned:
                return sorted(assigned, key=lambda tp: tp.partition)
            await asyncio.sleep(0.25)
        raise RuntimeError(f"topic {self.spec.name} has no partitions to read")
