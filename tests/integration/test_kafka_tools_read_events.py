"""An event relayed by the outbox, read back with Kafka's own console consumer (not our Python client).

What a non-Python consumer sees is the contract: CloudEvents binary-mode headers, the case id as the key,
a UTF-8 JSON body that validates against the exported JSON Schema of its topic.
"""

# asyncpg and jsonschema ship no type information (no stubs in the dev group, no mypy override for them).
# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from jsonschema import Draft202012Validator, FormatChecker
from opentelemetry.sdk.trace import TracerProvider

from hotline_common import db, outbox, schemas
from hotline_common.catalogue import apply_catalogue
from hotline_common.events import CaseReported, Category, Channel, Location, Priority, TargetGroup
from hotline_common.settings import ServiceSettings
from hotline_common.topics import CASE_REPORTED
from hotline_devstack import cache_dir, console_consume
from hotline_devstack.kafka_tools import parse_console_line

pytestmark = pytest.mark.integration

SOURCE = "/hotline/test-kafka-tools"
TRACEPARENT = re.compile(r"^00-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-[0-9a-f]{2}$")


def _env() -> tuple[str, str]:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    admin_url = os.environ.get("DATABASE_ADMIN_URL")
    if not bootstrap or not admin_url:
        pytest.fail(
            "KAFKA_BOOTSTRAP_SERVERS and DATABASE_ADMIN_URL must point at a running Kafka and PostgreSQL: "
            "run the integration tests via `make test` or `hotline-dev run -- pytest`"
        )
    return bootstrap, admin_url


async def _record_count(bootstrap: str, topic: str) -> int:
    """Records now in `topic` (end minus start offsets of all partitions)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        start = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        return sum(end[tp] - start[tp] for tp in partitions)
    finally:
        await consumer.stop()


async def test_console_consumer_reads_relayed_case_reported(tmp_path: Path) -> None:
    bootstrap, admin_url = _env()
    settings = ServiceSettings(KAFKA_BOOTSTRAP_SERVERS=bootstrap, HOTLINE_ENV="test")
    await apply_catalogue(settings)
    schema = f"test_kafka_tools_{uuid.uuid4().hex[:12]}"
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    pool = await db.create_pool(admin_url, schema=schema, max_size=2)
    relay = outbox.OutboxRelay(pool, bootstrap, schema=schema)
    try:
        await db.migrate(pool, schema=schema, directory=migrations)

        description = f"ยายอายุ 82 ปี อยู่บ้านคนเดียว ไม่มีข้าวกิน ขอความช่วยเหลือด่วน ({uuid.uuid4()})"
        event = CaseReported(
            case_id=uuid.uuid4(),
            case_number="1300-2569-990001",
            channel=Channel.hotline,
            category=Category.elderly,
            target_group=TargetGroup.elderly,
            urgency=Priority.P2,
            description=description,
            location=Location(tambon_code="570511"),
            has_callback=True,
        )
        case_id = str(event.case_id)
        # An active span while enqueueing, as in a request handler: the outbox keeps its traceparent.
        tracer = TracerProvider().get_tracer("test")
        with tracer.start_as_current_span("intake report") as span:
            trace_id = format(span.get_span_context().trace_id, "032x")
            async with pool.acquire() as conn, conn.transaction():
                await outbox.enqueue(conn, CASE_REPORTED, event, source=SOURCE)

        assert await relay.relay_batch() == 1
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM outbox") == 0

        total = await _record_count(bootstrap, CASE_REPORTED.name)
        assert total >= 1
        lines = await asyncio.to_thread(
            console_consume, cache_dir(), bootstrap, CASE_REPORTED.name, max_messages=total, timeout_ms=20_000
        )
    finally:
        await relay.stop()
        await pool.close()
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    assert lines, "the console consumer printed nothing"
    ours = [r for r in map(parse_console_line, lines) if r.key == case_id]
    assert len(ours) == 1, f"expected one record keyed {case_id} among {len(lines)} read"
    record = ours[0]

    headers = record.headers
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_id"] == str(event.event_id)
    assert headers["ce_type"] == CaseReported.ce_type == "th.go.msdhs.hotline.case.reported.v1"
    assert headers["ce_source"] == SOURCE
    assert datetime.fromisoformat(headers["ce_time"]) == event.occurred_at
    assert headers["ce_subject"] == case_id
    # FastStream sets its own content-type from the body it encodes (none for raw bytes); ours must win.
    assert headers["content-type"] == "application/json"
    if "traceparent" in headers:
        match = TRACEPARENT.match(headers["traceparent"])
        assert match, f"not a W3C traceparent: {headers['traceparent']!r}"
        assert match["trace"] == trace_id, "the relay must keep the trace the event was enqueued in"

    body = json.loads(record.value)
    schema_doc = json.loads((schemas.DEFAULT_DIR / schemas.filename(CASE_REPORTED)).read_text(encoding="utf-8"))
    Draft202012Validator(schema_doc, format_checker=FormatChecker()).validate(body)
    assert body["case_id"] == case_id
    assert body["event_id"] == str(event.event_id)
    # Thai survives producer -> Kafka -> Java console consumer -> our UTF-8 decoding byte for byte.
    assert body["description"] == description
    assert description in record.value  # pydantic writes non-ASCII as is, not as \u escapes
    assert CaseReported.model_validate_json(record.value) == event
