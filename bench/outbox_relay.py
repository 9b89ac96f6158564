"""Outbox relay throughput: rows written in PostgreSQL → published to Kafka (acks=all) → rows deleted.

Baseline in the same run: the same records sent straight to Kafka by the same idempotent producer, without the
outbox. DESIGN.md asks a hand-written relay to beat the faststream-outbox project's published figures (about
450 messages/s with one worker, about 10,000/s with batched deletes).

Run by `make bench` under `hotline-dev run` (KAFKA_BOOTSTRAP_SERVERS and DATABASE_ADMIN_URL set).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from hotline_common import db, outbox, telemetry, topics
from hotline_common.catalogue import apply_catalogue
from hotline_common.events import CaseReported, Location
from hotline_common.kafka import PRODUCER_GUARANTEES
from hotline_common.settings import ServiceSettings

FASTSTREAM_OUTBOX_BATCHED = 10_000.0  # messages/s, that project's published best figure


def sample_cases(n: int) -> list[CaseReported]:
    return [
        CaseReported(case_id=uuid.uuid4(), case_number=f"1300-2569-{i:06d}", channel="hotline",  # type: ignore[arg-type]
                     category="elderly", target_group="elderly",  # type: ignore[arg-type]
                     description="ผู้สูงอายุอยู่บ้านลำพัง ไม่มีผู้ดูแล ขอให้เจ้าหน้าที่เยี่ยมบ้าน",
                     location=Location(tambon_code="570511"))
        for i in range(n)
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    settings = ServiceSettings(KAFKA_BOOTSTRAP_SERVERS=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                               HOTLINE_ENV="test")
    admin_url = os.environ["DATABASE_ADMIN_URL"]
    schema = f"bench_{uuid.uuid4().hex[:6]}"
    pool = await db.create_pool(admin_url, schema=schema, max_size=4)
    await db.migrate(pool, schema=schema, directory=Path("/nonexistent"))
    await apply_catalogue(settings)
    events = sample_cases(args.messages)

    async def enqueue() -> None:
        async with pool.acquire() as conn, conn.transaction():
            for start in range(0, len(events), 5000):
                await outbox.enqueue_many(conn, topics.CASE_REPORTED, list(events[start:start + 5000]),
                                          source="/hotline/bench")

    async def relay_all() -> float:
        """Relays the whole outbox; messages/s."""
        relay = outbox.OutboxRelay(pool, settings.kafka_bootstrap_servers, schema=schema)
        t0 = time.perf_counter()
        while await relay.relay_batch():
            pass
        await relay.stop()
        return args.messages / (time.perf_counter() - t0)

    try:
        # Baseline: the same records, straight to Kafka with an identical producer, same pipelining.
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=5,
                                    max_batch_size=256 * 1024, **PRODUCER_GUARANTEES)
        await producer.start()
        payloads = [(e.model_dump_json().encode(), e.subject().encode()) for e in events]
        t0 = time.perf_counter()
        futures = [await producer.send(topics.CASE_REPORTED.name, value=v, key=k) for v, k in payloads]
        await asyncio.gather(*futures)
        baseline = args.messages / (time.perf_counter() - t0)
        await producer.stop()
        # Second baseline: the relay's own batch path with no database in between (the outbox's overhead).
        direct = outbox.OutboxRelay(pool, settings.kafka_bootstrap_servers, schema=schema)
        await direct._ensure_producer()
        fake_rows = [{"topic": topics.CASE_REPORTED.name, "key": k.decode(), "payload": v,
                      "headers": {"content-type": "application/json"}} for v, k in payloads]
        t0 = time.perf_counter()
        for start in range(0, len(fake_rows), direct.batch_size):
            await asyncio.gather(*await direct._send(fake_rows[start:start + direct.batch_size], []))  # type: ignore[arg-type]
        batched = args.messages / (time.perf_counter() - t0)
        await direct.stop()

        await enqueue()
        relayed = await relay_all()
        async with pool.acquire() as conn:
            left = await conn.fetchval("SELECT count(*) FROM outbox")

        # The same rows written inside a request's span, as intake writes them: each carries a traceparent and the
        # relay opens a publish span per row in its case's trace (spans recorded, none exported: that cost is the
        # collector's side).
        trace.set_tracer_provider(TracerProvider())
        telemetry.EXPORT["spans"] = True  # as with OTEL_EXPORTER_OTLP_ENDPOINT set
        with trace.get_tracer("bench").start_as_current_span("POST /v1/cases"):
            await enqueue()
        traced = await relay_all()
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()

    result = {
        "at": datetime.now(UTC).isoformat(), "messages": args.messages, "rows_left": left,
        "relay_msgs_per_s": round(relayed), "relay_traced_msgs_per_s": round(traced),
        "traced_to_untraced": round(traced / relayed, 3), "baseline_direct_produce_msgs_per_s": round(baseline),
        "baseline_batched_produce_msgs_per_s": round(batched), "relay_to_batched": round(relayed / batched, 3),
        "relay_to_baseline": round(relayed / baseline, 3),
        "relay_to_faststream_outbox_batched": round(relayed / FASTSTREAM_OUTBOX_BATCHED, 2),
    }
    print("\nOutbox relay (PostgreSQL → Kafka acks=all → delete), batch 1000, one relay")
    print(f"  relay                    {relayed:>10,.0f} msg/s   ({args.messages:,} messages, {left} rows left)")
    print(f"  relay, rows traced       {traced:>10,.0f} msg/s   (a publish span per row; ratio {traced / relayed:.2f})")
    print(f"  baseline: direct produce {baseline:>10,.0f} msg/s   (identical producer, same run)")
    print(f"  baseline: batched produce{batched:>10,.0f} msg/s   (the relay's batches without PostgreSQL)")
    print(f"  ratio relay/per-record   {relayed / baseline:>10.2f}")
    print(f"  ratio relay/batched      {relayed / batched:>10.2f}   (the price of the outbox)")
    print(f"  vs faststream-outbox     {relayed / FASTSTREAM_OUTBOX_BATCHED:>10.2f}x its published 10,000 msg/s")
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / f"outbox-{int(time.time())}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
