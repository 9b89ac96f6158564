"""The transactional outbox: events are written in the same transaction as the state, then relayed to Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections import Counter
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry import trace

from hotline_common.envelope import ce_headers
from hotline_common.events import Event
from hotline_common.events.base import utcnow
from hotline_common.kafka import PRODUCER_GUARANTEES
from hotline_common.metrics import DEAD_LETTERS, OUTBOX_PUBLISHED
from hotline_common.telemetry import context_of, current_traceparent, exporting, traceparent_of
from hotline_common.topics import TopicSpec

log = logging.getLogger("hotline.outbox")
_tracer = trace.get_tracer("hotline.outbox")


async def enqueue(conn: asyncpg.Connection, spec: TopicSpec, event: Event, *, source: str) -> None:
    """Add one event to the outbox. Call inside the transaction that writes the state it describes."""
    if not isinstance(event, spec.model):
        raise TypeError(f"{type(event).__name__} does not belong on {spec.name}")
    headers = ce_headers(event, source=source, traceparent=current_traceparent())
    await conn.execute(
        "INSERT INTO outbox (topic, key, headers, payload) VALUES ($1, $2, $3, $4)",
        spec.name,
        event.subject(),
        headers,
        event.model_dump_json().encode("utf-8"),
    )


async def enqueue_dead_letter(conn: asyncpg.Connection, spec: TopicSpec, event: Event, *, reason: str,
                              error: str, attempts: int, source: str) -> None:
    """A record that a service gave up on (not a poison message on consume): on `<topic>.dlq` with the same
    `dlq_*` headers the consumers' dead-letter middleware writes, for the ops team to inspect and replay."""
    if not isinstance(event, spec.model):
        raise TypeError(f"{type(event).__name__} does not belong on {spec.name}")
    headers = ce_headers(event, source=source, traceparent=current_traceparent())
    headers.update({"dlq_error": error, "dlq_reason": reason[:2000], "dlq_topic": spec.name,
                    "dlq_attempts": str(attempts)})
    await conn.execute("INSERT INTO outbox (topic, key, headers, payload) VALUES ($1, $2, $3, $4)",
                       spec.dlq, event.subject(), headers, event.model_dump_json().encode("utf-8"))
    # Counted when written (a rollback of the caller's transaction would make this count one too many: rare,
    # and an over-count errs on the side the ops team looks at).
    DEAD_LETTERS.labels(topic=spec.name, error=error).inc()


async def enqueue_many(conn: asyncpg.Connection, spec: TopicSpec, events: list[Event], *, source: str) -> None:
    """Add many events in one round trip (seeding, bulk changes); same transaction rule as `enqueue`."""
    traceparent = current_traceparent()
    await conn.executemany(
        "INSERT INTO outbox (topic, key, headers, payload) VALUES ($1, $2, $3, $4)",
        [
            (spec.name, e.subject(), ce_headers(e, source=source, traceparent=traceparent),
             e.model_dump_json().encode("utf-8"))
            for e in events
        ],
    )


async def enqueue_tombstone(conn: asyncpg.Connection, spec: TopicSpec, key: str, *, source: str) -> None:
    """Delete an entity from a compacted topic: a record with its key and no value (same transaction rule)."""
    if not spec.compacted:
        raise TypeError(f"{spec.name} is not compacted: a tombstone would mean nothing there")
    headers = {"ce_subject": key, "ce_source": source, "ce_time": utcnow().isoformat()}
    await conn.execute("INSERT INTO outbox (topic, key, headers, payload) VALUES ($1, $2, $3, NULL)",
                       spec.name, key, headers)


# `claim_once` and a write in one statement: `WITH claimed AS (...) <write> ... FROM claimed`, with the event id as
# $1 and its topic as $2. The write reads rows only from `claimed`, which is empty when the event was processed
# already. One round trip, atomic without a transaction around it.
CLAIMED_ONCE = ("WITH claimed AS (INSERT INTO inbox (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING "
                "RETURNING 1) ")


async def claim_once(conn: asyncpg.Connection, event_id: Any, topic: str) -> bool:
    """Record `event_id` in the inbox; False if it was processed already (the handler must then do nothing)."""
    status: str = await conn.execute(
        "INSERT INTO inbox (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING", event_id, topic
    )
    return status.endswith(" 1")


class OutboxRelay:
    """Publishes outbox rows in id order and deletes them once Kafka has acknowledged them (acks=all).

    Only one relay per schema is active (a PostgreSQL advisory lock), which keeps per-key order across
    replicas; the others wait and take over when its connection dies.

    It owns a plain aiokafka producer (same guarantees as the broker's: acks=all, idempotent) because this is
    the hottest publishing path and the rows are already serialised: FastStream's per-message publish
    pipeline (serialisation, middlewares) would cost more than the send itself. Each row with a stored trace
    context gets its own `<topic> publish` span in that trace (the time a case waited in the outbox shows as the
    gap before it), and the record's `traceparent` names that span, so the consumer continues the same trace. When
    spans are exported nowhere, the row's own `traceparent` travels on unchanged (the per-row span costs half the
    relay's throughput: bench/outbox_relay.py).
    """

    def __init__(self, pool: asyncpg.Pool, bootstrap_servers: str, *, schema: str, batch_size: int = 1000,
                 poll_interval: float = 0.2, client_id: str = "hotline-outbox") -> None:
        self.pool = pool
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, client_id=client_id,
                                         linger_ms=5, request_timeout_ms=30_000, max_batch_size=256 * 1024,
                                         **PRODUCER_GUARANTEES)
        self._producer_started = False
        self._partitioner = DefaultPartitioner()
        self.schema = schema
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.published = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.schema}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._producer_started:
            await self.producer.stop()
            self._producer_started = False

    async def _ensure_producer(self) -> None:
        if not self._producer_started:
            await self.producer.start()
            self._producer_started = True

    async def _run(self) -> None:
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # PostgreSQL or Kafka away: keep the rows, try again shortly
                log.warning("outbox relay for %s paused: %r", self.schema, exc)
                await asyncio.sleep(1.0)

    async def _lead(self) -> None:
        lock = zlib.crc32(f"outbox:{self.schema}".encode())
        async with self.pool.acquire() as leader:
            while not await leader.fetchval("SELECT pg_try_advisory_lock($1)", lock):
                await asyncio.sleep(2.0)
            try:
                while True:
                    sent = await self.relay_batch()
                    if sent < self.batch_size:
                        self._wake.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            finally:
                try:
                    await leader.execute("SELECT pg_advisory_unlock($1)", lock)
                except Exception:
                    leader.terminate()  # the session lock goes with the connection, not back to the pool

    def wake(self) -> None:
        """Called after a commit that added rows: relay now rather than at the next poll.

        Not LISTEN/NOTIFY: a notifying transaction takes a database-wide lock at commit, which would
        serialise every case's commit. A row written by another replica waits at most `poll_interval`."""
        self._wake.set()

    async def _send(self, rows: list[asyncpg.Record], spans: list[trace.Span]) -> list[asyncio.Future[Any]]:
        """Send rows as record batches, one or more per partition, in id order within each partition.

        Whole batches instead of one `send()` per record: the per-record path costs more CPU than the network.
        The partition is the one `send()` would choose (murmur2 of the key), so per-case order holds.
        """
        by_partition: dict[tuple[str, int], list[asyncpg.Record]] = {}
        partitions: dict[str, list[int]] = {}
        for row in rows:
            topic = row["topic"]
            if topic not in partitions:
                partitions[topic] = sorted(await self.producer.partitions_for(topic))
            part = self._partitioner(row["key"].encode(), partitions[topic], partitions[topic])
            by_partition.setdefault((topic, part), []).append(row)
        futures: list[asyncio.Future[Any]] = []
        traced = exporting()  # otherwise the row's own traceparent travels on: the trace still continues
        for (topic, part), part_rows in by_partition.items():
            batch = self.producer.create_batch()
            for row in part_rows:
                headers: dict[str, str] = row["headers"]
                if traced and "traceparent" in headers:
                    span = _tracer.start_span(f"{topic} publish", context=context_of(headers["traceparent"]),
                                              kind=trace.SpanKind.PRODUCER,
                                              attributes={"messaging.system": "kafka",
                                                          "messaging.destination.name": topic,
                                                          "messaging.destination.partition.id": str(part)})
                    spans.append(span)
                    headers = {**headers, "traceparent": traceparent_of(span) or headers["traceparent"]}
                record = {"key": row["key"].encode(), "value": row["payload"], "timestamp": None,
                          "headers": [(k, v.encode()) for k, v in headers.items()]}
                if batch.append(**record) is None:  # full: ship it, start the next one
                    futures.append(await self.producer.send_batch(batch, topic, partition=part))
                    batch = self.producer.create_batch()
                    batch.append(**record)
            futures.append(await self.producer.send_batch(batch, topic, partition=part))
        return futures

    async def relay_batch(self) -> int:
        """Publish one batch; the rows are deleted only if every record of it was acknowledged."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, topic, key, headers, payload FROM outbox ORDER BY id LIMIT $1 FOR UPDATE",
                self.batch_size,
            )
            if not rows:
                return 0
            await self._ensure_producer()
            spans: list[trace.Span] = []
            try:
                with _tracer.start_as_current_span("outbox relay", kind=trace.SpanKind.PRODUCER) as span:
                    span.set_attribute("messaging.batch.message_count", len(rows))
                    await asyncio.gather(*await self._send(rows, spans))
            except Exception as exc:  # not acknowledged: the rows stay and go again, each a new publish span
                for row_span in spans:
                    row_span.set_status(trace.Status(trace.StatusCode.ERROR, repr(exc)))
                raise
            finally:
                for row_span in spans:
                    row_span.end()
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
        self.published += len(rows)
        for topic, count in Counter(r["topic"] for r in rows).items():
            OUTBOX_PUBLISHED.labels(service=self.schema, topic=topic).inc(count)
        return len(rows)
