"""An open case made more urgent after its report, end to end through real Kafka and PostgreSQL: an operator's
follow-up raises it; routing re-publishes the same routing at the new priority with a new deadline; notify alerts the
unit again as "urgent"; a second raise, a lower one and a raise on a resolved case change nothing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from hotline_common import topics
from hotline_common.envelope import ce_headers
from hotline_common.events import CaseResolved, ResolveOutcome
from hotline_devstack.webhook_sink import WebhookSink
from tests.conftest import a_case, eventually, published
from tests.infra import Infra

pytestmark = pytest.mark.e2e
ELDERLY = {"category": "elderly", "target_group": "elderly", "urgency": "P3", "caller": None,
           "description": "ผู้สูงอายุอยู่บ้านลำพัง ขอให้ไปเยี่ยมบ้าน"}


async def timeline(intake: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (await intake.get(f"/v1/cases/{case_id}")).json()["timeline"]
    return entries


async def routings(intake: httpx.AsyncClient, case_id: str, at_least: int) -> list[dict[str, Any]] | None:
    found = sorted((e["detail"] for e in await timeline(intake, case_id) if e["type"] == "routed"),
                   key=lambda d: d["attempt"])
    return found if len(found) >= at_least else None


async def test_an_operators_follow_up_raises_the_case_and_its_responders_are_alerted_again_as_urgent(
        intake: httpx.AsyncClient, sink: WebhookSink, infra: Infra) -> None:
    r = await intake.post("/v1/cases", json=a_case(**ELDERLY))
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    [first] = await eventually(lambda: routings(intake, case_id, 1))
    assert first["priority"] == "P3"
    await eventually(lambda: sink.for_case(case_id))

    raised = await intake.post(f"/v1/cases/{case_id}/urgency",
                               json={"urgency": "P1", "reason": "โทรมาอีกครั้ง ลูกชายเมาสุรากลับมาพร้อมมีด"})
    assert raised.status_code == 200, raised.text
    assert raised.json() == {"case_id": case_id, "raised": True, "priority": "P1"}
    # A double press, or a lower one, is no second alarm.
    again = await intake.post(f"/v1/cases/{case_id}/urgency", json={"urgency": "P1"})
    lower = await intake.post(f"/v1/cases/{case_id}/urgency", json={"urgency": "P2"})
    assert [again.json()["raised"], lower.json()["raised"], lower.json()["priority"]] == [False, False, "P1"]

    first, second = await eventually(lambda: routings(intake, case_id, 2))
    assert (second["attempt"], second["priority"], second["reprioritised_from"]) == (2, "P1", "P3")
    assert second["center_id"] == first["center_id"] and second["agency_id"] == first["agency_id"]
    assert datetime.fromisoformat(second["ack_deadline"]) < datetime.fromisoformat(first["ack_deadline"])
    urgent = await eventually(lambda: [a for a in sink.for_case(case_id) if a.body["kind"] == "urgent"])
    assert {a.body["priority"] for a in urgent} == {"P1"} and urgent[0].body["unit_id"] == first["center_id"]

    raises = await published(infra.kafka_bootstrap, topics.CASE_URGENCY_RAISED.name, case_id)
    assert [(e["urgency"], e["reason_code"], e["channel"]) for e in raises] == [("P1", "operator", "hotline")]
    assert "มีด" not in str(raises)  # the reason stays a sealed note
    view = (await intake.get(f"/v1/cases/{case_id}")).json()
    assert (view["urgency"], view["priority"]) == ("P3", "P1")
    assert any("ลูกชายเมาสุรา" in n["text"] for n in view["notes"])
    [entry] = [e for e in view["timeline"] if e["type"] == "urgency_raised"]
    assert entry["detail"]["raised_by"]  # the operator's account
    assert entry["detail"] | {"raised_by": ""} == {"urgency": "P1", "from": "P3", "reason_code": "operator",
                                                   "channel": "hotline", "raised_by": ""}
    assert len(await published(infra.kafka_bootstrap, topics.CASE_ROUTED.name, case_id)) == 2


async def test_a_raise_names_the_field_at_fault_and_a_resolved_case_is_not_raised(
        intake: httpx.AsyncClient, infra: Infra) -> None:
    r = await intake.post("/v1/cases", json=a_case(**ELDERLY))
    case_id, number = r.json()["case_id"], r.json()["case_number"]
    bad = await intake.post(f"/v1/cases/{case_id}/urgency", json={"urgency": "P0"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "urgency"]
    control = await intake.post(f"/v1/cases/{case_id}/urgency", json={"urgency": "P1", "reason": "ด่วน\x07"})
    assert control.status_code == 422 and control.json()["detail"][0]["loc"] == ["body", "reason"]
    missing = await intake.post(f"/v1/cases/{uuid.uuid4()}/urgency", json={"urgency": "P1"})
    assert missing.status_code == 404

    resolved = CaseResolved(case_id=uuid.UUID(case_id), case_number=number, responder_id=uuid.uuid4(),
                            outcome=ResolveOutcome.advice_given, via="api")
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        headers = [(k, v.encode()) for k, v in ce_headers(resolved, source="/hotline/notify").items()]
        await producer.send_and_wait(topics.CASE_RESOLVED.name, resolved.model_dump_json().encode(),
                                     key=case_id.encode(), headers=headers)
    finally:
        await producer.stop()

    async def closed() -> bool:
        return bool((await intake.get(f"/v1/cases/{case_id}")).json()["status"] == "resolved")

    await eventually(closed)
    refused = await intake.post(f"/v1/cases/{case_id}/urgency", json={"urgency": "P1"})
    assert refused.status_code == 409 and "resolved" in refused.json()["detail"]
    assert not [e for e in await timeline(intake, case_id) if e["type"] == "urgency_raised"]
