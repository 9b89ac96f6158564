"""A case from a call to the responder's webhook, through real Kafka and PostgreSQL, all four services running."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from hotline_devstack import Platform
from hotline_devstack.webhook_sink import WebhookSink
from hotline_gazetteer import gazetteer
from tests.conftest import a_case, eventually

pytestmark = pytest.mark.e2e


async def test_case_from_a_call_reaches_the_on_call_responder_of_its_center(
    intake: httpx.AsyncClient, sink: WebhookSink, platform: Platform, operator_token: str
) -> None:
    r = await intake.post("/v1/cases", json=a_case())
    assert r.status_code == 201, r.text
    accepted = r.json()
    assert accepted["status"] == "reported"
    assert accepted["case_number"].startswith("1300-25")  # Buddhist-era year

    [alert] = await eventually(lambda: sink.for_case(accepted["case_id"]), timeout=30)
    assert alert.signature_ok, "the webhook must carry a valid X-Hotline-Signature"
    assert uuid.UUID(alert.delivery_id) and uuid.UUID(alert.body["alert_id"])  # the receiver's dedup keys
    async with httpx.AsyncClient(base_url=platform.url("registry"),
                                 headers={"Authorization": f"Bearer {operator_token}"}) as registry:
        [center] = (await registry.get("/v1/centers", params={"tambon_code": "570511"})).json()["items"]
    assert alert.body["unit_id"] == center["center_id"]
    assert alert.body["case_number"] == accepted["case_number"]
    assert alert.body["priority"] == "P1"  # the operator said P2; "ทำร้ายร่างกาย" in the description raises it
    assert "สันกลาง" in alert.body["place_th"] and "เชียงราย" in alert.body["place_th"]
    # Personal data stays in intake: the alert names the case, not the caller.
    text = str(alert.body)
    assert "สมศรี" not in text and "0812345678" not in text and "ทำร้าย" not in text

    async def timeline() -> list[str] | None:
        case = (await intake.get(f"/v1/cases/{accepted['case_id']}")).json()
        types = [e["type"] for e in case["timeline"]]
        # routed and alert_sent arrive on different topics, in either order: wait for both.
        return types if case["status"] == "alerted" and len(types) == 3 else None

    assert await eventually(timeline, timeout=20) == ["reported", "routed", "alert_sent"]
    case = (await intake.get(f"/v1/cases/{accepted['case_id']}")).json()
    assert case["caller"] == {"name": "สมศรี ใจดี", "phone": "0812345678"}
    assert case["description"].startswith("ผู้แจ้งเล่าว่า")


async def test_a_position_is_routed_to_the_sub_district_it_lies_in(
    intake: httpx.AsyncClient, sink: WebhookSink
) -> None:
    lampi = gazetteer().tambon("820805")  # ต.ลำภี อ.ท้ายเหมือง จ.พังงา
    assert lampi is not None
    body = a_case(location={"lat": lampi.lat + 0.003, "lon": lampi.lon - 0.002}, caller=None, urgency=None,
                  category="elderly", target_group="elderly", description="ผู้สูงอายุอยู่บ้านลำพัง ขอให้ไปเยี่ยมบ้าน")
    r = await intake.post("/v1/cases", json=body)
    assert r.status_code == 201, r.text
    [alert] = await eventually(lambda: sink.for_case(r.json()["case_id"]), timeout=30)
    assert alert.body["tambon_code"] == "820805"
    assert alert.body["priority"] == "P3"  # no urgency given: the category's default


async def test_cases_in_flight_are_alerted_exactly_once_while_routing_and_notify_crash(
    intake: httpx.AsyncClient, sink: WebhookSink, platform: Platform
) -> None:
    codes = [t.code for t in gazetteer().tambons[::37]][:200]
    case_ids: list[str] = []

    async def report(code: str) -> None:
        r = await intake.post("/v1/cases", json=a_case(location={"tambon_code": code},
                                                         description=f"ทดสอบ {uuid.uuid4()}"))
        assert r.status_code == 201, r.text
        case_ids.append(r.json()["case_id"])

    async def flow() -> None:
        for chunk in range(0, len(codes), 10):
            await asyncio.gather(*(report(c) for c in codes[chunk:chunk + 10]))
            await asyncio.sleep(0.05)

    sender = asyncio.create_task(flow())
    await eventually(lambda: len(case_ids) >= 40, timeout=60)
    platform.kill("routing")  # SIGKILL mid-flow: no graceful shutdown, offsets not committed
    await asyncio.sleep(1.0)
    await asyncio.to_thread(platform.start_service, "routing")
    await eventually(lambda: len(case_ids) >= 120, timeout=60)
    platform.kill("notify")
    await asyncio.sleep(1.0)
    await asyncio.to_thread(platform.start_service, "notify")
    await sender
    assert len(case_ids) == 200

    def all_arrived() -> bool:
        return all(sink.for_case(c) for c in case_ids)

    await eventually(all_arrived, timeout=120, interval=0.5)
    for case_id in case_ids:
        deliveries = sink.for_case(case_id)
        # One alert per case. A crash between the webhook call and its commit may repeat the same
        # delivery (same X-Hotline-Delivery id, for the receiver to drop), never a second alert.
        assert len({d.delivery_id for d in deliveries}) == 1, (case_id, deliveries)
    redelivered = sum(len(sink.for_case(c)) - 1 for c in case_ids)
    assert redelivered <= 5, f"{redelivered} repeated deliveries: more than a crash window can explain"


async def test_the_registry_serves_the_national_gazetteer(platform: Platform, operator_token: str) -> None:
    async with httpx.AsyncClient(base_url=platform.url("registry"),
                                 headers={"Authorization": f"Bearer {operator_token}"}) as registry:
        r = await registry.get("/v1/places/tambons/820805")
        missing = await registry.get("/v1/places/tambons/999999")
        [center] = (await registry.get("/v1/centers", params={"tambon_code": "820805"})).json()["items"]
    assert r.status_code == 200
    assert r.json()["path_th"] == "ต.ลำภี › อ.ท้ายเหมือง › จ.พังงา"
    assert r.json()["postal_code"] == "82120"
    assert missing.status_code == 404
    assert center["name_th"] == "ศูนย์ช่วยเหลือสังคมตำบลลำภี" and center["status"] == "active"
