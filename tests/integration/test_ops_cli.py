"""The `hotline` command on a real broker: `tail` shows an event within a second, filtered and without personal data;
`case` gathers one case's events across the topics; `lag` sees a stopped consumer fall behind and catch up;
`topics` lists the catalogue. Each runs as a subprocess with `--json`, as a script would."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hotline_common.case_history import partition_for
from hotline_common.catalogue import apply_catalogue
from hotline_common.envelope import ce_headers
from hotline_common.events import (
    AlertSent,
    CaseReported,
    CaseRouted,
    Category,
    Channel,
    Event,
    Location,
    Priority,
    TargetGroup,
)
from hotline_common.settings import ServiceSettings
from hotline_common.topics import ALERT_SENT, CASE_REPORTED, CASE_ROUTED, TopicSpec
from tests.infra import Infra

pytestmark = pytest.mark.integration

DESCRIPTION = "ผู้แจ้งเล่าว่าสามีทำร้ายร่างกาย บ้านเลขที่ 99 หมู่ 4"
ADDRESS = "ซอยลับ 7 ต.สันกลาง"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hotline_cli", *args]


async def run_cli(infra: Infra, *args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*cli(*args), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE,
                                                env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap})
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture(scope="module")
async def catalogue(infra: Infra) -> str:
    await apply_catalogue(ServiceSettings(KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap))
    return infra.kafka_bootstrap


@pytest.fixture
async def producer(catalogue: str) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=catalogue, acks="all", enable_idempotence=True)
    await p.start()
    yield p
    await p.stop()


async def publish(producer: AIOKafkaProducer, spec: TopicSpec, event: Event) -> None:
    headers = ce_headers(event, source="/hotline/test-ops-cli")
    await producer.send_and_wait(spec.name, event.model_dump_json().encode(), key=event.subject().encode(),
                                 headers=[(k, v.encode()) for k, v in headers.items()])


def a_report(number: str, *, tambon: str, urgency: Priority) -> CaseReported:
    return CaseReported(case_id=uuid.uuid4(), case_number=number, channel=Channel.hotline,
                        category=Category.domestic_violence, target_group=TargetGroup.woman, urgency=urgency,
                        description=DESCRIPTION, location=Location(tambon_code=tambon, text=ADDRESS),
                        caller_key="a" * 64, callback_ref="/v1/cases/x/contact")


def an_alert(case: CaseReported) -> AlertSent:
    return AlertSent(case_id=case.case_id, case_number=case.case_number, alert_id=uuid.uuid4(),
                     responder_id=uuid.uuid4(), center_id=uuid.uuid4(), channel="line", attempts=1)


def a_number() -> str:
    return f"1300-2569-{uuid.uuid4().int % 10**6:06d}"


async def _line(stream: asyncio.StreamReader, timeout: float) -> dict[str, Any]:
    raw = await asyncio.wait_for(stream.readline(), timeout)
    assert raw, "the tail ended"
    found: dict[str, Any] = json.loads(raw)
    return found


async def test_tail_shows_a_published_event_within_a_second_filtered_and_without_personal_data(
    infra: Infra, producer: AIOKafkaProducer
) -> None:
    proc = await asyncio.create_subprocess_exec(
        *cli("tail", "--json", "--province", "96", "--priority", "P1"), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap})
    assert proc.stdout is not None and proc.stderr is not None
    seen: list[dict[str, Any]] = []
    try:
        ready = await asyncio.wait_for(proc.stderr.readline(), 60)
        assert b"following" in ready, ready
        elsewhere = a_report(a_number(), tambon="100101", urgency=Priority.P1)  # Bangkok: filtered out
        less_urgent = a_report(a_number(), tambon="960101", urgency=Priority.P3)  # Narathiwat, P3: filtered out
        wanted = a_report(a_number(), tambon="960101", urgency=Priority.P1)
        await publish(producer, CASE_REPORTED, elsewhere)
        await publish(producer, CASE_REPORTED, less_urgent)
        sent = time.monotonic()
        await publish(producer, CASE_REPORTED, wanted)
        first = await _line(proc.stdout, 5)
        latency = time.monotonic() - sent
        seen.append(first)
        assert first["case_number"] == wanted.case_number, first
        assert latency < 1.0, f"shown {latency:.3f}s after it was published"
        # An alert names no province: it passes because its case's report did (the filter remembers the case).
        await publish(producer, ALERT_SENT, an_alert(elsewhere))
        await publish(producer, ALERT_SENT, an_alert(wanted))
        second = await _line(proc.stdout, 5)
        seen.append(second)
        assert (second["event_type"], second["case_number"]) == ("alert.sent", wanted.case_number)
    finally:
        proc.terminate()
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
    seen += [json.loads(line) for line in rest.decode().splitlines() if line.strip()]
    assert [v["case_number"] for v in seen] == [wanted.case_number] * 2, "only the filtered case is shown"
    report = seen[0]
    assert report["event_type"] == "case.reported" and report["topic"] == CASE_REPORTED.name
    assert (report["province"], report["priority"], report["channel"], report["category"]) == (
        "96", "P1", "hotline", "domestic_violence")
    assert report["event_id"] == str(wanted.event_id) and report["case_id"] == str(wanted.case_id)
    text = json.dumps(seen, ensure_ascii=False)
    for personal in (DESCRIPTION, "ทำร้าย", ADDRESS, "a" * 64, "/contact"):
        assert personal not in text


async def test_tail_reads_back_from_the_beginning_by_type_and_case_and_stops_at_the_end(
    infra: Infra, producer: AIOKafkaProducer
) -> None:
    case = a_report(a_number(), tambon="570511", urgency=Priority.P2)
    alert = an_alert(case)
    await publish(producer, CASE_REPORTED, case)
    await publish(producer, ALERT_SENT, alert)
    ours = {str(case.event_id), str(alert.event_id)}
    code, out, err = await run_cli(infra, "tail", "--json", "--from-beginning", "--no-follow",
                                   "--case", case.case_number)
    assert code == 0, err
    shown = [json.loads(line) for line in out.splitlines()]
    assert {v["case_number"] for v in shown} == {case.case_number}
    # In the full suite the platform's services are running and act on the report too: ours, in order, are there.
    assert [v["event_type"] for v in shown if v["event_id"] in ours] == ["case.reported", "alert.sent"]
    code, out, _ = await run_cli(infra, "tail", "--json", "--since", "10m", "--no-follow", "--type", "alert.sent",
                                 "--case", case.case_number)
    assert code == 0
    shown = [json.loads(line) for line in out.splitlines()]
    assert {v["event_type"] for v in shown} == {"alert.sent"} and str(alert.event_id) in {v["event_id"] for v in shown}
    code, out, _ = await run_cli(infra, "tail", "--from-beginning", "--no-follow", "--case", case.case_number)
    assert code == 0 and case.case_number in out and "แจ้งเตือนแล้ว · alert sent" in out  # the human form
    assert DESCRIPTION not in out


async def test_case_shows_one_cases_events_across_topics_in_order(infra: Infra, producer: AIOKafkaProducer) -> None:
    case = a_report(a_number(), tambon="570511", urgency=Priority.P2)
    other = a_report(a_number(), tambon="570511", urgency=Priority.P2)
    routed = CaseRouted(case_id=case.case_id, case_number=case.case_number, category=case.category,
                        target_group=case.target_group, priority=Priority.P1, tambon_code="570511",
                        center_id=uuid.uuid4(), center_name_th="ศูนย์ช่วยเหลือสังคมตำบลสันกลาง",
                        center_tambon_code="570511", distance_km=0.4, rule="own_tambon",
                        reported_event_id=case.event_id)
    alert = an_alert(case)
    for spec, event in ((CASE_REPORTED, case), (CASE_REPORTED, other), (CASE_ROUTED, routed),
                        (ALERT_SENT, an_alert(other)), (ALERT_SENT, alert)):
        await publish(producer, spec, event)
    ours = {str(case.event_id), str(routed.event_id), str(alert.event_id)}
    code, out, err = await run_cli(infra, "case", case.case_number, "--json")
    assert code == 0, err
    history = json.loads(out)
    assert history["case_id"] == str(case.case_id)
    # In the full suite the platform's services are running and act on the report too: ours, in order, are there.
    mine = [e for e in history["events"] if e["event_id"] in ours]
    assert [e["event_type"] for e in mine] == ["case.reported", "case.routed", "alert.sent"]
    assert {e["case_number"] for e in history["events"]} == {case.case_number}
    # Read from the one partition the producer put the case on (its murmur2), in every topic.
    assert {e["partition"] for e in history["events"]} == {partition_for(str(case.case_id), 3)}
    assert mine[1]["details"]["center_name_th"] == "ศูนย์ช่วยเหลือสังคมตำบลสันกลาง"
    assert DESCRIPTION not in out and ADDRESS not in out
    # By id as well; an unknown number is a clear "not found", exit 1.
    code, out, _ = await run_cli(infra, "case", str(case.case_id), "--json")
    assert code == 0 and ours <= {e["event_id"] for e in json.loads(out)["events"]}
    code, out, _ = await run_cli(infra, "case", "1300-2400-000000", "--json")
    assert code == 1 and json.loads(out)["kind"] == "not_found"


async def _lag_of(infra: Infra, group: str) -> dict[str, Any]:
    code, out, err = await run_cli(infra, "lag", "--group", group, "--json")
    assert code == 0, err
    found: dict[str, Any] = json.loads(out)
    return found


async def test_lag_shows_what_a_stopped_consumer_missed_and_drains_when_it_consumes(
    infra: Infra, producer: AIOKafkaProducer
) -> None:
    topic, group, n = f"test.lag.{uuid.uuid4().hex[:8]}", f"hotline-test-lag-{uuid.uuid4().hex[:6]}", 7
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 3, 1)])
    try:
        tps = [TopicPartition(topic, p) for p in range(3)]
        consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap, group_id=group,
                                    enable_auto_commit=False)
        await consumer.start()
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        await consumer.commit({tp: await consumer.position(tp) for tp in tps})  # caught up, then stopped
        await consumer.stop()
        for i in range(n):
            await producer.send_and_wait(topic, b"{}", key=f"case-{i}".encode())
        behind = await _lag_of(infra, group)
        assert behind["groups"] == {group: n} and behind["total"] == n
        assert sum(p["lag"] for p in behind["partitions"]) == n
        assert {p["topic"] for p in behind["partitions"]} == {topic}

        consumer = AIOKafkaConsumer(topic, bootstrap_servers=infra.kafka_bootstrap, group_id=group,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        got = 0
        try:
            deadline = time.monotonic() + 30
            while got < n and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                got += sum(len(records) for records in batch.values())
            assert got == n
            await consumer.commit()
        finally:
            await consumer.stop()
        drained = await _lag_of(infra, group)
        assert drained["groups"] == {group: 0} and drained["total"] == 0
    finally:
        await admin.delete_topics([topic])
        await admin.close()


async def test_topics_lists_the_catalogue_with_partitions_retention_compaction_and_counts(
    infra: Infra, producer: AIOKafkaProducer
) -> None:
    await publish(producer, CASE_REPORTED, a_report(a_number(), tambon="570511", urgency=Priority.P3))
    code, out, err = await run_cli(infra, "topics", "--json")
    assert code == 0, err
    by_name = {t["name"]: t for t in json.loads(out)}
    reported = by_name[CASE_REPORTED.name]
    assert reported["partitions"] == 3 and reported["retention_ms"] == 30 * 24 * 3600 * 1000
    assert not reported["compacted"] and reported["records"] >= 1 and reported["catalogued"]
    assert by_name["registry.center.v1"]["compacted"] and by_name["registry.center.v1"]["retention_ms"] is None
    assert by_name["hotline.case.reported.v1.dlq"]["dead_letter"]
    assert by_name["hotline.ops.audit.v1"]["partitions"] == 1
