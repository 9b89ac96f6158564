"""The ops tools against the whole platform: `hotline case` tells a real case's story from its report to its alert;
a case poisoned on its way to routing is dead-lettered by routing, shown with its error, routed after a corrected
replay (once: a second is refused, the audit event exists); every service serves its AsyncAPI document."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from hotline_common import deadletters
from hotline_common.asyncapi import published_topics, subscribed_topics
from hotline_common.events import CaseReported, Category, Channel, Location, Priority, TargetGroup
from hotline_common.topics import CASE_REPORTED, CASE_ROUTED, OPS_AUDIT
from hotline_devstack import Platform
from hotline_devstack.services import SERVICES
from hotline_devstack.webhook_sink import WebhookSink
from tests.conftest import a_case, eventually, published
from tests.infra import Infra

pytestmark = pytest.mark.e2e


async def hotline(infra: Infra, *args: str) -> tuple[int, Any, str]:
    """`hotline <args> --json` as a subprocess: exit code, parsed stdout, stderr."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "hotline_cli", *args, "--json",
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap})
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, json.loads(out) if out.strip() else None, err.decode()


async def test_hotline_case_shows_a_real_case_from_its_report_to_its_alert(
    intake: httpx.AsyncClient, sink: WebhookSink, infra: Infra
) -> None:
    r = await intake.post("/v1/cases", json=a_case())
    assert r.status_code == 201, r.text
    accepted = r.json()
    await eventually(lambda: sink.for_case(accepted["case_id"]), timeout=30)

    async def story() -> dict[str, Any] | None:
        code, history, err = await hotline(infra, "case", accepted["case_number"])
        assert code == 0, err
        types = [e["event_type"] for e in history["events"]]
        return history if {"case.reported", "case.routed", "alert.sent"} <= set(types) else None

    history = await eventually(story, timeout=30, interval=1)
    assert history["case_id"] == accepted["case_id"]
    types = [e["event_type"] for e in history["events"]]
    assert types[0] == "case.reported"
    assert types.index("case.routed") < types.index("alert.sent")
    reported, routed = history["events"][0], history["events"][types.index("case.routed")]
    assert (reported["province"], reported["category"], reported["channel"]) == ("57", "domestic_violence",
                                                                                 "hotline")
    assert routed["priority"] == "P1" and routed["center_id"] and routed["details"]["rule"]
    text = json.dumps(history, ensure_ascii=False)
    assert "สมศรี" not in text and "0812345678" not in text and "สามีทำร้ายร่างกาย" not in text


async def test_a_poisoned_report_is_dead_lettered_by_routing_and_routed_after_a_corrected_replay(
    platform: Platform, infra: Infra
) -> None:
    case = CaseReported(case_id=uuid.uuid4(), case_number=f"1300-2569-9{uuid.uuid4().int % 10**5:05d}",
                        channel=Channel.hotline, category=Category.elderly, target_group=TargetGroup.elderly,
                        urgency=Priority.P3, description="ยายอยู่บ้านคนเดียว ไม่มีอาหาร",
                        location=Location(tambon_code="570511"))
    body = json.loads(case.model_dump_json())
    del body["target_group"]  # a producer's bug: a required field left out
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(CASE_REPORTED.name, json.dumps(body, ensure_ascii=False).encode(),
                                     key=str(case.case_id).encode(),
                                     headers=[("ce_id", str(case.event_id).encode()),
                                              ("ce_type", CaseReported.ce_type.encode())])
    finally:
        await producer.stop()

    async def dead_lettered() -> deadletters.DeadLetter | None:
        found = await deadletters.dead_letters(infra.kafka_bootstrap, CASE_REPORTED.dlq, limit=500)
        return next((d for d in found if d.event.case_id == str(case.case_id)), None)

    letter: deadletters.DeadLetter = await eventually(dead_lettered, timeout=30, interval=0.5)
    code, shown, err = await hotline(infra, "dlq", "show", CASE_REPORTED.dlq, str(letter.offset))
    assert code == 0, err
    assert shown["error"] == "ValidationError" and "target_group" in shown["reason"]
    assert shown["source_topic"] == CASE_REPORTED.name and shown["case_number"] == case.case_number
    assert "ยายอยู่บ้าน" not in json.dumps(shown, ensure_ascii=False)

    code, audit, err = await hotline(infra, "dlq", "replay", CASE_REPORTED.dlq, str(letter.offset), "--yes",
                                     "--as", "ops", "--patch", '{"target_group": "elderly"}')
    assert code == 0, err
    assert audit["edited"] and audit["replayed_by"] == "ops" and audit["case_number"] == case.case_number

    [routed] = await published(infra.kafka_bootstrap, CASE_ROUTED.name, str(case.case_id))
    assert routed["target_group"] == "elderly" and routed["reported_event_id"] == str(case.event_id)
    assert routed["tambon_code"] == "570511"

    code, again, _ = await hotline(infra, "dlq", "replay", CASE_REPORTED.dlq, str(letter.offset), "--yes",
                                   "--as", "ops", "--patch", '{"target_group": "elderly"}')
    assert code == 1 and again["kind"] == "already_replayed"
    [recorded] = await published(infra.kafka_bootstrap, OPS_AUDIT.name, letter.ref)
    assert recorded["replayed_by"] == "ops" and recorded["dlq_offset"] == letter.offset
    assert recorded["replayed_event_id"] == str(case.event_id)

    # The case's history holds it all: the poisoned report, its dead letter, the replay and the routing.
    code, history, err = await hotline(infra, "case", str(case.case_id))
    assert code == 0, err
    seen = [(e["event_type"], e["dead_letter"]) for e in history["events"]]
    for step in (("case.reported", False), ("case.reported", True), ("ops.audit", False), ("case.routed", False)):
        assert step in seen, seen


# What each service receives (its subscribers and the registry views it follows) and publishes (its outbox).
EXPECTED = {
    "intake": ({"hotline.case.routed.v1", "hotline.case.unroutable.v1", "hotline.alert.sent.v1",
                "hotline.alert.failed.v1", "hotline.case.escalated.v1", "hotline.case.declined.v1",
                "hotline.case.acknowledged.v1", "hotline.case.resolved.v1", "registry.center.v1"},
               {"hotline.case.reported.v1", "hotline.case.urgency_raised.v1"}),
    "routing": ({"hotline.case.reported.v1", "hotline.case.declined.v1", "hotline.case.escalated.v1",
                 "hotline.case.urgency_raised.v1", "registry.center.v1", "registry.agency.v1"},
                {"hotline.case.routed.v1", "hotline.case.unroutable.v1"}),
    "notify": ({"hotline.case.routed.v1", "registry.responder.v1", "registry.rota.v1"},
               {"hotline.alert.sent.v1", "hotline.alert.failed.v1", "hotline.case.acknowledged.v1",
                "hotline.case.escalated.v1", "hotline.case.resolved.v1"}),
    "registry": (set(), {"registry.center.v1", "registry.agency.v1", "registry.responder.v1",
                         "registry.rota.v1"}),
}


async def test_every_service_serves_its_asyncapi_document_beside_openapi(platform: Platform) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for name, _ in SERVICES:
            doc = (await client.get(f"{platform.url(name)}/asyncapi.json")).json()
            assert doc["asyncapi"].startswith("3.") and doc["info"]["title"], name
            assert (await client.get(f"{platform.url(name)}/openapi.json")).status_code == 200
            page = await client.get(f"{platform.url(name)}/asyncapi")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "<script" not in page.text.lower(), "the page loads nothing from the internet"
            if name not in EXPECTED:
                continue
            receives, sends = EXPECTED[name]
            assert receives <= set(subscribed_topics(doc)), (name, subscribed_topics(doc))
            assert sends <= set(published_topics(doc)), (name, published_topics(doc))
            for topic in receives | sends:
                assert topic in page.text
            payloads = json.dumps(doc["components"]["schemas"])
            assert "case_number" in payloads or name == "registry"
