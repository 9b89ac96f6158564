"""The same incident through two channels is suggested to the operator, who decides; nothing is merged silently."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from hotline_devstack import Platform
from hotline_gazetteer import gazetteer
from tests.conftest import a_case, get_token

pytestmark = pytest.mark.e2e

# Places no other test reports in: ต.ปอ and ต.หล่ายงาว, อ.เวียงแก่น, จ.เชียงราย (20 km apart).
HERE, ELSEWHERE = "571302", "571303"


def a_child_at(code: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "child_youth", "target_group": "child", "urgency": "P2", "location": {"tambon_code": code},
        "description": "เด็กหญิงอายุราว 7 ขวบ ถูกปล่อยไว้ในบ้านคนเดียวหลายวัน ร้องไห้ทั้งคืน",
        "caller": {"phone": f"08{uuid.uuid4().int % 10**8:08d}"}}  # a different person each time
    return a_case(**(body | overrides))


async def report(intake: httpx.AsyncClient, body: dict[str, Any]) -> str:
    r = await intake.post("/v1/cases", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


async def related(intake: httpx.AsyncClient, case_id: str) -> dict[str, dict[str, Any]]:
    r = await intake.get(f"/v1/cases/{case_id}/related")
    assert r.status_code == 200, r.text
    return {item["case_id"]: item for item in r.json() if item["kind"] == "possible_duplicate"}


async def test_a_call_and_a_line_message_about_the_same_child_are_suggested_and_the_operator_decides(
        intake: httpx.AsyncClient, platform: Platform) -> None:
    tambon = gazetteer().tambon(HERE)
    assert tambon is not None and gazetteer().tambon(ELSEWHERE) is not None
    call = await report(intake, a_child_at(HERE))
    # A LINE location a few hundred metres from the sub-district's centre, from someone else.
    line = await report(intake, a_child_at(HERE, channel="line", caller=None,
                                           location={"lat": tambon.lat + 0.003, "lon": tambon.lon + 0.002}))
    other_place = await report(intake, a_child_at(ELSEWHERE))
    other_people = await report(intake, a_child_at(HERE, category="elderly", target_group="elderly",
                                                   description="ยายอายุ 80 ปี อยู่บ้านคนเดียว ไม่มีคนดูแล"))

    suggested = await related(intake, line)
    assert set(suggested) == {call}, suggested  # not the other place, not the elderly woman
    assert suggested[call]["score"] >= 0.6 and suggested[call]["decision"] is None
    assert line in await related(intake, call)  # the earlier case shows it too
    assert await related(intake, other_place) == {} and call not in await related(intake, other_people)

    # Nothing is merged until the operator decides: both cases go on as two.
    assert (await intake.get(f"/v1/cases/{call}")).json()["status"] != "merged"
    r = await intake.post(f"/v1/cases/{line}/related/{call}/decision", json={"decision": "same_incident"})
    assert r.status_code == 204, r.text
    for case_id, other in ((line, call), (call, line)):
        assert (await related(intake, case_id))[other]["decision"] == "same_incident"
        timeline = (await intake.get(f"/v1/cases/{case_id}")).json()["timeline"]
        linked = [e for e in timeline if e["type"] == "linked"]
        assert [(e["detail"]["decision"], e["detail"]["by"]) for e in linked] == [("same_incident", "operator")]

    # A pair never suggested cannot be decided; an unknown decision names the field.
    r = await intake.post(f"/v1/cases/{call}/related/{other_place}/decision", json={"decision": "same_incident"})
    assert r.status_code == 404 and "not suggested" in r.text
    r = await intake.post(f"/v1/cases/{line}/related/{call}/decision", json={"decision": "merge"})
    assert r.status_code == 422 and "decision" in r.text

    # Center staff of another center cannot see, nor decide on, these cases.
    token = await get_token(platform.url("registry"), "center")
    async with httpx.AsyncClient(base_url=platform.url("intake"), timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as center:
        r = await center.post(f"/v1/cases/{line}/related/{call}/decision", json={"decision": "different"})
        assert r.status_code == 404 and (await center.get(f"/v1/cases/{line}/related")).status_code == 404


async def test_a_different_incident_is_no_longer_suggested(intake: httpx.AsyncClient) -> None:
    first = await report(intake, a_child_at(HERE, channel="walk_in"))
    second = await report(intake, a_child_at(HERE))
    assert first in await related(intake, second)
    r = await intake.post(f"/v1/cases/{first}/related/{second}/decision", json={"decision": "different"})
    assert r.status_code == 204, r.text
    assert first not in await related(intake, second) and second not in await related(intake, first)
