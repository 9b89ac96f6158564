"""Routing on the running platform: a closed center stops receiving cases, a decline re-routes, free-text addresses,
and the supervisors' preview."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from hotline_common import topics
from hotline_common.envelope import ce_headers
from hotline_common.events import CaseDeclined, CaseEscalated
from hotline_devstack import Platform
from hotline_registry.demo import center_id_for
from tests.conftest import a_case, eventually, get_token
from tests.infra import Infra

pytestmark = pytest.mark.e2e
NAKHON_PATHOM = "730101"  # ต.พระปฐมเจดีย์ อ.เมืองนครปฐม: no other test routes cases there


@pytest.fixture
async def supervisor(platform: Platform) -> Any:
    token = await get_token(platform.url("registry"), "supervisor")
    async with httpx.AsyncClient(base_url=platform.url("routing"), timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


async def routings(intake: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    timeline = (await intake.get(f"/v1/cases/{case_id}")).json()["timeline"]
    return sorted((e["detail"] for e in timeline if e["type"] == "routed"), key=lambda d: d["attempt"])


async def report(intake: httpx.AsyncClient, **fields: Any) -> str:
    return (await reported(intake, **fields))["case_id"]


async def reported(intake: httpx.AsyncClient, **fields: Any) -> dict[str, str]:
    response = await intake.post("/v1/cases", json=a_case(**fields))
    assert response.status_code == 201, response.text
    accepted: dict[str, str] = response.json()
    return accepted


async def test_a_center_closed_in_the_registry_stops_receiving_cases_within_seconds(
        admin: httpx.AsyncClient, supervisor: httpx.AsyncClient, intake: httpx.AsyncClient) -> None:
    own = str(center_id_for(NAKHON_PATHOM))
    body = {"location": {"tambon_code": NAKHON_PATHOM}, "category": "elderly", "target_group": "elderly"}
    assert (await supervisor.post("/v1/routing/preview", json=body)).json()["center_id"] == own
    current = await admin.get(f"/v1/centers/{own}")
    record = current.json()
    update = {k: record[k] for k in ("name_th", "name_en", "host_type", "tambon_code", "address", "lat", "lon")}
    closed = await admin.put(f"/v1/centers/{own}", headers={"If-Match": current.headers["ETag"]},
                             json=update | {"status": "closed", "status_reason": "ปิดปรับปรุง renovation"})
    assert closed.status_code == 200, closed.text
    try:
        async def moved() -> bool:
            decision = (await supervisor.post("/v1/routing/preview", json=body)).json()
            return decision["center_id"] != own

        await eventually(moved, timeout=10)
        case_id = await report(intake, location={"tambon_code": NAKHON_PATHOM})
        [first] = await eventually(lambda: routings(intake, case_id))
        assert first["center_id"] != own and first["rule"] == "nearest_same_amphoe"
    finally:
        reopened = await admin.put(f"/v1/centers/{own}", headers={"If-Match": closed.headers["ETag"]},
                                   json=update | {"status": "active"})
        assert reopened.status_code == 200


async def test_declines_move_the_case_on_and_then_to_the_one_home_team(
        intake: httpx.AsyncClient, infra: Infra) -> None:
    accepted = await reported(intake, location={"tambon_code": "570511"})
    case_id = accepted["case_id"]
    [first] = await eventually(lambda: routings(intake, case_id))
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        seen = [first]
        for attempt in (2, 3, 4):
            declined = CaseDeclined(case_id=uuid.UUID(case_id), case_number=accepted["case_number"],
                                    center_id=uuid.UUID(seen[-1]["center_id"]), reason="ไม่มีเจ้าหน้าที่ว่าง")
            headers = [(k, v.encode()) for k, v in ce_headers(declined, source="/hotline/notify").items()]
            await producer.send_and_wait(topics.CASE_DECLINED.name, declined.model_dump_json().encode(),
                                         key=case_id.encode(), headers=headers)
            # Redelivered: still one re-routing per decline.
            await producer.send_and_wait(topics.CASE_DECLINED.name, declined.model_dump_json().encode(),
                                         key=case_id.encode(), headers=headers)
            seen = await eventually(lambda n=attempt: _at_least(intake, case_id, n))
            assert [d["attempt"] for d in seen] == list(range(1, attempt + 1))
    finally:
        await producer.stop()
    centers = [d["center_id"] for d in seen[:3]]
    assert len(set(centers)) == 3 and centers[0] == str(center_id_for("570511"))
    assert seen[3]["rule"] == "one_home" and seen[3]["center_id"] is None
    assert "พัฒนาสังคม" in seen[3]["agency_name_th"]  # the provincial office leads One Home


async def test_an_escalation_asking_for_another_center_reroutes_and_others_do_not(
        intake: httpx.AsyncClient, infra: Infra) -> None:
    """Escalations of one case share a key, so they are handled in order: the level-1 one (re-alert, no re-routing)
    and a stale one (from a center the case has left) must have changed nothing by the time the next is handled."""
    accepted = await reported(intake, location={"tambon_code": "570101"}, description="ไม่มีใครรับเรื่อง ช่วยด้วย")
    case_id, number = accepted["case_id"], accepted["case_number"]
    [first] = await eventually(lambda: routings(intake, case_id))
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()

    async def escalate(level: int, center_id: str, *, reroute: bool) -> None:
        event = CaseEscalated(case_id=uuid.UUID(case_id), case_number=number, level=level,
                              center_id=uuid.UUID(center_id), reroute=reroute, reason="ไม่มีผู้รับทราบ no ack")
        headers = [(k, v.encode()) for k, v in ce_headers(event, source="/hotline/notify").items()]
        await producer.send_and_wait(topics.CASE_ESCALATED.name, event.model_dump_json().encode(),
                                     key=case_id.encode(), headers=headers)

    try:
        await escalate(1, first["center_id"], reroute=False)
        await escalate(2, first["center_id"], reroute=True)
        second = await eventually(lambda: _at_least(intake, case_id, 2))
        assert [d["attempt"] for d in second] == [1, 2]
        assert second[1]["center_id"] not in (None, first["center_id"])
        assert second[1]["priority"] == first["priority"]  # the first assessment stands
        await escalate(3, first["center_id"], reroute=True)  # stale: the case left that center
        await escalate(3, second[1]["center_id"], reroute=True)
        third = await eventually(lambda: _at_least(intake, case_id, 3))
    finally:
        await producer.stop()
    assert [d["attempt"] for d in third] == [1, 2, 3]
    assert len({d["center_id"] for d in third}) == 3
    assert third[2]["center_id"] not in (first["center_id"], second[1]["center_id"])


async def _at_least(intake: httpx.AsyncClient, case_id: str, n: int) -> list[dict[str, Any]] | None:
    found = await routings(intake, case_id)
    return found if len(found) >= n else None


async def test_a_free_text_address_is_routed_and_an_ambiguous_one_is_left_to_a_supervisor(
        intake: httpx.AsyncClient) -> None:
    case_id = await report(intake, location={"text": "บ้านเลขที่ 12 หมู่ 3 ตำบลลำภี อำเภอท้ายเหมือง พังงา 82120"})
    [first] = await eventually(lambda: routings(intake, case_id))
    # Other tests add centers in ลำภี too: the person's sub-district is what the address decides.
    assert first["tambon_code"] == "820805" and first["rule"] == "own_tambon"
    vague = await report(intake, location={"text": "ต.สันกลาง"})

    async def unroutable() -> dict[str, Any] | None:
        timeline = (await intake.get(f"/v1/cases/{vague}")).json()["timeline"]
        return next((e["detail"] for e in timeline if e["type"] == "unroutable"), None)

    detail = await eventually(unroutable)
    assert detail["reason_code"] == "ambiguous_text"
    assert "570511" in {c["tambon_code"] for c in detail["candidates"]}


async def test_preview_explains_and_publishes_nothing(supervisor: httpx.AsyncClient, platform: Platform) -> None:
    body = {"location": {"tambon_code": "570511"}, "category": "domestic_violence", "target_group": "child",
            "description": "เด็กถูกทำร้ายร่างกาย ตอนนี้ถูกขังอยู่ในห้อง"}
    decision = (await supervisor.post("/v1/routing/preview", json=body)).json()
    assert decision["outcome"] == "routed" and decision["priority"] == "P1"
    assert decision["agency_type"] == "children_family_shelter" and decision["explanation"]["agency_rule"]
    assert decision["explanation"]["candidates"][0]["center_id"] == decision["center_id"]
    operator = await get_token(platform.url("registry"), "operator")
    forbidden = await supervisor.post("/v1/routing/preview", json=body, headers={"Authorization": f"Bearer {operator}"})
    assert forbidden.status_code == 403
